"""Dashboard URLs (namespace metrics, under /dashboards/): read-only pages for every signed-in role."""

from django.urls import path

from metrics.dashboards import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("actions/<int:number>/", views.ActionDetailView.as_view(), name="action_detail"),
    path("indicators/<int:pk>/", views.indicator_detail, name="indicator_detail"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("rankings/", views.rankings, name="rankings"),
]
