from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache


@login_not_required
@never_cache
def healthz(request):
    """For load balancers and monitors: the app answers, without login or database. Also the bench's floor."""
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    """The landing page after signing in: the overview (with the as-of week asked for, if any)."""
    url = reverse("metrics:overview")
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)
