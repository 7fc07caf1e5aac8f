"""Roll-up runs: which weeks to compute, full, range, incremental and catch-up runs, and the stale mark.

The math is in metrics.rollup.engine; these functions choose the weeks and keep the stale mark.
"""

import datetime
import logging
from collections.abc import Callable

from django.db import transaction

from actions.models import IndicatorDepartment, Plan
from metrics.models import Rollup, StaleRollup
from metrics.rollup.engine import Week, rollup_week
from planboard import clock
from planboard.periods import Frequency, period_start

logger = logging.getLogger(__name__)


WEEK = datetime.timedelta(days=7)


def _plan_row(plan: Plan, week: Week) -> Rollup:
    return Rollup.objects.get(plan=plan, week=week.start, subject=f"plan:{plan.pk}")


def _weeks(plan: Plan, first: datetime.date, last: datetime.date) -> list[Week]:
    """The as-of weeks from the week of `first` to the week of `last`, never past today."""
    now = clock.today()
    last = min(last, now)
    start = max(period_start(first, Frequency.WEEKLY), datetime.date.fromisocalendar(plan.year, 1, 1))
    weeks = []
    while start <= last:
        weeks.append(Week.of(plan, start, now))
        start += WEEK
    return weeks


def rollup_plan_week(*, plan: Plan, day: datetime.date | None = None) -> Rollup:
    """Recompute every row of the week containing `day` (default: today) and return the plan's row.

    A day after today is taken as today: the future has no figures to judge.
    """
    now = clock.today()
    week = Week.of(plan, min(day or now, now), now)
    rollup_week(week)
    return _plan_row(plan, week)


def rollup_plan_weeks(
    *, plan: Plan, first: datetime.date, last: datetime.date, progress: Callable[[int, int, Week], None] | None = None
) -> list[Week]:
    """Recompute a range of weeks in order (ranks compare with the week before), e.g. after late edits."""
    weeks = _weeks(plan, first, last)
    for n, week in enumerate(weeks, start=1):
        rollup_week(week)
        if progress:
            progress(n, len(weeks), week)
    return weeks


def rollup_plan_catch_up(*, plan: Plan) -> Rollup:
    """The full run: this week, plus every week since a roll-up was missed (broker down), then clear the mark."""
    stale = StaleRollup.objects.filter(plan=plan).first()
    first = stale.earliest_period if stale and stale.earliest_period else clock.today()
    with transaction.atomic():
        weeks = rollup_plan_weeks(plan=plan, first=first, last=clock.today())
        if stale:
            StaleRollup.objects.filter(pk=stale.pk, since__lte=stale.since).delete()
    return _plan_row(plan, weeks[-1])


def rollup_touched(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> int:
    """The incremental roll-up after a save: only the indicators (and departments) touched, in every week
    from the earliest period touched to this one (a late edit changes the weeks after it). Returns weeks done.
    """
    if department_ids is None:
        department_ids = list(
            IndicatorDepartment.objects.filter(indicator__in=indicator_ids).values_list("department", flat=True).distinct()
        )
    weeks = _weeks(plan, min(period_starts, default=clock.today()), clock.today())
    stored = dict(
        Rollup.objects.filter(plan=plan, subject=f"plan:{plan.pk}", week__in=[w.start for w in weeks]).values_list("week", "as_of")
    )
    for week in weeks:
        if stored.get(week.start) == week.as_of:
            rollup_week(week, indicator_ids=indicator_ids, department_ids=department_ids)
        else:
            rollup_week(week)  # never rolled up, or its as-of day has moved on: do the whole week
    return len(weeks)


def stale_mark(*, plan: Plan, earliest: datetime.date | None, reason: str) -> None:
    """Mark the plan's roll-ups stale from `earliest` on (pages say so); the next full roll-up catches up."""
    with transaction.atomic():
        stale, created = StaleRollup.objects.select_for_update().get_or_create(
            plan=plan, defaults={"since": clock.now(), "reason": reason[:200], "earliest_period": earliest}
        )
        if not created and earliest and (stale.earliest_period is None or earliest < stale.earliest_period):
            stale.earliest_period = earliest
            stale.save(update_fields=["earliest_period"])
