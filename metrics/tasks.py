"""Celery tasks: thin interfaces that take ids and ISO dates and call a service."""

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from actions.models import Plan
from metrics.services import plan_rollup
from planboard.clock import today


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def rollup_plan(plan_id: int, as_of: str | None = None) -> dict:
    """Roll up one plan as of a date (default: today). Idempotent: it upserts one row per (plan, date)."""
    plan = Plan.objects.get(pk=plan_id)
    day = datetime.date.fromisoformat(as_of) if as_of else today()
    rollup = plan_rollup(plan=plan, as_of=day)
    return {
        "plan": plan.pk,
        "as_of": rollup.as_of.isoformat(),
        "figures": rollup.figure_count,
        "departments_reported": rollup.departments_reported,
        "departments_expected": rollup.departments_expected,
    }


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def rollup_indicators(plan_id: int, indicator_ids: list[int], period_starts: list[str]) -> dict:
    """The incremental roll-up after a save of figures of these indicators and periods."""
    # The roll-up is still plan-wide and cheap; the roll-up engine narrows it to what the save touched.
    return rollup_plan(plan_id)


@shared_task
def rollup_current_plan() -> dict | None:
    """The beat entry: roll up the plan of the current year, if there is one."""
    plan = Plan.objects.filter(year=today().year).first()
    return rollup_plan(plan.pk) if plan else None
