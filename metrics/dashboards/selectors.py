"""Reads of the dashboards: every page reads the stored roll-ups of one as-of week, in a fixed number of queries."""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from actions.choices import DepartmentKind
from actions.models import Plan, Task
from actions.schedule import add_months
from metrics import permissions
from metrics.choices import ExtensionStatus, Light, RollupLevel
from metrics.models import (
    CloseOffRequest,
    DepartmentIndicatorProgress,
    ExtensionRequest,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    MonthlyRanking,
    ProgressNote,
    Rollup,
    RollupCorrection,
    StaleRollup,
)
from planboard import clock, formatting
from planboard.periods import Frequency, period_start


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


def task_ledger(*, action, week, user) -> QuerySet[Task]:
    """An action's ledger (台账); see ledger_rows for the columns and the task light rule."""
    return ledger_rows(Task.objects.filter(action=action), week=week, user=user)


def department_tasks(*, plan, department, week, user) -> QuerySet[Task]:
    """The tasks a department leads, as ledger rows of the as-of week."""
    return ledger_rows(Task.objects.filter(action__plan=plan, lead_department=department), week=week, user=user).order_by(
        "action__number", "outline_task", "outline_subtask"
    )


def ledger_rows(tasks: QuerySet[Task], *, week, user) -> QuerySet[Task]:
    """An action's ledger (台账): its tasks with the task row of the roll-up and the latest progress note.

    Sub-tasks follow their parent (outline order); a parent's row is its roll-up over its sub-tasks too.
    The task's light is its stored roll-up row's (metrics.rollup.engine.aggregate_light_sql, the rule the
    action cards and the plan use too); before any roll-up it is none. The progress columns are the latest
    note of the task's lead department up to the as-of week, blank where the user may not see that
    department's notes (metrics.permissions). Each row also carries its latest 销号 proposal's and 延期
    request's status, and the deadline before its first granted extension (`extended_from`). One query.
    """
    closeoff = CloseOffRequest.objects.filter(task_id=models.OuterRef("pk")).order_by("-requested_at", "-pk")
    extension = ExtensionRequest.objects.filter(task_id=models.OuterRef("pk")).order_by("-requested_at", "-pk")
    granted = ExtensionRequest.objects.filter(task_id=models.OuterRef("pk"), status=ExtensionStatus.GRANTED).order_by("requested_at", "pk")
    # The task's roll-up row of the week (unique: plan, week, subject), joined once for its ten columns.
    rolled = models.FilteredRelation("rollups", condition=models.Q(rollups__level=RollupLevel.TASK, rollups__week=week))
    note = ProgressNote.objects.filter(task_id=models.OuterRef("pk"), department_id=models.OuterRef("lead_department_id"))
    if week is not None:  # before any roll-up: the latest note (a None bound is no SQL, and the page failed on it)
        note = note.filter(period_start__lte=week + datetime.timedelta(days=6))
    note = note.order_by("-period_start")
    visible = permissions.visible_departments(user)
    if visible is not None:
        note = note.filter(department_id__in=visible)

    def col(name, qs=None):
        if qs is None:
            return models.F(f"task_rollup__{name}")
        return models.Subquery(qs.values(name)[:1])

    return (
        tasks.select_related("lead_department", "action", "parent")
        .prefetch_related("co_departments")
        .annotate(task_rollup=rolled)
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
            closeoff_status=col("status", closeoff),
            extension_status=col("status", extension),
            extended_from=col("current_deadline", granted),
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
        .only("week", "as_of", "actual", "target", "target_to_date", "completion_pct", "schedule_pct")
        .order_by("week")
    )


def indicator_departments(*, indicator, week) -> QuerySet:
    """Each department's progress on the indicator at the as-of week (its share of the target), with
    the period of its latest reported figure (see with_latest_period)."""
    return with_latest_period(
        DepartmentIndicatorProgress.objects.filter(indicator=indicator, week=week)
        .select_related("department", "indicator")
        .order_by("department__code")
    )


def with_latest_period(rows: QuerySet[DepartmentIndicatorProgress]) -> QuerySet[DepartmentIndicatorProgress]:
    """Department rows with `latest_period` (the period of the department's latest reported figure that
    the roll-up counted: a rate's row reads that figure), `due_period` (the latest period counted, the
    period due: the indicator's cutoff that week) and `latest_is_old` (older than the period due).

    The indicator-wide rate is the mean of the departments' latest rates however old; these say how old.
    In the same query (subqueries), not one per row.
    """
    due = IndicatorProgress.objects.filter(indicator_id=models.OuterRef("indicator_id"), week=models.OuterRef("week")).values("cutoff")[:1]
    latest = (
        Figure.objects.filter(
            indicator_id=models.OuterRef("indicator_id"), department_id=models.OuterRef("department_id"),
            value__isnull=False, period_start__lte=models.OuterRef("due_period"),
        )
        .order_by("-period_start")
        .values("period_start")[:1]
    )
    return rows.annotate(due_period=models.Subquery(due)).annotate(latest_period=models.Subquery(latest)).annotate(
        latest_is_old=models.Case(
            models.When(latest_period__lt=models.F("due_period"), then=models.Value(True)),
            default=models.Value(False),
            output_field=models.BooleanField(),
        )
    )


def indicator_figures(*, indicator, until, user) -> QuerySet[Figure]:
    """The indicator's figures of periods started by the end of the as-of week that the user may see, newest first."""
    end = until + datetime.timedelta(days=6) if until else datetime.date.min
    figures = Figure.objects.filter(indicator=indicator, period_start__lte=end)
    visible = permissions.visible_departments(user)
    if visible is not None:
        figures = figures.filter(department_id__in=visible)
    return figures.select_related("department", "entered_by").order_by("-period_start", "department__name")


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




@dataclass
class Revisions:
    """Corrections made to a published week's figures after the day it was judged on (已修订)."""

    count: int
    latest: list  # the most recent historical figure records, each with `old_value`


REVISIONS_SHOWN = 10


def _corrections(*, plan: Plan, rollup: Rollup | None):
    """The history records of figure corrections (changes, not first entries) of periods up to the as-of week,
    made after the end of the day the week was judged on; None for the week in progress (not published)."""
    if rollup is None or (rollup.as_of < rollup.week + datetime.timedelta(days=6) and rollup.as_of >= clock.today()):
        return None
    judged_end = timezone.make_aware(datetime.datetime.combine(rollup.as_of, datetime.time.max))
    return Figure.history.model.objects.filter(
        history_type="~",
        indicator__task__action__plan=plan,
        period_start__lte=rollup.week + datetime.timedelta(days=6),
        history_date__gt=judged_end,
    )


def week_revisions(*, plan: Plan, rollup: Rollup | None) -> Revisions:
    """已修订: the corrections to a published week's figures (when, who, which figure, old → new). One query
    where there are none (every page's head asks: most weeks have none), two where there are."""
    changes = _corrections(plan=plan, rollup=rollup)
    if changes is None:
        return Revisions(count=0, latest=[])
    count = changes.count()
    if not count:
        return Revisions(count=0, latest=[])
    history = Figure.history.model.objects
    before = history.filter(id=models.OuterRef("id"), history_date__lt=models.OuterRef("history_date")).order_by("-history_date")
    latest = list(
        changes.select_related("indicator", "department", "history_user")
        .annotate(old_value=models.Subquery(before.values("value")[:1]), old_state=models.Subquery(before.values("state")[:1]))
        .order_by("-history_date")[:REVISIONS_SHOWN]
    )
    return Revisions(count=count, latest=latest)


def revised_indicators(*, plan: Plan, rollup: Rollup | None) -> set[int]:
    """The indicators with a correction to a published week's figures (for exports); one query."""
    changes = _corrections(plan=plan, rollup=rollup)
    return set() if changes is None else set(changes.values_list("indicator_id", flat=True).distinct())


def week_correction(*, plan: Plan, week) -> RollupCorrection | None:
    """The latest time the nightly check found the as-of week's stored roll-up differing from its figures and
    rolled it up again (metrics.rollup.services.rollup_repair), with how many rows differed; one query."""
    if week is None:
        return None
    key = week.isoformat()
    correction = RollupCorrection.objects.filter(plan=plan, differing__has_key=key).order_by("-found_at").first()
    if correction:
        correction.rows = correction.differing[key]
    return correction


def page_head(*, plan: Plan, week, rollup: Rollup | None = None) -> dict:
    """What the head of every dashboard page shows (includes/freshness.html): the as-of week's plan row, the
    corrections made to its figures after the week was published, and the nightly check's correction of its
    roll-up, if any (the stale banner is base.html's, on every page). Pass `rollup` when already read."""
    rollup = rollup if rollup is not None else plan_rollup(plan=plan, week=week)
    return {"rollup": rollup, "revisions": week_revisions(plan=plan, rollup=rollup),
            "correction": week_correction(plan=plan, week=week)}
# ---------------------------------------------------------------------------------------------------
# Chart data: each page puts its chart's data in the page (json_script), built here from the same reads
# as its tables, numbers rounded as the pages print them.


def overview_chart(*, week, cards, trends) -> dict:
    """The overview's sparklines: each action's against-schedule % per week (100 = on schedule), from
    action_cards and action_trends already read for the page."""
    return {
        "week": week.isoformat() if week else None,
        "actions": [
            {
                "number": card.number,
                "labels": [day.isoformat() for day, _ in trends.get(card.pk, [])],
                "attainment": [formatting.chart_pct(value) for _, value in trends.get(card.pk, [])],
            }
            for card in cards
        ],
    }


def action_chart(*, action, week) -> dict:
    """An action page's chart: each indicator's against-schedule % at the as-of week, whatever its kind
    (100 = on schedule for amounts and counts, on target for rates, every node on time for milestones),
    and its light. One query, of plain values: an action of a large plan has hundreds of indicators."""
    rows = list(action_indicator_progress(action=action, week=week).values_list("indicator__name", "attainment_pct", "light"))
    return {
        "week": week.isoformat() if week else None,
        "labels": [name for name, _, _ in rows],
        "attainment": [formatting.chart_pct(attainment) for _, attainment, _ in rows],
        "lights": [light for _, _, light in rows],
    }


def indicator_chart(*, indicator, plan, week) -> dict:
    """The indicator page's chart: per week the cumulative actual against the target path, completion and
    序时进度 (amounts and counts); a rate's actual rate against its target rate (no 序时: a rate is not
    judged against the time elapsed). Weeks still to come up to the checkpoint are empty. One query."""
    series = indicator_series(indicator=indicator, until=week)
    labels = [p.week.isoformat() for p in series]
    if series:
        day, checkpoint_week = series[-1].week, period_start(plan.checkpoint, Frequency.WEEKLY)
        while day < checkpoint_week:
            day += datetime.timedelta(days=7)
            labels.append(day.isoformat())
    padding = [None] * (len(labels) - len(series))
    rate = indicator.is_rate
    return {
        "week": week.isoformat() if week else None,
        "checkpoint": plan.checkpoint.isoformat(),
        "measure": indicator.measure,
        "labels": labels,
        "actual": [formatting.chart_amount(p.actual) for p in series] + padding,
        "target_to_date": [formatting.chart_amount(p.target if rate else p.target_to_date) for p in series] + padding,
        "completion": [None if rate else formatting.chart_pct(p.completion_pct) for p in series] + padding,
        "schedule": [None if rate else formatting.chart_pct(p.schedule_pct) for p in series] + padding,
    }


def department_chart(*, week, scores) -> dict:
    """The department page's chart: completeness, timeliness, score and rank per week, from department_scores."""
    return {
        "week": week.isoformat() if week else None,
        "labels": [s.week.isoformat() for s in scores],
        "completeness": [formatting.chart_pct(s.completeness_pct) for s in scores],
        "timeliness": [formatting.chart_pct(s.timeliness_pct) for s in scores],
        "score": [formatting.chart_pct(s.score) for s in scores],
        "rank": [s.rank for s in scores],
    }
