"""Reads of notifications: the delivery log (the office's), and the deliveries of each 催办."""

from django.db.models import QuerySet

from metrics.models import Delivery


def deliveries() -> QuerySet[Delivery]:
    """Every delivery, newest first, with who and which channel (one query per page)."""
    return Delivery.objects.select_related("recipient", "channel__department", "department").order_by("-sent_at", "-pk")


def reminder_delivery_counts(reminder_ids) -> dict[int, tuple[int, int]]:
    """Per reminder (催办): how many deliveries went through and how many failed."""
    counts: dict[int, list[int]] = {}
    for reminder_id, ok in Delivery.objects.filter(reminder_id__in=list(reminder_ids)).values_list("reminder_id", "ok"):
        pair = counts.setdefault(reminder_id, [0, 0])
        pair[0 if ok else 1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}
