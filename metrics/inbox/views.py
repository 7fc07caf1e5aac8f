"""我的待办: the landing page of staff and the supervision office (planboard.views.home sends them here)."""

from django.shortcuts import render

from metrics.inbox.selectors import inbox_items
from planboard.clock import today


def inbox(request):
    """The signed-in person's own inbox (nobody sees another's): the same object the daily digest prints."""
    return render(request, "inbox/inbox.html", {"inbox": inbox_items(user=request.user, today=today())})
