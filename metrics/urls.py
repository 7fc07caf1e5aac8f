from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.entry, name="entry"),
    path("queue/", views.queue, name="queue"),
    path("sheets/<int:pk>/review/", views.review, name="review"),
    path("reopen/", views.reopen_ask, name="reopen_request"),
    path("reopen/<int:pk>/decide/", views.reopen_answer, name="reopen_decide"),
    path("figures/<int:pk>/history/", views.figure_history, name="figure_history"),
    path("notes/<int:pk>/history/", views.note_history, name="note_history"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("xlsx/", views.xlsx_download, name="xlsx_download"),
    path("xlsx/upload/", views.xlsx_upload, name="xlsx_upload"),
]

# Dashboards (read-only, every signed-in role).
urlpatterns += [
    path("indicators/<int:pk>/", views.indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/chart.json", views.indicator_data, name="indicator_data"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("departments/<int:pk>/chart.json", views.department_data, name="department_data"),
    path("rankings/", views.rankings, name="rankings"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/remind/", views.remind, name="remind"),
]
