"""Reads of the metrics app."""

from actions.models import Plan
from metrics.models import PlanRollup, StaleRollup


def latest_rollup(*, plan: Plan) -> PlanRollup | None:
    """The most recently computed roll-up of the plan, for the freshness line."""
    return PlanRollup.objects.filter(plan=plan).order_by("-computed_at").first()


def stale_rollup(*, plan: Plan) -> StaleRollup | None:
    """Set when a roll-up could not be queued; the next full roll-up clears it."""
    return StaleRollup.objects.filter(plan=plan).first()
