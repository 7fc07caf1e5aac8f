"""Listeners connected in MetricsConfig.ready(): reporting's signals queue the notifications' tasks."""

import logging

from django.dispatch import receiver

from metrics.reporting.signals import sheet_returned
from metrics.tasks import notify_sheet_returned

logger = logging.getLogger(__name__)


@receiver(sheet_returned, dispatch_uid="notifications-sheet-returned")
def queue_sheet_returned(sender, sheet, **kwargs):
    """Queue the immediate message; if the broker is down the digest still lists the returned sheet."""
    try:
        notify_sheet_returned.delay(sheet.pk)
    except Exception as exc:  # noqa: BLE001 (the review stands; tomorrow's digest carries the sheet)
        logger.warning("Message for returned sheet %s not queued: %r", sheet.pk, exc)
