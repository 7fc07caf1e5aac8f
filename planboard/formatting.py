"""How numbers are printed: the one place, so that pages, exports, charts and progress_report agree.

Templates print through the filters of planboard.templatetags.planboard_format, which call these.
An indicator's progress is read by its measure (`Measure`): amounts and counts as completion against
序时进度, caps as the share of the allowance used against it, rates as the actual rate against the target
rate with the gap in percentage points (never a completion % beside 序时), milestones as nodes on time.
"""

from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

from planboard.periods import Frequency

DASH = "—"


class Measure(StrEnum):
    """How an indicator's progress is read (actions.models.Indicator.measure picks it from kind and direction)."""

    AMOUNT = "amount"  # amounts and counts, higher is better: completion against 序时进度
    CAP = "cap"  # amounts and counts, lower is better: the share of the allowance used against 序时进度
    RATE = "rate"  # growth rates and ratios: the actual rate against the target rate
    MILESTONE = "milestone"  # nodes done on time ÷ nodes due


def pct(value: float | None) -> str:
    """A percentage or percentage-point figure with one decimal, or a dash."""
    if value is None:
        return DASH
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text  # a value that rounds to zero has no sign


def signed_pct(value: float | None) -> str:
    """A gap in points with its sign (+2.0 / -3.5; 0.0 unsigned), or a dash."""
    if value is None:
        return DASH
    text = pct(value)
    return text if text.startswith("-") or text == "0.0" else f"+{text}"


def amount(value) -> str:
    """An amount as entered (up to four decimals, no trailing zeros), or a dash."""
    if value is None:
        return DASH
    text = f"{Decimal(str(value)).quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pace(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def progress(measure: str, row) -> str:
    """One indicator's (or one department's) progress in words, read for its measure.

    `row` is a stored progress row (completion_pct, schedule_pct, actual, target, gap_pp). A dash when
    the row has nothing to read yet (its `reason` says why).
    """
    gap = signed_pct(row.gap_pp)
    if measure == Measure.RATE:
        if row.actual is None:
            return DASH
        return _("actual %(actual)s%%, target %(target)s%%, gap %(gap)s points") % {
            "actual": pct(float(row.actual)), "target": pct(None if row.target is None else float(row.target)), "gap": gap,
        }
    if row.completion_pct is None:
        return DASH
    if measure == Measure.MILESTONE:
        return _("milestones on time %(completion)s%%, gap %(gap)s points") % {"completion": pct(row.completion_pct), "gap": gap}
    if measure == Measure.CAP:
        return _("used %(completion)s%% of the allowance, schedule %(schedule)s%%, gap %(gap)s points") % {
            "completion": pct(row.completion_pct), "schedule": pct(row.schedule_pct), "gap": gap,
        }
    return _("done %(completion)s%%, schedule %(schedule)s%%, gap %(gap)s points") % {
        "completion": pct(row.completion_pct), "schedule": pct(row.schedule_pct), "gap": gap,
    }


def period(start, frequency: str) -> str:
    """A reporting period by its first day: the month (2022-03) or the ISO week (2022-05-09 当周)."""
    if start is None:
        return DASH
    if frequency == Frequency.MONTHLY:
        return f"{start:%Y-%m}"
    return _("week of %(day)s") % {"day": start.isoformat()}


def chart_pct(value: float | None) -> float | None:
    """A chart value rounded as pages print it (`pct`), or None (null in the chart)."""
    return None if value is None else float(pct(value))


def chart_amount(value) -> float | None:
    """An amount for a chart, rounded as pages print it (`amount`), or None."""
    return None if value is None else float(amount(value))
