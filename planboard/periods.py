"""Reporting periods, the one home of their boundaries and due times.

A period is named by its first day: an ISO week's Monday, or a month's first. A plan year's weekly
periods are the ISO weeks of that ISO year (2022: 3 January 2022 to 1 January 2023); its monthly
periods are January to December.
"""

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    """How often an indicator is reported (actions.choices re-exports it for the plan)."""

    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


def period_start(day: datetime.date, frequency: str) -> datetime.date:
    if frequency == Frequency.WEEKLY:
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1)


def reporting_period(day: datetime.date, frequency: str) -> datetime.date:
    """The period whose report is due around `day`: the current week, or the month that ended last."""
    if frequency == Frequency.WEEKLY:
        return period_start(day, frequency)
    return period_start(day.replace(day=1) - datetime.timedelta(days=1), frequency)


def period_end(start: datetime.date, frequency: str) -> datetime.date:
    """The last day of the period that starts on `start`."""
    if frequency == Frequency.WEEKLY:
        return start + datetime.timedelta(days=6)
    next_month = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def due_at(plan, start: datetime.date, frequency: str) -> datetime.datetime:
    """When the report of a period is due, in the current time zone.

    Weekly: the plan's weekday of that week at its due time (周调度). Monthly: the plan's day of the
    following month at its due time (月通报).
    """
    if frequency == Frequency.WEEKLY:
        day = start + datetime.timedelta(days=plan.report_weekday)
    else:
        day = (period_end(start, frequency) + datetime.timedelta(days=1)).replace(day=plan.monthly_report_day)
    return timezone.make_aware(datetime.datetime.combine(day, plan.report_due_time))


def periods_until(year: int, frequency: str, until: datetime.date) -> list[datetime.date]:
    """The periods of a plan year that have started on or before `until`.

    Weekly periods are the ISO weeks of the ISO year `year` (2022: 3 Jan 2022 to 1 Jan 2023).
    """
    starts = []
    if frequency == Frequency.WEEKLY:
        day = datetime.date.fromisocalendar(year, 1, 1)
        while day.isocalendar().year == year and day <= until:
            starts.append(day)
            day += datetime.timedelta(days=7)
    else:
        for month in range(1, 13):
            day = datetime.date(year, month, 1)
            if day > until:
                break
            starts.append(day)
    return starts


def year_start(year: int, frequency: str) -> datetime.date:
    """The first period of a plan year: ISO week 1's Monday, or 1 January."""
    if frequency == Frequency.WEEKLY:
        return datetime.date.fromisocalendar(year, 1, 1)
    return datetime.date(year, 1, 1)


def previous_period(start: datetime.date, frequency: str) -> datetime.date:
    if frequency == Frequency.WEEKLY:
        return start - datetime.timedelta(days=7)
    return period_start(start - datetime.timedelta(days=1), frequency)


def next_period(start: datetime.date, frequency: str) -> datetime.date:
    return period_end(start, frequency) + datetime.timedelta(days=1)


def year_last(year: int, frequency: str) -> datetime.date:
    """The last period of a plan year: the Monday of the ISO year's last week, or 1 December."""
    if frequency == Frequency.WEEKLY:
        return datetime.date.fromisocalendar(year, datetime.date(year, 12, 28).isocalendar().week, 1)
    return datetime.date(year, 12, 1)


def in_plan_year(day: datetime.date, frequency: str, year: int) -> bool:
    """Whether the period containing `day` is one of the plan year's: the one rule for dates a user may name.

    Safe for any date, 0001-01-01 and 9999-12-31 included (nothing is computed past the period's start).
    """
    start = period_start(day, frequency)
    if frequency == Frequency.WEEKLY:
        return start.isocalendar().year == year
    return start.year == year
