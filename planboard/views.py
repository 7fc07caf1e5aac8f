from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from planboard import roles


@login_not_required
@never_cache
def healthz(request):
    """For load balancers and monitors: the app answers, without login or database. Also the bench's floor."""
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    """The landing page after signing in, by role: leaders read the overview (with the as-of week asked
    for, if any); department staff and the supervision office land on their 我的待办 (inbox). The pages
    are named, not imported: the project package imports no app."""
    if roles.is_leader(request.user) or not (roles.is_staff_member(request.user) or roles.is_supervisor(request.user)):
        url = reverse("metrics:overview")
        query = request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(f"{url}?{query}" if query else url)
    return HttpResponseRedirect(reverse("metrics:inbox"))


def bad_request(request, exception, template_name="400.html"):
    """The 400 page, saying why for the BadRequest this app raises itself (other 400s keep their reasons unsaid)."""
    reason = str(exception) if type(exception) is BadRequest else ""
    return render(request, template_name, {"reason": reason}, status=400)
