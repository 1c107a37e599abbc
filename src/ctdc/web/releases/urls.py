from django.urls import path

from ctdc.web.releases import views

urlpatterns = [
    path("", views.catalogue, name="data-catalogue"),
    path("terms/", views.terms, name="data-terms"),
    path("steward/", views.steward, name="data-steward"),
    path("steward/action/", views.steward_action, name="data-steward-action"),
    path("steward/<slug:dataset>/<str:version>/", views.steward_report, name="data-steward-report"),
    path("<slug:dataset>/latest/", views.latest, name="data-latest"),
    path("<slug:dataset>/latest/files/<str:name>", views.latest, name="data-latest-file"),
    path("<slug:dataset>/<str:version>/", views.report, name="data-report"),
    path("<slug:dataset>/<str:version>/files/<str:name>", views.download, name="data-file"),
]
