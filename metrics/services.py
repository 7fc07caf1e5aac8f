"""Writes of the metrics app: roll-ups computed from reported figures."""

import datetime
import logging

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from actions.choices import Frequency
from actions.models import IndicatorDepartment, Plan
from metrics.models import Figure, PlanRollup, StaleRollup
from metrics.periods import reporting_period

logger = logging.getLogger(__name__)


@transaction.atomic
def plan_rollup(*, plan: Plan, as_of: datetime.date) -> PlanRollup:
    """Record the plan's reporting coverage as of a date, as one upserted PlanRollup row.

    A department counts as reported when every indicator it is responsible for has a figure (reported
    or not applicable) for the period now due: this week for weekly indicators, last month for monthly
    ones. Set-based: a few aggregate queries.
    """
    week, month = reporting_period(as_of, Frequency.WEEKLY), reporting_period(as_of, Frequency.MONTHLY)
    current_period = Q(indicator__frequency=Frequency.WEEKLY, period_start=week) | Q(
        indicator__frequency=Frequency.MONTHLY, period_start=month
    )
    expected = dict(
        IndicatorDepartment.objects.filter(indicator__task__action__plan=plan)
        .values_list("department")
        .annotate(n=Count("indicator", distinct=True))
    )
    plan_figures = Figure.objects.filter(indicator__task__action__plan=plan, period_start__lte=as_of)
    entered = dict(
        plan_figures.filter(current_period)
        .values_list("department")
        .annotate(n=Count("indicator", distinct=True))
    )
    StaleRollup.objects.filter(plan=plan).delete()
    rollup, _ = PlanRollup.objects.update_or_create(
        plan=plan,
        as_of=as_of,
        defaults={
            "computed_at": timezone.now(),
            "figure_count": plan_figures.count(),
            "departments_expected": len(expected),
            "departments_reported": sum(1 for dept, n in expected.items() if entered.get(dept, 0) >= n),
        },
    )
    return rollup


def rollup_request(*, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date]) -> bool:
    """Queue the incremental roll-up of what a save touched. Call it from transaction.on_commit.

    A save must not fail because the broker is down: then the plan is marked stale instead (pages
    say so) and the next full roll-up catches up. Returns whether the roll-up was queued.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from metrics.tasks import rollup_indicators

    try:
        rollup_indicators.delay(plan.pk, sorted(set(indicator_ids)), sorted({d.isoformat() for d in period_starts}))
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("Roll-up of plan %s not queued, marked stale: %s", plan.pk, exc)
        StaleRollup.objects.update_or_create(plan=plan, defaults={"since": timezone.now(), "reason": str(exc)[:200]})
        return False
    return True
