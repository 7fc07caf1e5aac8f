from django.urls import path

from actions import views

app_name = "actions"

urlpatterns = [
    path("overview.json", views.overview_data, name="overview_data"),
    path("<int:number>/", views.ActionDetailView.as_view(), name="action_detail"),
    path("<int:number>/chart.json", views.action_data, name="action_data"),
]
