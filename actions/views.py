from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import format_html_join
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export import ExportMixin

from actions.filtersets import LedgerFilterSet
from actions.models import Action
from actions.selectors import action_cards, plan_current
from actions.tables import ActionIndicatorTable, LedgerTable
from metrics import formatting
from metrics.periods import year_elapsed_pct
from metrics.selectors import (
    action_indicator_progress,
    action_rollups,
    action_trends,
    plan_and_action_rollups,
    plan_rollup,
    stale_rollup,
    task_ledger,
)
from planboard.asof import as_of_week
from planboard.clock import today


def home(request):
    """The overview: 序时进度, indicators on schedule, the 双过半 countdown or result, the eight action cards."""
    plan = plan_current(today=today())
    context = {"plan": plan, "today": today()}
    if plan:
        asof = as_of_week(request, plan)
        rollup, rollups = plan_and_action_rollups(plan=plan, week=asof.week)
        trends = action_trends(plan=plan, until=asof.week) if rollup else {}
        cards = list(action_cards(plan=plan))
        for card in cards:
            card.rollup = rollups.get(card.pk)
            # The sparkline's table fallback, built here: a template loop over every week costs more.
            card.trend_rows = format_html_join(
                "", '<tr><th scope="row">{}</th><td>{}</td></tr>',
                ((week.isoformat(), formatting.pct(value)) for week, value in trends.get(card.pk, [])),
            )
        context.update(asof=asof, rollup=rollup, actions=cards, stale=stale_rollup(plan=plan))
        if rollup:
            context["schedule_today"] = year_elapsed_pct(plan.year, rollup.as_of)
            context["days_to_checkpoint"] = (plan.checkpoint - rollup.as_of).days
    return render(request, "actions/home.html", context)


def overview_data(request):
    """Chart data of the overview: each action's attainment against schedule per week, up to the as-of week."""
    plan = plan_current(today=today())
    if not plan:
        return JsonResponse({"actions": []})
    asof = as_of_week(request, plan)
    trends = action_trends(plan=plan, until=asof.week) if asof.week else {}
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "actions": [
                {
                    "number": card.number,
                    "labels": [week.isoformat() for week, _ in trends.get(card.pk, [])],
                    "attainment": [_number(value) for _, value in trends.get(card.pk, [])],
                }
                for card in action_cards(plan=plan)
            ],
        }
    )


def _number(value):
    """A chart value rounded as the pages print it (metrics.formatting), or null."""
    return None if value is None else float(formatting.pct(value))


class ActionDetailView(ExportMixin, SingleTableMixin, FilterView):
    """An action's ledger (台账) at the as-of week: sortable, filterable, paginated, exportable; its indicators' chart."""

    table_class = LedgerTable
    filterset_class = LedgerFilterSet
    template_name = "actions/action_detail.html"
    export_formats = ("xlsx", "csv")

    def dispatch(self, request, *args, **kwargs):
        self.plan = plan_current(today=today())
        self.action = get_object_or_404(Action.objects.select_related("lead_department"), plan=self.plan, number=kwargs["number"])
        self.asof = as_of_week(request, self.plan)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return task_ledger(action=self.action, week=self.asof.week)

    def get_export_filename(self, export_format):
        week = self.asof.week.isoformat() if self.asof.week else "none"
        return f"ledger-{self.plan.year}-action{self.action.number}-{week}.{export_format}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rollup = plan_rollup(plan=self.plan, week=self.asof.week)
        context.update(
            plan=self.plan,
            action=self.action,
            asof=self.asof,
            rollup=rollup,
            action_rollup=action_rollups(plan=self.plan, week=self.asof.week).get(self.action.pk),
            stale=stale_rollup(plan=self.plan),
        )
        # The chart's table fallback, paged on its own (an action of a large plan has hundreds of indicators).
        indicators = ActionIndicatorTable(
            action_indicator_progress(action=self.action, week=self.asof.week), prefix="i-", asof_query=self.asof.query
        )
        RequestConfig(self.request, paginate={"per_page": 25}).configure(indicators)
        context["indicators"] = indicators
        return context


def action_data(request, number):
    """Chart data of an action page: its indicators' completion and schedule at the as-of week."""
    plan = plan_current(today=today())
    action = get_object_or_404(Action, plan=plan, number=number)
    asof = as_of_week(request, plan)
    rows = list(action_indicator_progress(action=action, week=asof.week))
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "labels": [p.indicator.name for p in rows],
            "completion": [_number(p.completion_pct) for p in rows],
            "schedule": [_number(p.schedule_pct) for p in rows],
        }
    )
