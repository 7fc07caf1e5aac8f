"""The project's URLs. The apps' URLconfs are included by name, so the project package imports no app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from planboard.views import healthz, home


def _moved(pattern_name: str) -> RedirectView:
    """Pages that moved keep their old address: a permanent redirect, query string (the as-of week) kept."""
    return RedirectView.as_view(pattern_name=pattern_name, permanent=True, query_string=True)


# Addresses of the dashboards before they moved under /dashboards/ and /supervision/; `actions:action_detail`
# still reverses (to the old address, which redirects).
legacy = [
    path("report/indicators/<int:pk>/", _moved("metrics:indicator_detail")),
    path("report/departments/<int:pk>/", _moved("metrics:department_detail")),
    path("report/rankings/", _moved("metrics:rankings")),
    path("report/supervision/", _moved("metrics:supervision")),
    path("actions/", include(([path("<int:number>/", _moved("metrics:action_detail"), name="action_detail")], "actions"))),
]

# A BadRequest raised by a view shows its reason (the default 400 page says nothing).
handler400 = "planboard.views.bad_request"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Anyone may switch language, including on the login page.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    *legacy,
    path("", include("metrics.urls")),
]
