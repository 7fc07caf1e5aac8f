"""Reads of the dashboards: every page reads the stored roll-ups of one as-of week, in a fixed number of queries."""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from actions.choices import DepartmentKind
from actions.models import Plan, Task
from actions.schedule import add_months
from metrics.choices import Light, RollupLevel
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    MonthlyRanking,
    ProgressNote,
    Rollup,
    StaleRollup,
)


def latest_rollup(*, plan: Plan) -> Rollup | None:
    """The plan's row of the most recent as-of week rolled up, for the freshness line."""
    return Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN).order_by("-week").first()


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
    return list(Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN).order_by("-week").values_list("week", flat=True))


def plan_rollup(*, plan: Plan, week) -> Rollup | None:
    """The plan's row of one as-of week (light counts, weighted progress, freshness)."""
    if week is None:
        return None
    return Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN, week=week).first()


def action_rollups(*, plan: Plan, week) -> dict[int, Rollup]:
    """The actions' rows of one as-of week, by action id."""
    return {r.action_id: r for r in Rollup.objects.filter(plan=plan, level=RollupLevel.ACTION, week=week)}


def plan_and_action_rollups(*, plan: Plan, week) -> tuple[Rollup | None, dict[int, Rollup]]:
    """The plan's row and the actions' rows (by action id) of one as-of week, in one query."""
    plan_row, actions = None, {}
    if week is None:
        return plan_row, actions
    for row in Rollup.objects.filter(plan=plan, week=week, level__in=[RollupLevel.PLAN, RollupLevel.ACTION]):
        if row.level == RollupLevel.PLAN:
            plan_row = row
        else:
            actions[row.action_id] = row
    return plan_row, actions


def action_trends(*, plan: Plan, until) -> dict[int, list[tuple]]:
    """Per action id: (week, attainment %) of every rolled-up week up to `until`, oldest first; one query."""
    trends: dict[int, list[tuple]] = {}
    rows = (
        Rollup.objects.filter(plan=plan, level=RollupLevel.ACTION, week__lte=until)
        .order_by("week")
        .values_list("action_id", "week", "attainment_pct")
    )
    for action_id, week, attainment in rows:
        trends.setdefault(action_id, []).append((week, attainment))
    return trends


def task_ledger(*, action, week) -> QuerySet[Task]:
    """An action's ledger (台账); see ledger_rows for the columns and the task light rule."""
    return ledger_rows(Task.objects.filter(action=action), week=week)


def department_tasks(*, plan, department, week) -> QuerySet[Task]:
    """The tasks a department leads, as ledger rows of the as-of week."""
    return ledger_rows(Task.objects.filter(action__plan=plan, lead_department=department), week=week).order_by(
        "action__number", "outline_task", "outline_subtask"
    )


def ledger_rows(tasks: QuerySet[Task], *, week) -> QuerySet[Task]:
    """An action's ledger (台账): its tasks with the task row of the roll-up and the latest progress note.

    Sub-tasks follow their parent (outline order); a parent's row is its roll-up over its sub-tasks too.
    The task's light is its stored roll-up row's (metrics.rollup.engine.aggregate_light_sql, the rule the
    action cards and the plan use too); before any roll-up it is none. The progress columns are the latest note of the task's lead department up to the as-of week. One query.
    """
    rollup = Rollup.objects.filter(task_id=models.OuterRef("pk"), level=RollupLevel.TASK, week=week)
    note = ProgressNote.objects.filter(
        task_id=models.OuterRef("pk"), department_id=models.OuterRef("lead_department_id"),
        period_start__lte=(week + datetime.timedelta(days=6)) if week else None,
    ).order_by("-period_start")

    def col(name, qs=rollup):
        return models.Subquery(qs.values(name)[:1])

    return (
        tasks.select_related("lead_department", "action", "parent")
        .prefetch_related("co_departments")
        .annotate(
            # Outline order: a task, then its sub-tasks (1.1, 1.1.1, 1.1.2, 1.2 …).
            outline_task=Coalesce("parent__number", "number"),
            outline_subtask=models.Case(
                models.When(parent__isnull=True, then=models.Value(0)), default=models.F("number"),
                output_field=models.IntegerField(),
            ),
            completion_pct=col("completion_pct"),
            attainment_pct=col("attainment_pct"),
            schedule_pct=col("schedule_pct"),
            red=col("red"),
            yellow=col("yellow"),
            green=col("green"),
            ms_due=col("milestones_due"),
            ms_on_time=col("milestones_on_time"),
            ms_overdue=col("milestones_overdue"),
            light=Coalesce(col("light"), models.Value(Light.NONE)),
            progress=col("progress", note),
            problems=col("problems", note),
            next_steps=col("next_steps", note),
        )
        .order_by("outline_task", "outline_subtask")
    )


def action_indicator_progress(*, action, week) -> QuerySet[IndicatorProgress]:
    """The stored progress of an action's indicators for one as-of week, in plan order."""
    return (
        IndicatorProgress.objects.filter(indicator__task__action=action, week=week)
        .select_related("indicator__task")
        .order_by("indicator__task__number", "indicator__code")
    )


def indicator_week(*, indicator, week) -> IndicatorProgress | None:
    """One indicator's stored progress at one as-of week."""
    if week is None:
        return None
    return IndicatorProgress.objects.filter(indicator=indicator, week=week).select_related("indicator__task__action").first()


def indicator_series(*, indicator, until) -> list[IndicatorProgress]:
    """The indicator's stored progress of every rolled-up week up to `until`, oldest first; one query."""
    if until is None:
        return []
    return list(
        IndicatorProgress.objects.filter(indicator=indicator, week__lte=until)
        .only("week", "as_of", "actual", "target_to_date", "completion_pct", "schedule_pct")
        .order_by("week")
    )


def indicator_departments(*, indicator, week) -> QuerySet:
    """Each department's progress on the indicator at the as-of week (its share of the target)."""
    return (
        DepartmentIndicatorProgress.objects.filter(indicator=indicator, week=week)
        .select_related("department")
        .order_by("department__code")
    )


def indicator_figures(*, indicator, until) -> QuerySet[Figure]:
    """The indicator's figures of periods started by the end of the as-of week, newest first."""
    end = until + datetime.timedelta(days=6) if until else datetime.date.min
    return (
        Figure.objects.filter(indicator=indicator, period_start__lte=end)
        .select_related("department", "entered_by")
        .order_by("-period_start", "department__name")
    )


def department_indicators(*, department, week) -> QuerySet:
    """A department's progress on each indicator it reports, at the as-of week, in plan order."""
    return (
        DepartmentIndicatorProgress.objects.filter(department=department, week=week)
        .select_related("indicator__task__action")
        .order_by("indicator__task__action__number", "indicator__task__number", "indicator__code")
    )


def department_scores(*, plan, department, until) -> list:
    """The department's score rows of every rolled-up week up to `until`, oldest first; one query."""
    if until is None:
        return []
    return list(DepartmentScore.objects.filter(plan=plan, department=department, week__lte=until).order_by("week"))


def _board_order(*, overall: bool) -> list:
    """By league (部门, 园区, 街道·镇, in the choices' order) and rank in it; or by rank among all units."""
    if overall:
        return [models.F("overall_rank").asc(nulls_last=True), "department__code"]
    league = models.Case(
        *[models.When(department__kind=kind, then=models.Value(n)) for n, kind in enumerate(DepartmentKind.values)],
        default=models.Value(len(DepartmentKind.values)),
    )
    return [league, models.F("rank").asc(nulls_last=True), "department__code"]


def scoreboard(*, plan, week, overall: bool = False) -> list:
    """Every unit's score row of one week: league by league, best rank first (unranked last), or all
    units by their overall rank; one query."""
    if week is None:
        return []
    return list(
        DepartmentScore.objects.filter(plan=plan, week=week).select_related("department").order_by(*_board_order(overall=overall))
    )


def month_end_weeks(weeks) -> list:
    """Of rolled-up weeks (any order), the last one of each month (by its Monday), newest first."""
    last: dict = {}
    for week in sorted(weeks):
        last[(week.year, week.month)] = week
    return sorted(last.values(), reverse=True)


@dataclass(frozen=True)
class MonthlyBoard:
    """The monthly ranking shown: the week its ranks are of, the rows, and whether the month is closed."""

    week: datetime.date | None
    rows: list
    frozen: bool


def monthly_scoreboard(*, plan, week, weeks, overall: bool = False) -> MonthlyBoard:
    """比武打擂 monthly, with rank changes against the month before's frozen ranking.

    A closed month shows its frozen MonthlyRanking rows (the ranks as they stood at its last week when
    the next month began; never recomputed), once the as-of week has reached that week: one query. The
    open month — or a closed one seen as of an earlier week of it — shows its last rolled-up week up to
    the as-of week, live: three queries.
    """
    if week is None:
        return MonthlyBoard(None, [], False)
    month = week.replace(day=1)
    frozen = list(
        MonthlyRanking.objects.filter(plan=plan, month=month, week__lte=week)
        .select_related("department")
        .order_by(*_board_order(overall=overall))
    )
    if frozen:
        return MonthlyBoard(frozen[0].week, frozen, True)
    in_month = [w for w in weeks if w <= week and (w.year, w.month) == (week.year, week.month)]
    if not in_month:
        return MonthlyBoard(None, [], False)
    current = max(in_month)
    rows = scoreboard(plan=plan, week=current, overall=overall)
    before = {
        department_id: (rank, overall_rank)
        for department_id, rank, overall_rank in MonthlyRanking.objects.filter(plan=plan, month=add_months(month, -1))
        .values_list("department_id", "rank", "overall_rank")
    }
    for row in rows:
        # In memory only: the change since the month before, not since the week before.
        row.previous_rank, row.previous_overall_rank = before.get(row.department_id, (None, None))
    return MonthlyBoard(current, rows, False)
