"""Sign-in protection (django-axes) glue: the client's address behind the proxy, and the lockout page."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request) -> str | None:
    """The address a sign-in comes from, for the per-address lockout.

    Behind the reverse proxy (PLANBOARD_BEHIND_PROXY) every request comes from the proxy, so the last
    X-Forwarded-For entry, the one the proxy itself appended, is the client's; entries before it are whatever
    the client sent and are ignored. Without a proxy, the connection's own address.
    """
    if settings.PLANBOARD_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page after too many failed sign-ins (429), for the site's login and the admin's alike."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0
    if minutes:
        message = _(
            "Too many failed sign-ins for this account or from this address: signing in is blocked for %(minutes)s minutes. "
            "An administrator can lift the block sooner."
        ) % {"minutes": minutes}
    else:
        message = _("Too many failed sign-ins for this account or from this address: ask an administrator to lift the block.")
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
