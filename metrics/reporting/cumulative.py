"""Cumulative entry: where staff type the year-to-date cumulative, that typed figure is the figure of record.

A Figure stores the period's own amount (the roll-up sums amounts). For an indicator entered as a
cumulative the amount is derived: typed cumulative − cumulative before the period. Correcting an earlier
period must therefore re-derive the amount of the next period reported after it, so that every later
typed cumulative, and the actual, stay what staff typed (10, 25, 45, 70 with March corrected to 50 gives
amounts 10, 15, 25, 20: the actual is still 70). Only the next reported period changes: the amounts after
it are differences of typed cumulatives that did not change.

A later period's lock does not stop the re-derivation: its typed cumulative does not change, only the
derived amount; the correction itself went through the corrected period's own lock and reopen.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from actions.choices import EntryMode
from metrics.choices import FigureState
from metrics.models import Figure
from planboard.formatting import amount as format_decimal
from planboard.periods import Frequency, period_end, year_start


@dataclass
class Rederived:
    """What re-deriving found: the later figures whose amounts change, and the cells refused, by input name."""

    rows: list[Figure]
    errors: dict[str, str]


def period_label(start: datetime.date, frequency: str) -> str:
    """A period as staff name it: 2022-04 for a month, 2022-05-16–2022-05-22 for a week."""
    if frequency == Frequency.MONTHLY:
        return f"{start:%Y-%m}"
    return f"{start.isoformat()}–{period_end(start, frequency).isoformat()}"


def rederive_later(*, department, frequency: str, year: int, start: datetime.date, figures: list[Figure], assignments) -> Rederived:
    """The later figures whose derived amounts change when `figures` (the period's rows about to be written)
    are saved, with their new amounts; a correction that would make a later typed cumulative fall below
    this one is refused, naming that period. One query, and none when no cumulative-entry cell changed."""
    changed = {
        f.indicator_id: f
        for f in figures
        if assignments[f.indicator_id].indicator.is_summed and assignments[f.indicator_id].indicator.entry_mode == EntryMode.CUMULATIVE
    }
    if not changed:
        return Rederived(rows=[], errors={})
    stored: dict[int, list[Figure]] = {}
    for figure in (
        Figure.objects.select_for_update()
        .filter(
            department=department,
            indicator_id__in=list(changed),
            state=FigureState.REPORTED,
            period_start__gte=year_start(year, frequency),
            period_start__lt=year_start(year + 1, frequency),
        )
        .order_by("period_start")
    ):
        stored.setdefault(figure.indicator_id, []).append(figure)
    rows, errors = [], {}
    now = timezone.now()
    for indicator_id, figure in changed.items():
        # What is stored now, before this save: the later typed cumulatives rest on it.
        year_rows = stored.get(indicator_id, [])
        next_figure = next((f for f in year_rows if f.period_start > start), None)
        if next_figure is None:
            continue
        typed_later = sum((f.value for f in year_rows if f.period_start <= next_figure.period_start), Decimal("0"))
        before = sum((f.value for f in year_rows if f.period_start < start), Decimal("0"))
        new_through = before + (figure.value if figure.state == FigureState.REPORTED else Decimal("0"))
        amount = typed_later - new_through
        if amount < 0:
            errors[f"v-{indicator_id}"] = _(
                "This cumulative is higher than the cumulative already reported for a later period, %(period)s (%(later)s). "
                "Correct that period first, or enter at most %(later)s here."
            ) % {"period": period_label(next_figure.period_start, frequency), "later": format_decimal(typed_later)}
            continue
        if amount == next_figure.value:
            continue
        next_figure.value = amount
        next_figure.version += 1
        next_figure.updated = now
        next_figure._change_reason = _("Amount re-derived: the cumulative of %(period)s was corrected") % {
            "period": period_label(start, frequency)
        }
        rows.append(next_figure)
    return Rederived(rows=rows, errors=errors)

