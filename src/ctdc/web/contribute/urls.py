from django.urls import path

from ctdc.web.contribute import views

urlpatterns = [
    path("", views.contribute, name="contribute"),
    path("agreement/", views.agreement, name="contribute-agreement"),
]
