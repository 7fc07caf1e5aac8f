"""Roll-up runs: which weeks to compute, full, range, incremental and catch-up runs, and the stale mark.

The math is in metrics.rollup.engine; these functions choose the weeks and keep the stale mark. The mark is
set by whatever could not roll up (`stale_mark`) and cleared here only, by any full run that covers the weeks
it names: the `rollup` command, the hourly beat, the stale sweep and the single-week task all clear it.
"""

import datetime
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from actions.models import IndicatorDepartment, Plan
from metrics.choices import RollupLevel
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    Rollup,
    RollupCorrection,
    StaleRollup,
)
from metrics.rollup import inputs
from metrics.rollup.engine import Week, rollup_week, rollup_weeks
from planboard import clock
from planboard.periods import Frequency, period_start, year_last, year_start

logger = logging.getLogger(__name__)


WEEK = datetime.timedelta(days=7)


def _plan_row(plan: Plan, week: Week) -> Rollup:
    return Rollup.objects.get(plan=plan, week=week.start, subject=f"plan:{plan.pk}")


def _weeks(plan: Plan, first: datetime.date, last: datetime.date) -> list[Week]:
    """The as-of weeks from the week of `first` to the week of `last`, never past today nor past the plan's
    year (its ISO weeks: a catch-up of last year's plan stops at its last week)."""
    now = clock.today()
    last = min(last, now, year_last(plan.year, Frequency.WEEKLY))
    start = max(period_start(first, Frequency.WEEKLY), year_start(plan.year, Frequency.WEEKLY))
    weeks = []
    while start <= last:
        weeks.append(Week.of(plan, start, now))
        start += WEEK
    return weeks


@contextmanager
def _clearing_stale_mark(plan: Plan, weeks: list[Week]) -> Iterator[None]:
    """Run a full roll-up of `weeks` in one transaction; on success, delete the stale mark if the run covered it.

    The mark is locked for the whole run, so a failure that marks the plan while the run goes on waits
    and then marks it afresh: a run never clears a mark it may not have seen the cause of.
    """
    with transaction.atomic():
        stale = StaleRollup.objects.select_for_update().filter(plan=plan).first()
        yield
        if stale and _covers(plan, weeks, stale):
            stale.delete()
            logger.info("Roll-up of plan %s caught up: stale mark cleared", plan.pk)


def _covers(plan: Plan, weeks: list[Week], stale: StaleRollup) -> bool:
    """Whether `weeks` include every week a catch-up of the mark needs (from its earliest period to today)."""
    needed = _weeks(plan, stale.earliest_period or clock.today(), clock.today())
    if not needed:
        return True
    done = {w.start for w in weeks}
    return all(w.start in done for w in needed)


def rollup_plan_week(*, plan: Plan, day: datetime.date | None = None) -> Rollup:
    """Recompute every row of the week containing `day` (default: today) and return the plan's row.

    A day after today is taken as today: the future has no figures to judge.
    """
    now = clock.today()
    week = Week.of(plan, min(day or now, now), now)
    with _clearing_stale_mark(plan, [week]):
        rollup_week(week)
    return _plan_row(plan, week)


def rollup_plan_weeks(
    *,
    plan: Plan,
    first: datetime.date,
    last: datetime.date,
    progress: Callable[[int, int, Week], None] | None = None,
    from_figures: bool = False,
) -> list[Week]:
    """Recompute a range of weeks in order (ranks compare with the week before), e.g. after late edits.

    Each week carries the running sums of the week before it (engine.rollup_week's `carry`): the first one
    only if the week before is settled (`inputs.settled_before`: stored as of its last day, with no change
    to it left uncovered), else it is added up from the figures; the later ones carry the week just written
    by this run. With `from_figures`, every week from the figures: the slow check (`manage.py rollup
    --from-figures`, the nightly repair). A range that reaches the current week covers every change to the
    periods from its first week on (`inputs.consume`), and to the plan's structure if it starts the year."""
    weeks = _weeks(plan, first, last)
    mark = inputs.seen()
    with _clearing_stale_mark(plan, weeks):
        carry_first = bool(weeks) and not from_figures and inputs.settled_before(weeks[0])
        for n, week in enumerate(weeks, start=1):
            rollup_week(week, carry=(n > 1 or carry_first) and not from_figures)
            if progress:
                progress(n, len(weeks), week)
        if weeks and weeks[-1].start == period_start(clock.today(), Frequency.WEEKLY):
            every_week = weeks[0].start == year_start(plan.year, Frequency.WEEKLY)
            inputs.consume(mark, plan, from_week=weeks[0].start, every_week=every_week)
    return weeks


def rollup_plan_catch_up(*, plan: Plan, progress: Callable[[int, int, Week], None] | None = None) -> Rollup:
    """The full run: this week, plus every week since a roll-up was missed, which clears the stale mark."""
    stale = StaleRollup.objects.filter(plan=plan).first()
    first = stale.earliest_period if stale and stale.earliest_period else clock.today()
    weeks = rollup_plan_weeks(plan=plan, first=first, last=clock.today(), progress=progress)
    return _plan_row(plan, weeks[-1])


# How far back the sweep looks for saves to roll up again (it runs every 5 minutes: each save is redone
# about a dozen times, so a sweep or two missed by a beat restart loses nothing).
RESWEEP_WINDOW = datetime.timedelta(hours=1)


def rollup_recent_saves(*, plan: Plan, before: datetime.datetime) -> int:
    """Roll up again the indicators whose figures were saved in the hour before `before`, from the earliest
    period they touched. Returns the weeks done.

    A save's roll-up can vanish without a trace (a broker restarted without persistence, the database down
    even for the stale mark); nothing records that it did, so the sweep simply redoes recent saves once they
    are older than any retry or redelivery. Idempotent, and cheap: unchanged rows are not rewritten.
    """
    recent = Figure.objects.filter(
        indicator__task__action__plan=plan, updated__gte=before - RESWEEP_WINDOW, updated__lt=before
    )
    touched = recent.aggregate(earliest=Min("period_start"))["earliest"]
    if touched is None:
        return 0
    indicator_ids = sorted(set(recent.values_list("indicator_id", flat=True)))
    return rollup_touched(plan=plan, indicator_ids=indicator_ids, period_starts=[touched])


def rollup_stale_plans(*, today: datetime.date) -> list[int]:
    """The sweep: catch up every plan marked stale, and roll up again the current plan's saves older than
    PLANBOARD_ROLLUP_LOST_AFTER (their roll-up may have been lost). Returns the ids of the plans caught up.
    """
    done = []
    for stale_plan in Plan.objects.filter(stale_rollup__isnull=False).order_by("pk"):
        rollup_plan_catch_up(plan=stale_plan)
        done.append(stale_plan.pk)
    plan = Plan.objects.filter(year=today.year).first()
    if plan and plan.pk not in done:
        lost_after = datetime.timedelta(seconds=settings.PLANBOARD_ROLLUP_LOST_AFTER)
        rollup_recent_saves(plan=plan, before=timezone.now() - lost_after)
    return done


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
    mark = inputs.seen()
    stored = dict(
        Rollup.objects.filter(plan=plan, subject=f"plan:{plan.pk}", week__in=[w.start for w in weeks])
        .order_by()
        .values_list("week", "as_of")
    )
    # The weeks stored as of the day they are judged on take the touched indicators only, all of them in one
    # run (engine.rollup_weeks: one statement per step over all of them); a week never rolled up, or whose
    # as-of day has moved on (the week in progress, a day later), is rolled up whole, in its place in the
    # order (a week's ranks compare with the week before's).
    # A whole week right after another carries its running sums; after touched ones, it starts from the figures.
    pending: list[Week] = []
    whole_before = False
    for week in weeks:
        if stored.get(week.start) == week.as_of:
            pending.append(week)
            whole_before = False
            continue
        rollup_weeks(pending, indicator_ids=indicator_ids, department_ids=department_ids)
        pending = []
        rollup_week(week, carry=whole_before)
        whole_before = True
    rollup_weeks(pending, indicator_ids=indicator_ids, department_ids=department_ids)
    if weeks:
        # Every week from the first touched on holds the touched indicators again: their logged changes are covered.
        inputs.consume(mark, plan, from_week=weeks[0].start, indicator_ids=indicator_ids)
    return len(weeks)


def stale_mark(*, plan: Plan, earliest: datetime.date | None, reason: str) -> None:
    """Mark the plan's roll-ups stale from `earliest` on (pages say so, with the latest reason); the next
    full roll-up that covers those weeks (the sweep runs every few minutes) catches up and clears the mark.
    """
    with transaction.atomic():
        stale, created = StaleRollup.objects.select_for_update().get_or_create(
            plan=plan, defaults={"since": clock.now(), "reason": reason[:200], "earliest_period": earliest}
        )
        if not created:
            if earliest and (stale.earliest_period is None or earliest < stale.earliest_period):
                stale.earliest_period = earliest
            stale.reason = reason[:200]
            stale.save(update_fields=["earliest_period", "reason"])


# What a verification compares: every stored column of the week's rows but their ids and times of computation.
VERIFIED = (IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore)
_KEYS = {
    IndicatorProgress: ("indicator_id",),
    DepartmentIndicatorProgress: ("indicator_id", "department_id"),
    Rollup: ("subject",),
    DepartmentScore: ("department_id",),
}


def _stored(model, week: Week) -> dict:
    columns = [f.attname for f in model._meta.concrete_fields if f.name not in ("id", "computed_at")]
    return {
        tuple(row[k] for k in _KEYS[model]): row
        for row in model.objects.filter(plan=week.plan, week=week.start).values(*columns)
    }


def rollup_verify(*, plan: Plan, first: datetime.date, last: datetime.date) -> dict[datetime.date, int]:
    """Recompute each week from the figures and compare with what is stored: {week: rows that differ}.

    The check behind running sums and incremental runs: a week carried from the week before, or a save
    whose roll-up was lost beyond the sweep's window, would otherwise stay wrong without a sign. Each week
    is recomputed in a savepoint that is rolled back, without the supervision ladder (whose orders may move
    for reasons of their own, such as a reply overdue); the stored rows are left as they were. Only weeks
    judged on a day that has passed, and stored as of that day, are compared: the week in progress is
    judged on today and changes with the clock (the hourly run keeps it), and a week stored on an older
    as-of day is behind in time, not wrong. A week that differs is repaired by `rollup_repair`.
    """
    differing = {}
    stored_as_of = dict(
        Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN).values_list("week", "as_of")
    )
    for week in _weeks(plan, first, last):
        if week.as_of >= clock.today() or stored_as_of.get(week.start) != week.as_of:
            continue
        stored = {model: _stored(model, week) for model in VERIFIED}
        with transaction.atomic():
            rollup_week(week, announce=False)
            fresh = {model: _stored(model, week) for model in VERIFIED}
            transaction.set_rollback(True)
        n = sum(len(set(stored[m]) ^ set(fresh[m])) + sum(1 for k in stored[m].keys() & fresh[m].keys() if stored[m][k] != fresh[m][k])
                for m in VERIFIED)
        if n:
            differing[week.start] = n
    return differing


def rollup_repair(*, plan: Plan, first: datetime.date, last: datetime.date) -> dict[datetime.date, int]:
    """Verify, and where a week differs roll it up again from the figures, with every week after it (a
    week's ranks and carried sums lean on the week before). Returns what differed; logs it as an error."""
    mark = inputs.seen()
    differing = rollup_verify(plan=plan, first=first, last=last)
    if differing:
        logger.error("Roll-up of plan %s differed from its figures in %s week(s) from %s (%s rows): recomputed",
                     plan.pk, len(differing), min(differing), sum(differing.values()))
        with transaction.atomic():
            rollup_plan_weeks(plan=plan, first=min(differing), last=last, from_figures=True)
            # The pages of those weeks say their numbers were put right, and when (they were wrong before).
            RollupCorrection.objects.create(
                plan=plan, found_at=clock.now(), differing={week.isoformat(): n for week, n in sorted(differing.items())}
            )
    # Every past week of the year checked (and put right): what the carried sums read is settled, but for
    # the week in progress, whose own periods a carried run reads from the figures anyway.
    if first <= year_start(plan.year, Frequency.WEEKLY) and last >= clock.today():
        inputs.consume(mark, plan, from_week=year_start(plan.year, Frequency.WEEKLY), every_week=True)
    return differing
