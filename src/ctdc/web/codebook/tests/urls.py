"""The codebook mounted where the portal mounts it, for tests."""

from django.urls import include, path

urlpatterns = [path("codebook/", include("ctdc.web.codebook.urls"))]
