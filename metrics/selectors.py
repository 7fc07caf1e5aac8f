"""Reads of the metrics app."""

from django.db.models import QuerySet

from actions.models import Plan
from metrics.models import IndicatorProgress, Rollup, StaleRollup


def latest_rollup(*, plan: Plan) -> Rollup | None:
    """The plan's row of the most recent as-of week rolled up, for the freshness line."""
    return Rollup.objects.filter(plan=plan, level="plan").order_by("-week").first()


def stale_rollup(*, plan: Plan) -> StaleRollup | None:
    """Set when a roll-up could not be queued; the next full roll-up clears it."""
    return StaleRollup.objects.filter(plan=plan).first()


def indicator_progress(*, plan: Plan, week) -> QuerySet[IndicatorProgress]:
    """The indicators' stored progress for one as-of week, in plan order, with what a row shows."""
    return (
        IndicatorProgress.objects.filter(plan=plan, week=week)
        .select_related("indicator__task__action")
        .order_by("indicator__task__action__number", "indicator__task__number", "indicator__code")
    )


def rolled_up_weeks(*, plan: Plan) -> list:
    """The as-of weeks that have stored roll-ups, newest first."""
    return list(Rollup.objects.filter(plan=plan, level="plan").order_by("-week").values_list("week", flat=True))
