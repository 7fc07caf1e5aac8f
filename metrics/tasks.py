"""Celery tasks: thin interfaces that take ids and ISO dates and call a service; and `rollup_request`,
the one way other code queues a roll-up.

Every task is idempotent (roll-ups are upserts) and retried only on transient database errors.
"""

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from actions.models import Plan
from metrics.rollup.services import rollup_plan_catch_up, rollup_plan_week, rollup_plan_weeks, rollup_touched, stale_mark
from planboard.clock import today

logger = logging.getLogger(__name__)

TRANSIENT = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "max_retries": 5}


def _summary(row) -> dict:
    return {
        "plan": row.plan_id,
        "week": row.week.isoformat(),
        "as_of": row.as_of.isoformat(),
        "figures": row.figure_count,
        "departments_reported": row.departments_reported,
        "departments_expected": row.departments_expected,
    }


@shared_task(**TRANSIENT)
def rollup_plan(plan_id: int, as_of: str | None = None) -> dict:
    """Full recompute of one week of a plan (default: this week)."""
    plan = Plan.objects.get(pk=plan_id)
    day = datetime.date.fromisoformat(as_of) if as_of else None
    return _summary(rollup_plan_week(plan=plan, day=day))


@shared_task(**TRANSIENT)
def rollup_plan_range(plan_id: int, first: str, last: str) -> int:
    """Full recompute of a range of weeks, in order. Returns how many weeks."""
    plan = Plan.objects.get(pk=plan_id)
    weeks = rollup_plan_weeks(plan=plan, first=datetime.date.fromisoformat(first), last=datetime.date.fromisoformat(last))
    return len(weeks)


@shared_task(**TRANSIENT)
def rollup_indicators(plan_id: int, indicator_ids: list[int], period_starts: list[str], department_ids: list[int] | None = None) -> int:
    """Incremental: the indicators (and departments) a save touched, from the earliest period touched on."""
    plan = Plan.objects.get(pk=plan_id)
    return rollup_touched(
        plan=plan,
        indicator_ids=indicator_ids,
        period_starts=[datetime.date.fromisoformat(d) for d in period_starts],
        department_ids=department_ids,
    )


@shared_task(**TRANSIENT)
def rollup_current_plan() -> dict | None:
    """The beat entry: the plan of the current year, this week and any week a missed roll-up left stale."""
    plan = Plan.objects.filter(year=today().year).first()
    return _summary(rollup_plan_catch_up(plan=plan)) if plan else None


@shared_task(**TRANSIENT)
def close_previous_week() -> dict | None:
    """The beat entry for Monday morning: judge last week on its Sunday, now that it has ended."""
    plan = Plan.objects.filter(year=today().year).first()
    if not plan:
        return None
    return _summary(rollup_plan_week(plan=plan, day=today() - datetime.timedelta(days=7)))


def rollup_request(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> bool:
    """Queue the incremental roll-up of what a save touched. Call it from transaction.on_commit.

    A save must not fail because the broker is down: then the plan is marked stale instead (pages
    say so) and the next full roll-up catches up from the earliest period touched. Returns whether
    the roll-up was queued.
    """
    try:
        rollup_indicators.delay(
            plan.pk,
            sorted(set(indicator_ids)),
            sorted({d.isoformat() for d in period_starts}),
            sorted(set(department_ids)) if department_ids is not None else None,
        )
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("Roll-up of plan %s not queued, marked stale: %s", plan.pk, exc)
        stale_mark(plan=plan, earliest=min(period_starts, default=None), reason=str(exc))
        return False
    return True
