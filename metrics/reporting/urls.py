"""Reporting URLs (namespace metrics, under /report/): the sheet, its review and reopening, history, Excel."""

from django.urls import path

from metrics.reporting import views

urlpatterns = [
    path("", views.entry, name="entry"),
    path("queue/", views.queue, name="queue"),
    path("sheets/<int:pk>/review/", views.sheet_review, name="sheet_review"),
    path("reopen/", views.reopen_request, name="reopen_request"),
    path("reopen/<int:pk>/decide/", views.reopen_decide, name="reopen_decide"),
    path("figures/<int:pk>/history/", views.figure_history, name="figure_history"),
    path("notes/<int:pk>/history/", views.note_history, name="note_history"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("xlsx/", views.xlsx_download, name="xlsx_download"),
    path("xlsx/upload/", views.xlsx_upload, name="xlsx_upload"),
]
