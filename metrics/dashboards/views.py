"""Dashboard pages: read-only views over the stored roll-ups of one as-of week, for every signed-in role.

The overview (key figures and the eight action cards), an action's ledger (台账), an indicator, a
department, and the rankings (比武打擂). Each page reads through metrics.dashboards.selectors; a page's
chart data comes with the page (`chart`, printed by the json_script filter), built by the same selectors.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from actions.choices import Frequency
from actions.models import Action, Department, Indicator
from actions.schedule import plain_share
from actions.selectors import action_cards, plan_current
from metrics import permissions
from metrics.dashboards.asof import as_of_week
from metrics.dashboards.explanations import explain
from metrics.dashboards.filtersets import LedgerFilterSet
from metrics.dashboards.selectors import (
    action_chart,
    action_indicator_progress,
    action_rollups,
    action_trends,
    department_chart,
    department_indicators,
    department_scores,
    department_tasks,
    indicator_chart,
    indicator_departments,
    indicator_figures,
    indicator_week,
    monthly_scoreboard,
    overview_chart,
    page_head,
    plan_and_action_rollups,
    scoreboard,
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
from planboard.exports import SafeExportMixin


# Indicator tables are paged (an action or a unit of a large plan has hundreds of indicators).
INDICATORS_PER_PAGE = 25


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
        context.update(
            asof=asof, actions=cards, chart=overview_chart(week=asof.week, cards=cards, trends=trends),
            **page_head(plan=plan, week=asof.week, rollup=rollup),
        )
        if rollup:
            context["schedule_today"] = plain_share(frequency=Frequency.WEEKLY, year=plan.year, day=rollup.as_of) * 100
            context["days_to_checkpoint"] = (plan.checkpoint - rollup.as_of).days
    return render(request, "dashboards/overview.html", context)


class ActionDetailView(SafeExportMixin, SingleTableMixin, FilterView):
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
        return task_ledger(action=self.action, week=self.asof.week, user=self.request.user)

    def get_export_filename(self, export_format):
        week = self.asof.week.isoformat() if self.asof.week else "none"
        return f"ledger-{self.plan.year}-action{self.action.number}-{week}.{export_format}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            plan=self.plan,
            action=self.action,
            asof=self.asof,
            action_rollup=action_rollups(plan=self.plan, week=self.asof.week).get(self.action.pk),
            chart=action_chart(action=self.action, week=self.asof.week),
            **page_head(plan=self.plan, week=self.asof.week),
        )
        # The chart's table fallback, paged on its own (an action of a large plan has hundreds of indicators).
        indicators = ActionIndicatorTable(
            action_indicator_progress(action=self.action, week=self.asof.week), prefix="i-", asof_query=self.asof.query
        )
        RequestConfig(self.request, paginate={"per_page": INDICATORS_PER_PAGE}).configure(indicators)
        context["indicators"] = indicators
        return context


def indicator_detail(request, pk):
    """An indicator at the as-of week: its path against the target and 序时进度, departments, pace, figures."""
    plan = _plan()
    indicator = get_object_or_404(Indicator.objects.select_related("task__action"), pk=pk, task__action__plan=plan)
    asof = as_of_week(request, plan)
    progress = indicator_week(indicator=indicator, week=asof.week)
    figures = FigureTable(indicator_figures(indicator=indicator, until=asof.week, user=request.user))
    RequestConfig(request, paginate={"per_page": 20}).configure(figures)
    departments = list(indicator_departments(indicator=indicator, week=asof.week))
    context = {
        "plan": plan,
        "indicator": indicator,
        "asof": asof,
        **page_head(plan=plan, week=asof.week),
        "progress": progress,
        "explanation": explain(progress, plan, departments) if progress else [],
        # A rate's department rows say the period of each one's latest rate; amounts add up every period.
        "departments": DepartmentProgressTable(
            departments, asof_query=asof.query, exclude=() if indicator.is_rate else ("latest_period",)
        ),
        "figures": figures,
        "figures_restricted": permissions.visible_departments(request.user) is not None,
        "chart": indicator_chart(indicator=indicator, plan=plan, week=asof.week),
    }
    return render(request, "dashboards/indicator_detail.html", context)


def department_detail(request, pk):
    """A department at the as-of week: its indicators and led tasks; reporting, score and rank over the weeks."""
    plan = _plan()
    department = get_object_or_404(Department, pk=pk)
    asof = as_of_week(request, plan)
    scores = department_scores(plan=plan, department=department, until=asof.week)
    indicators = DepartmentIndicatorTable(department_indicators(department=department, week=asof.week), prefix="i-",
                                          asof_query=asof.query)
    RequestConfig(request, paginate={"per_page": INDICATORS_PER_PAGE}).configure(indicators)
    context = {
        "plan": plan,
        "department": department,
        "asof": asof,
        **page_head(plan=plan, week=asof.week),
        "score": scores[-1] if scores and scores[-1].week == asof.week else None,
        "indicators": indicators,
        "tasks": LedgerTable(department_tasks(plan=plan, department=department, week=asof.week, user=request.user), orderable=False),
        "weeks": DepartmentWeekTable(list(reversed(scores))),
        "chart": department_chart(week=asof.week, scores=scores),
    }
    return render(request, "dashboards/department_detail.html", context)


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
        **page_head(plan=plan, week=asof.week),
        "table": ScoreboardTable(rows, asof_query=asof.query, overall=overall),
    }
    return render(request, "dashboards/rankings.html", context)
