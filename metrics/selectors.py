"""Reads of the metrics app."""

from actions.models import Plan
from metrics.models import PlanRollup


def latest_rollup(*, plan: Plan) -> PlanRollup | None:
    """The most recently computed roll-up of the plan, for the freshness line."""
    return PlanRollup.objects.filter(plan=plan).order_by("-computed_at").first()
