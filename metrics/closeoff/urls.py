"""销号 and 延期 URLs (namespace metrics, under /supervision/ beside the supervision page's)."""

from django.urls import path

from metrics.closeoff import views

urlpatterns = [
    path("closeoff/", views.closeoff_requests, name="closeoff_requests"),
    path("closeoff/<int:pk>/decide/", views.closeoff_decide, name="closeoff_decide"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
    path("tasks/<int:pk>/", views.task_closeoff, name="task_closeoff"),
    path("tasks/<int:pk>/closeoff/", views.closeoff_request, name="closeoff_request"),
    path("tasks/<int:pk>/extension/", views.extension_request, name="extension_request"),
]
