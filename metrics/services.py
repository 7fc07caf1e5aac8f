"""Writes of the metrics app: roll-ups computed from reported figures (the math is in metrics.rollup)."""

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from actions.models import IndicatorDepartment, Plan
from metrics.models import Rollup, StaleRollup
from metrics.periods import period_start
from metrics.rollup import Week, rollup_week
from planboard.clock import today

logger = logging.getLogger(__name__)

WEEK = datetime.timedelta(days=7)


def _plan_row(plan: Plan, week: Week) -> Rollup:
    return Rollup.objects.get(plan=plan, week=week.start, subject=f"plan:{plan.pk}")


def _weeks(plan: Plan, first: datetime.date, last: datetime.date) -> list[Week]:
    """The as-of weeks from the week of `first` to the week of `last`, never past today."""
    now = today()
    last = min(last, now)
    start = max(period_start(first, "weekly"), datetime.date.fromisocalendar(plan.year, 1, 1))
    weeks = []
    while start <= last:
        weeks.append(Week.of(plan, start, now))
        start += WEEK
    return weeks


def rollup_plan_week(*, plan: Plan, day: datetime.date | None = None) -> Rollup:
    """Recompute every row of the week containing `day` (default: today) and return the plan's row.

    A day after today is taken as today: the future has no figures to judge.
    """
    now = today()
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
    first = stale.earliest_period if stale and stale.earliest_period else today()
    with transaction.atomic():
        weeks = rollup_plan_weeks(plan=plan, first=first, last=today())
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
    weeks = _weeks(plan, min(period_starts, default=today()), today())
    stored = dict(
        Rollup.objects.filter(plan=plan, subject=f"plan:{plan.pk}", week__in=[w.start for w in weeks]).values_list("week", "as_of")
    )
    for week in weeks:
        if stored.get(week.start) == week.as_of:
            rollup_week(week, indicator_ids=indicator_ids, department_ids=department_ids)
        else:
            rollup_week(week)  # never rolled up, or its as-of day has moved on: do the whole week
    return len(weeks)


def rollup_request(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> bool:
    """Queue the incremental roll-up of what a save touched. Call it from transaction.on_commit.

    A save must not fail because the broker is down: then the plan is marked stale instead (pages
    say so) and the next full roll-up catches up from the earliest period touched. Returns whether
    the roll-up was queued.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from metrics.tasks import rollup_indicators

    try:
        rollup_indicators.delay(
            plan.pk,
            sorted(set(indicator_ids)),
            sorted({d.isoformat() for d in period_starts}),
            sorted(set(department_ids)) if department_ids is not None else None,
        )
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("Roll-up of plan %s not queued, marked stale: %s", plan.pk, exc)
        earliest = min(period_starts, default=None)
        with transaction.atomic():
            stale, created = StaleRollup.objects.select_for_update().get_or_create(
                plan=plan, defaults={"since": timezone.now(), "reason": str(exc)[:200], "earliest_period": earliest}
            )
            if not created and earliest and (stale.earliest_period is None or earliest < stale.earliest_period):
                stale.earliest_period = earliest
                stale.save(update_fields=["earliest_period"])
        return False
    return True
