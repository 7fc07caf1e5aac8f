"""序时进度 (schedule progress): the one definition of how much of an indicator's annual target is due by a day.

Every page, export, command and SQL statement takes its schedule from here: the roll-up passes these
shares to its SQL as parameters, the staff sheet and the overview call the same functions.

The rules (see shared/DOMAIN.md):

* The day figures are judged on (`judged_on`) for an as-of week: the week's Sunday once it has ended, today
  while it is in progress; for the week holding the half-year checkpoint, the checkpoint itself once it has
  passed (30 June is judged on 30 June, whatever weekday it is and whenever the roll-up runs). A past
  week's numbers never depend on the day they were rolled up.
* Monthly indicators: months ended by that day ÷ 12 (1–4月 = 33.3 %).
* Weekly indicators: days of the calendar year elapsed by that day, the day included ÷ days in the year
  (the annual target is the calendar year's, so 1 and 2 January 2022 count although ISO week 1 starts on
  3 January: the schedule is about time passed, the weeks only about when figures are reported).
* Amounts and counts with phased monthly targets: the cumulative target of the months ended (monthly),
  or interpolated by day within the month (weekly), ÷ the annual target.
"""

import datetime

from actions.choices import SUMMED_KINDS, Frequency


def judged_on(*, week_start: datetime.date, today: datetime.date, checkpoint: datetime.date | None = None) -> datetime.date:
    """The day an as-of week's figures are judged on: its Sunday, or today while the week is in progress; the
    checkpoint for the week that holds it, once the checkpoint has passed."""
    day = min(week_start + datetime.timedelta(days=6), today)
    if checkpoint is not None and week_start <= checkpoint < day:
        return checkpoint
    return day


def months_ended(day: datetime.date, year: int) -> int:
    """How many months of `year` have ended by the end of `day` (0 to 12)."""
    if day.year < year:
        return 0
    if day.year > year:
        return 12
    last_day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    return day.month if day == last_day else day.month - 1


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def plain_share(*, frequency: str, year: int, day: datetime.date) -> float:
    """The share of the year elapsed by `day` for an indicator without phased targets (0 to 1)."""
    if frequency == Frequency.MONTHLY:
        return months_ended(day, year) / 12
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    if day < first:
        return 0.0
    if day >= last:
        return 1.0
    return ((day - first).days + 1) / ((last - first).days + 1)


def is_phased(indicator) -> bool:
    return bool(indicator.monthly_targets) and indicator.kind in SUMMED_KINDS and bool(indicator.annual_target)


def schedule_share(indicator, year: int, as_of: datetime.date) -> float:
    """The share of the annual target due by `as_of` (序时进度, 0 to 1), phased monthly targets honoured."""
    if not is_phased(indicator):
        return plain_share(frequency=indicator.frequency, year=year, day=as_of)
    annual = float(indicator.annual_target)
    targets = [float(v) for v in indicator.monthly_targets]
    if indicator.frequency == Frequency.MONTHLY:
        months = months_ended(as_of, year)
        return targets[months - 1] / annual if months else 0.0
    if as_of < datetime.date(year, 1, 1):
        return 0.0
    if as_of >= datetime.date(year, 12, 31):
        return 1.0
    month_start = as_of.replace(day=1)
    days_in_month = (add_months(month_start, 1) - month_start).days
    before = targets[as_of.month - 2] if as_of.month > 1 else 0.0
    return (before + (targets[as_of.month - 1] - before) * as_of.day / days_in_month) / annual


def schedule_pct(indicator, year: int, as_of: datetime.date) -> float:
    """序时进度 in percent, as pages print it."""
    return schedule_share(indicator, year, as_of) * 100
