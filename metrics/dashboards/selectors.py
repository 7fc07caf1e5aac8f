"""Reads of the dashboards: every page reads the stored roll-ups of one as-of week, in a fixed number of queries."""

import datetime

from django.db import models
from django.db.models import QuerySet

from actions.models import Plan, Task
from metrics.choices import RollupLevel
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    ProgressNote,
    Rollup,
    StaleRollup,
)


def latest_rollup(*, plan: Plan) -> Rollup | None:
    """The plan's row of the most recent as-of week rolled up, for the freshness line."""
    return Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN).order_by("-week").first()


def stale_rollups() -> QuerySet[StaleRollup]:
    """Every plan's stale mark, for the banner on every page (a lazy queryset: read only when shown)."""
    return StaleRollup.objects.select_related("plan").order_by("plan__year")


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
    return ledger_rows(Task.objects.filter(action__plan=plan, lead_department=department), week=week).order_by("action__number", "number")


def ledger_rows(tasks: QuerySet[Task], *, week) -> QuerySet[Task]:
    """An action's ledger (台账): its tasks with the task row of the roll-up and the latest progress note.

    The task's light is derived from its stored roll-up row of the as-of week: red when any indicator is
    red or any milestone due is not done; else yellow when any indicator is yellow or a milestone was done
    late; else green when any indicator is green or every milestone due was done on time; else none. The
    progress columns are the latest note of the task's lead department up to the as-of week. One query.
    """
    rollup = Rollup.objects.filter(task_id=models.OuterRef("pk"), level=RollupLevel.TASK, week=week)
    note = ProgressNote.objects.filter(
        task_id=models.OuterRef("pk"), department_id=models.OuterRef("lead_department_id"),
        period_start__lte=(week + datetime.timedelta(days=6)) if week else None,
    ).order_by("-period_start")

    def col(name, qs=rollup):
        return models.Subquery(qs.values(name)[:1])

    return (
        tasks.select_related("lead_department", "action")
        .prefetch_related("co_departments")
        .annotate(
            completion_pct=col("completion_pct"),
            attainment_pct=col("attainment_pct"),
            schedule_pct=col("schedule_pct"),
            red=col("red"),
            yellow=col("yellow"),
            green=col("green"),
            ms_due=col("milestones_due"),
            ms_on_time=col("milestones_on_time"),
            ms_overdue=col("milestones_overdue"),
            progress=col("progress", note),
            problems=col("problems", note),
            next_steps=col("next_steps", note),
        )
        .annotate(
            light=models.Case(
                models.When(models.Q(red__gt=0) | models.Q(ms_overdue__gt=0), then=models.Value("red")),
                models.When(models.Q(yellow__gt=0) | models.Q(ms_due__gt=models.F("ms_on_time") + models.F("ms_overdue")), then=models.Value("yellow")),
                models.When(models.Q(green__gt=0) | models.Q(ms_due__gt=0), then=models.Value("green")),
                default=models.Value("none"),
                output_field=models.CharField(),
            )
        )
        .order_by("number")
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


def scoreboard(*, plan, week) -> list:
    """Every department's score row of one week, best rank first (unranked last); one query."""
    if week is None:
        return []
    return list(
        DepartmentScore.objects.filter(plan=plan, week=week)
        .select_related("department")
        .order_by(models.F("rank").asc(nulls_last=True), "department__code")
    )


def month_end_weeks(weeks) -> list:
    """Of rolled-up weeks (any order), the last one of each month (by its Monday), newest first."""
    last: dict = {}
    for week in sorted(weeks):
        last[(week.year, week.month)] = week
    return sorted(last.values(), reverse=True)


def monthly_scoreboard(*, plan, week, weeks) -> tuple:
    """比武打擂 monthly: the scoreboard of the last rolled-up week of the as-of week's month (up to it),
    with rank changes against the last week of the month before. Two queries."""
    months = [w for w in month_end_weeks([w for w in weeks if w <= week])] if week else []
    if not months:
        return None, []
    # The as-of week's month ends at its last rolled-up week that is not after the as-of week.
    current = max(w for w in weeks if w <= week and (w.year, w.month) == (week.year, week.month))
    rows = scoreboard(plan=plan, week=current)
    previous = next((w for w in months if (w.year, w.month) < (current.year, current.month)), None)
    before = dict(
        DepartmentScore.objects.filter(plan=plan, week=previous).values_list("department_id", "rank")
    ) if previous else {}
    for row in rows:
        row.previous_rank = before.get(row.department_id)  # in memory only: the change since last month
    return current, rows


