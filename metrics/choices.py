from django.db import models
from django.utils.translation import gettext_lazy as _


class FigureState(models.TextChoices):
    """The explicit states of a cell. A missing Figure row is the third state: not reported."""

    REPORTED = "reported", _("Reported")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
