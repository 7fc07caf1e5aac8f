"""The metrics app's URLs, one namespace (metrics) and one prefix per job."""

from django.urls import include, path

app_name = "metrics"

urlpatterns = [
    path("report/", include("metrics.reporting.urls")),
    path("dashboards/", include("metrics.dashboards.urls")),
    path("supervision/", include("metrics.supervision.urls")),
    path("inbox/", include("metrics.inbox.urls")),
    path("notifications/", include("metrics.notifications.urls")),
    path("supervision/", include("metrics.closeoff.urls")),
]
