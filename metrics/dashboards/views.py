"""Dashboard pages: read-only views over the stored roll-ups of one as-of week, for every signed-in role.

The overview (key figures and the eight action cards), an action's ledger (台账), an indicator, a
department, and the rankings (比武打擂). Each page reads through metrics.dashboards.selectors.
"""

import datetime

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export import ExportMixin

from actions.choices import Frequency
from actions.models import Action, Department, Indicator
from actions.schedule import plain_share
from actions.selectors import action_cards, plan_current
from metrics.dashboards.asof import as_of_week
from metrics.dashboards.explanations import explain
from metrics.dashboards.filtersets import LedgerFilterSet
from metrics.dashboards.selectors import (
    action_indicator_progress,
    action_rollups,
    action_trends,
    department_indicators,
    department_scores,
    department_tasks,
    indicator_departments,
    indicator_figures,
    indicator_series,
    indicator_week,
    monthly_scoreboard,
    plan_and_action_rollups,
    plan_rollup,
    scoreboard,
    stale_rollup,
    task_ledger,
)
from metrics.dashboards.tables import (
    ActionIndicatorTable,
    DepartmentIndicatorTable,
    DepartmentProgressTable,
    DepartmentWeekTable,
    FigureTable,
    LedgerTable,
    ScoreboardTable,
)
from planboard import formatting
from planboard.clock import today
from planboard.periods import period_start


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan is loaded."))
    return plan


def overview(request):
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
            context["schedule_today"] = plain_share(frequency=Frequency.WEEKLY, year=plan.year, day=rollup.as_of) * 100
            context["days_to_checkpoint"] = (plan.checkpoint - rollup.as_of).days
    return render(request, "dashboards/overview.html", context)


def overview_data(request):
    """Chart data of the overview: each action's attainment against schedule per week, up to the as-of week."""
    plan = _plan()
    asof = as_of_week(request, plan)
    trends = action_trends(plan=plan, until=asof.week) if asof.week else {}
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "actions": [
                {
                    "number": card.number,
                    "labels": [week.isoformat() for week, _ in trends.get(card.pk, [])],
                    "attainment": [formatting.chart_pct(value) for _, value in trends.get(card.pk, [])],
                }
                for card in action_cards(plan=plan)
            ],
        }
    )


class ActionDetailView(ExportMixin, SingleTableMixin, FilterView):
    """An action's ledger (台账) at the as-of week: sortable, filterable, paginated, exportable; its indicators' chart."""

    table_class = LedgerTable
    filterset_class = LedgerFilterSet
    template_name = "dashboards/action_detail.html"
    export_formats = ("xlsx", "csv")

    def dispatch(self, request, *args, **kwargs):
        self.plan = _plan()
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
    plan = _plan()
    action = get_object_or_404(Action, plan=plan, number=number)
    asof = as_of_week(request, plan)
    rows = list(action_indicator_progress(action=action, week=asof.week))
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "labels": [p.indicator.name for p in rows],
            "completion": [formatting.chart_pct(p.completion_pct) for p in rows],
            "schedule": [formatting.chart_pct(p.schedule_pct) for p in rows],
        }
    )


def indicator_detail(request, pk):
    """An indicator at the as-of week: its path against the target and 序时进度, departments, pace, figures."""
    plan = _plan()
    indicator = get_object_or_404(Indicator.objects.select_related("task__action"), pk=pk, task__action__plan=plan)
    asof = as_of_week(request, plan)
    progress = indicator_week(indicator=indicator, week=asof.week)
    figures = FigureTable(indicator_figures(indicator=indicator, until=asof.week))
    RequestConfig(request, paginate={"per_page": 20}).configure(figures)
    context = {
        "plan": plan,
        "indicator": indicator,
        "asof": asof,
        "rollup": plan_rollup(plan=plan, week=asof.week),
        "stale": stale_rollup(plan=plan),
        "progress": progress,
        "explanation": explain(progress, plan) if progress else [],
        "departments": DepartmentProgressTable(indicator_departments(indicator=indicator, week=asof.week), asof_query=asof.query),
        "figures": figures,
    }
    return render(request, "dashboards/indicator_detail.html", context)


def indicator_data(request, pk):
    """Chart data of the indicator page: cumulative actual, target to date and 序时进度 per week."""
    plan = _plan()
    indicator = get_object_or_404(Indicator, pk=pk, task__action__plan=plan)
    asof = as_of_week(request, plan)
    series = indicator_series(indicator=indicator, until=asof.week)
    labels = [p.week.isoformat() for p in series]
    # Weeks still to come up to the checkpoint, empty, so that the checkpoint is always on the axis.
    if series:
        week, checkpoint_week = series[-1].week, period_start(plan.checkpoint, Frequency.WEEKLY)
        while week < checkpoint_week:
            week += datetime.timedelta(days=7)
            labels.append(week.isoformat())
    padding = [None] * (len(labels) - len(series))
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "checkpoint": plan.checkpoint.isoformat(),
            "labels": labels,
            "actual": [formatting.chart_amount(p.actual) for p in series] + padding,
            "target_to_date": [formatting.chart_amount(p.target_to_date) for p in series] + padding,
            "completion": [formatting.chart_pct(p.completion_pct) for p in series] + padding,
            "schedule": [formatting.chart_pct(p.schedule_pct) for p in series] + padding,
        }
    )


def department_detail(request, pk):
    """A department at the as-of week: its indicators and led tasks; reporting, score and rank over the weeks."""
    plan = _plan()
    department = get_object_or_404(Department, pk=pk)
    asof = as_of_week(request, plan)
    scores = department_scores(plan=plan, department=department, until=asof.week)
    context = {
        "plan": plan,
        "department": department,
        "asof": asof,
        "rollup": plan_rollup(plan=plan, week=asof.week),
        "stale": stale_rollup(plan=plan),
        "score": scores[-1] if scores and scores[-1].week == asof.week else None,
        "indicators": DepartmentIndicatorTable(department_indicators(department=department, week=asof.week), asof_query=asof.query),
        "tasks": LedgerTable(department_tasks(plan=plan, department=department, week=asof.week), orderable=False),
        "weeks": DepartmentWeekTable(list(reversed(scores))),
    }
    return render(request, "dashboards/department_detail.html", context)


def department_data(request, pk):
    """Chart data of the department page: completeness, timeliness, score and rank per week."""
    plan = _plan()
    department = get_object_or_404(Department, pk=pk)
    asof = as_of_week(request, plan)
    scores = department_scores(plan=plan, department=department, until=asof.week)
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "labels": [s.week.isoformat() for s in scores],
            "completeness": [formatting.chart_pct(s.completeness_pct) for s in scores],
            "timeliness": [formatting.chart_pct(s.timeliness_pct) for s in scores],
            "score": [formatting.chart_pct(s.score) for s in scores],
            "rank": [s.rank for s in scores],
        }
    )


def rankings(request):
    """比武打擂: the units' scoreboard of the as-of week, or of its month; league by league or all units."""
    plan = _plan()
    asof = as_of_week(request, plan)
    monthly = request.GET.get("view") == "monthly"
    overall = request.GET.get("by") == "all"
    frozen = False
    if monthly:
        board = monthly_scoreboard(plan=plan, week=asof.week, weeks=asof.weeks, overall=overall)
        shown_week, rows, frozen = board.week, board.rows, board.frozen
    else:
        shown_week, rows = asof.week, scoreboard(plan=plan, week=asof.week, overall=overall)
    context = {
        "plan": plan,
        "asof": asof,
        "monthly": monthly,
        "overall": overall,
        "frozen": frozen,
        "shown_week": shown_week,
        "rollup": plan_rollup(plan=plan, week=asof.week),
        "stale": stale_rollup(plan=plan),
        "table": ScoreboardTable(rows, asof_query=asof.query, overall=overall),
    }
    return render(request, "dashboards/rankings.html", context)
