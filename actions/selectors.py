"""Reads of the plan that join tables."""

import datetime

from django.db.models import Count, QuerySet

from actions.models import Action, Plan


def plan_current(*, today: datetime.date) -> Plan | None:
    """The plan of today's year, else the most recent one."""
    return Plan.objects.filter(year=today.year).first() or Plan.objects.order_by("-year").first()


def action_cards(*, plan: Plan) -> QuerySet[Action]:
    """The plan's actions with their task and indicator counts, in one query."""
    return (
        plan.actions.select_related("lead_department")
        .annotate(
            task_count=Count("tasks", distinct=True),
            indicator_count=Count("tasks__indicators", distinct=True),
        )
        .order_by("number")
    )
