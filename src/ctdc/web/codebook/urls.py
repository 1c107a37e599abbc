"""Include with `path("codebook/", include("ctdc.web.codebook.urls"))`."""

from django.urls import path

from ctdc.web.codebook import views

app_name = "codebook"

urlpatterns = [
    path("", views.codebook_index, name="index"),
    path("download/<str:fmt>", views.codebook_download, name="download"),
    path("template/<str:fmt>", views.codebook_template_download, name="template"),
    path("codelists/<str:name>/", views.codebook_codelist, name="codelist"),
    path("<str:dataset>/", views.codebook_dataset, name="dataset"),
    path("<str:dataset>/<str:field>/", views.codebook_field, name="field"),
]
