"""Reads of the supervision page (督查): lagging indicators, overdue milestones, missing reports, 催办."""

from django.db import models
from django.db.models import QuerySet, Sum

from actions.choices import TaskStatus
from actions.models import Milestone
from metrics.choices import Light
from metrics.models import DepartmentIndicatorProgress, IndicatorProgress, Reminder


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
    """Per department, the reports due in the as-of week's period and how many are missing (only those missing)."""
    rows = (
        DepartmentIndicatorProgress.objects.filter(plan=plan, week=week)
        .values("department_id", "department__name", "department__short_name")
        .annotate(due=Sum("period_due"), entered=Sum("period_entered"))
        .order_by("department__code")
    )
    out = []
    for row in rows:
        missing = (row["due"] or 0) - (row["entered"] or 0)
        if missing > 0:
            out.append({**row, "missing": missing})
    return sorted(out, key=lambda r: -r["missing"])


def reminders(*, plan, limit: int = 50):
    """The latest reminders (催办) of the plan, newest first."""
    return Reminder.objects.filter(plan=plan).select_related("department", "reminded_by").order_by("-reminded_at", "-pk")[:limit]
