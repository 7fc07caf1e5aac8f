"""What reporting announces to whoever listens (notifications), so that reporting imports none of them."""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent after the commit that returned a sheet for correction, with `sheet`.
sheet_returned = Signal()


def sheet_returned_announce(sheet) -> None:
    """Tell the listeners; a listener that fails is logged, never turned into an error of the review."""
    for receiver, result in sheet_returned.send_robust(sender=type(sheet), sheet=sheet):
        if isinstance(result, Exception):
            logger.error("sheet_returned receiver %r failed for sheet %s: %r", receiver, sheet.pk, result)
