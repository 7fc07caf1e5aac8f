"""The delivery log (the supervision office's): who was told what, when, through which channel."""

from django.shortcuts import render
from django_tables2 import RequestConfig

from metrics import permissions
from metrics.notifications.filtersets import DeliveryFilterSet
from metrics.notifications.selectors import deliveries as deliveries_selector
from metrics.notifications.tables import DeliveryTable


def deliveries(request):
    """Read-only, filterable by department; the supervision office only."""
    permissions.require(permissions.can_read_deliveries(request.user))
    filterset = DeliveryFilterSet(request.GET or None, queryset=deliveries_selector())
    table = DeliveryTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "notifications/deliveries.html", {"filter": filterset, "table": table})
