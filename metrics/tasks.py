"""Celery tasks: thin interfaces that take ids and ISO dates and call a service.

Every task is idempotent (roll-ups are upserts) and retried only on transient database errors.
"""

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from actions.models import Plan
from metrics.services import rollup_plan_catch_up, rollup_plan_week, rollup_plan_weeks, rollup_touched
from planboard.clock import today

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
