from django.db import models
from django.utils.translation import gettext_lazy as _


class FigureState(models.TextChoices):
    """The explicit states of a cell. A missing Figure row is the third state: not reported."""

    REPORTED = "reported", _("Reported")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class SheetStatus(models.TextChoices):
    """Where a department's report sheet is in its review."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


class ReopenStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
