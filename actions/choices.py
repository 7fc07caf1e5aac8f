from django.db import models
from django.utils.translation import gettext_lazy as _

from planboard.periods import Frequency  # noqa: F401 (re-exported: the plan's reporting frequencies)


class DepartmentKind(models.TextChoices):
    DEPARTMENT = "department", _("Department")
    PARK = "park", _("Park")
    STREET = "street", _("Street / town")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CLOSED = "closed", _("Closed off (verified)")


class IndicatorKind(models.TextChoices):
    AMOUNT = "amount", _("Cumulative amount")
    COUNT = "count", _("Count")
    GROWTH_RATE = "growth_rate", _("Growth rate")
    RATIO = "ratio", _("Ratio")
    MILESTONE = "milestone", _("Milestones")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class EntryMode(models.TextChoices):
    """What staff type for an amount or count; the other is derived (figures store the period amount)."""

    PERIOD = "period", _("Amount of the period")
    CUMULATIVE = "cumulative", _("Cumulative to date")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


# Kinds whose figures are period amounts summed into a cumulative total, and whose target may be
# split between departments and phased by month.
SUMMED_KINDS = frozenset({IndicatorKind.AMOUNT, IndicatorKind.COUNT})
# Kinds whose figures are year-to-date rates in percent, judged against a target rate (never against 序时进度).
RATE_KINDS = frozenset({IndicatorKind.GROWTH_RATE, IndicatorKind.RATIO})
