"""Listeners connected in MetricsConfig.ready(): reporting's and the ladder's signals queue the notifications' tasks."""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import receiver

from metrics.reporting.signals import sheet_returned
from metrics.supervision.orders import order_turned_red
from metrics.tasks import notify_red_orders, notify_sheet_returned

logger = logging.getLogger(__name__)


@receiver(sheet_returned, dispatch_uid="notifications-sheet-returned")
def queue_sheet_returned(sender, sheet, **kwargs):
    """Queue the immediate message; if the broker is down the digest still lists the returned sheet."""
    try:
        notify_sheet_returned.delay(sheet.pk)
    except Exception as exc:  # noqa: BLE001 (the review stands; tomorrow's digest carries the sheet)
        logger.warning("Message for returned sheet %s not queued: %r", sheet.pk, exc)


def _queue_red_orders(order_ids: list[int]) -> None:
    try:
        notify_red_orders.delay(order_ids)
    except Exception as exc:  # noqa: BLE001 (the orders stand; the digest and the inbox list them)
        logger.warning("Messages for red orders %s not queued: %r", order_ids, exc)


@receiver(order_turned_red, dispatch_uid="notifications-red-orders")
def queue_red_orders(sender, orders, **kwargs):
    """Orders that turned red: their units are told at once, once the ladder's run has committed."""
    transaction.on_commit(partial(_queue_red_orders, [order.pk for order in orders]))
