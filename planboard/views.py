from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@login_not_required
@never_cache
def healthz(request):
    """For load balancers and monitors: the app answers, without login or database. Also the bench's floor."""
    return HttpResponse("ok", content_type="text/plain")
