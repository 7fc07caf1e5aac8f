"""Dashboard URLs (namespace metrics, under /dashboards/): read-only pages for every signed-in role."""

from django.urls import path

from metrics.dashboards import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview.json", views.overview_data, name="overview_data"),
    path("actions/<int:number>/", views.ActionDetailView.as_view(), name="action_detail"),
    path("actions/<int:number>/chart.json", views.action_data, name="action_data"),
    path("indicators/<int:pk>/", views.indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/chart.json", views.indicator_data, name="indicator_data"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("departments/<int:pk>/chart.json", views.department_data, name="department_data"),
    path("rankings/", views.rankings, name="rankings"),
]
