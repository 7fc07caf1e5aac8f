"""Reads of the supervision pages (督查): lagging indicators, overdue milestones, missing reports, 催办; orders and 约谈."""

from django.db import models
from django.db.models import Count, F, Q, QuerySet

from actions.choices import TaskStatus
from actions.models import Milestone
from metrics.choices import Light, OrderLevel
from metrics.models import DepartmentScore, IndicatorProgress, Interview, OrderEvent, Reminder, SupervisionOrder


def lagging_indicators(*, plan, week) -> QuerySet[IndicatorProgress]:
    """Indicators with a red or a yellow light at the as-of week, red first, furthest behind first; none of a
    task closed off (已销号): the office verified it done."""
    return (
        IndicatorProgress.objects.filter(plan=plan, week=week, light__in=[Light.RED, Light.YELLOW])
        .exclude(indicator__task__status=TaskStatus.CLOSED)
        .select_related("indicator__task__action", "indicator__task__lead_department")
        .order_by(models.Case(models.When(light=Light.RED, then=0), default=1), "gap_pp")
    )


def overdue_milestones(*, plan, as_of) -> QuerySet:
    """Milestones due by `as_of` and not done by then (the roll-up's rule), oldest first; none of a task closed off."""
    if as_of is None:
        return Milestone.objects.none()
    return (
        Milestone.objects.filter(task__action__plan=plan, planned_date__lte=as_of)
        .exclude(task__status=TaskStatus.CLOSED)
        .filter(models.Q(done_date__isnull=True) | models.Q(done_date__gt=as_of))
        .select_related("task__action", "task__lead_department")
        .order_by("planned_date", "task__action__number", "task__number", "number")
    )


def missing_reports(*, plan, week) -> list[dict]:
    """Per department, the reports due in the as-of week's period and how many are missing (only those missing),
    as the roll-up's step 3 summed them for the unit's score: the page and the supervision ladder read this."""
    rows = (
        DepartmentScore.objects.filter(plan=plan, week=week)
        .values("department_id", "department__name", "department__short_name", due=F("period_due"), entered=F("period_entered"))
        .order_by("department__code")
    )
    out = []
    for row in rows:
        missing = (row["due"] or 0) - (row["entered"] or 0)
        if missing > 0:
            out.append({**row, "missing": missing})
    return sorted(out, key=lambda r: -r["missing"])


def reminders(*, plan, limit: int = 50):
    """The latest reminders (催办) of the plan, newest first, with how many of their deliveries went
    through (`delivered`) and how many failed (`failed`)."""
    return (
        Reminder.objects.filter(plan=plan).select_related("department", "reminded_by")
        .annotate(delivered=Count("deliveries", filter=Q(deliveries__ok=True)), failed=Count("deliveries", filter=Q(deliveries__ok=False)))
        .order_by("-reminded_at", "-pk")[:limit]
    )


def orders(*, plan) -> QuerySet[SupervisionOrder]:
    """The plan's supervision orders, open first, red first, oldest deadline first."""
    return (
        SupervisionOrder.objects.filter(plan=plan)
        .select_related("department", "indicator", "milestone")
        .order_by(
            models.Case(models.When(closed_on__isnull=True, then=0), default=1),
            models.Case(models.When(level=OrderLevel.RED, then=0), models.When(level=OrderLevel.YELLOW, then=1), default=2),
            "deadline", "pk",
        )
    )


def order_counts(*, plan) -> dict[str, int]:
    """Open orders by level, and open 约谈."""
    counts = dict(
        SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True).values_list("level").annotate(n=models.Count("id"))
    )
    return {
        **{level: counts.get(level, 0) for level in OrderLevel.values},
        "interviews": Interview.objects.filter(plan=plan, closed_on__isnull=True).count(),
    }


def order_history(order: SupervisionOrder) -> QuerySet[OrderEvent]:
    return order.events.select_related("by", "reply").order_by("at", "pk")


def interviews(*, plan) -> QuerySet[Interview]:
    return Interview.objects.filter(plan=plan).select_related("department").prefetch_related("orders").order_by(
        models.Case(models.When(closed_on__isnull=True, then=0), default=1), "-opened_on", "pk"
    )
