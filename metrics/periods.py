"""Reporting periods. A period is named by its first day: an ISO week's Monday, or a month's first."""

import datetime

from actions.choices import Frequency


def period_start(day: datetime.date, frequency: str) -> datetime.date:
    if frequency == Frequency.WEEKLY:
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1)


def reporting_period(day: datetime.date, frequency: str) -> datetime.date:
    """The period whose report is due around `day`: the current week, or the month that ended last."""
    if frequency == Frequency.WEEKLY:
        return period_start(day, frequency)
    return period_start(day.replace(day=1) - datetime.timedelta(days=1), frequency)


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
