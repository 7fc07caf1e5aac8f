"""Template context every page gets from the metrics app."""

from metrics.dashboards.selectors import stale_rollups


def stale_banner(request):
    """The stale marks, for the banner in base.html: shown to anyone signed in, on every page."""
    if not request.user.is_authenticated:
        return {}
    return {"stale_rollups": stale_rollups()}
