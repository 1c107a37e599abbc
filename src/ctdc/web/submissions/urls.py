from django.urls import path

from ctdc.web.submissions import views

urlpatterns = [
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/new/", views.submission_new, name="submission_new"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/progress.json", views.submission_progress, name="submission_progress"),
    path("submissions/<int:pk>/reprocess/", views.submission_reprocess, name="submission_reprocess"),
    path("submissions/<int:pk>/approve/", views.submission_decide, {"decision": "approve"}, name="submission_approve"),
    path("submissions/<int:pk>/reject/", views.submission_decide, {"decision": "reject"}, name="submission_reject"),
    path("submissions/<int:pk>/suggest-mapping/", views.submission_suggest_mapping, name="submission_suggest_mapping"),
    path("submissions/<int:pk>/report/", views.submission_report, name="submission_report"),
    path("submissions/<int:pk>/report.csv", views.submission_report_csv, name="submission_report_csv"),
    path("submissions/<int:pk>/quarantine.csv", views.submission_quarantine_csv, name="submission_quarantine_csv"),
    path("submissions/<int:pk>/report.json", views.submission_report_json, name="submission_report_json"),
    path("mappings/", views.mapping_list, name="mapping_list"),
    path("mappings/new/", views.mapping_edit, name="mapping_new"),
    path("mappings/<int:pk>/", views.mapping_edit, name="mapping_edit"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/<int:pk>/decide/", views.duplicate_decide, name="duplicate_decide"),
    path("organisations/<slug:slug>/quality/", views.organisation_quality, name="organisation_quality"),
]
