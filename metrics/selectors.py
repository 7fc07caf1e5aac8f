"""Reads of the metrics app."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import QuerySet, Sum

from actions.choices import Direction, EntryMode, Frequency
from actions.models import Department, IndicatorDepartment, Plan, Task
from metrics.choices import FigureState, ReopenStatus, SheetStatus
from metrics.models import Evidence, Figure, IndicatorProgress, ProgressNote, ReopenRequest, Rollup, Sheet, StaleRollup
from metrics.periods import period_end, period_start, periods_until


def latest_rollup(*, plan: Plan) -> Rollup | None:
    """The plan's row of the most recent as-of week rolled up, for the freshness line."""
    return Rollup.objects.filter(plan=plan, level="plan").order_by("-week").first()


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
    return list(Rollup.objects.filter(plan=plan, level="plan").order_by("-week").values_list("week", flat=True))


# --- Reporting: the staff sheet, the review queue, history -------------------------------------------


def year_start(year: int, frequency: str) -> datetime.date:
    """The first period of a plan year: ISO week 1's Monday, or 1 January."""
    if frequency == Frequency.WEEKLY:
        return datetime.date.fromisocalendar(year, 1, 1)
    return datetime.date(year, 1, 1)


def previous_period(start: datetime.date, frequency: str) -> datetime.date:
    if frequency == Frequency.WEEKLY:
        return start - datetime.timedelta(days=7)
    return period_start(start - datetime.timedelta(days=1), frequency)


def next_period(start: datetime.date, frequency: str) -> datetime.date:
    return period_end(start, frequency) + datetime.timedelta(days=1)


def schedule_pct(year: int, frequency: str, start: datetime.date) -> Decimal:
    """序时进度 at the end of the period: months elapsed ÷ 12, or days elapsed ÷ days in the year."""
    end = period_end(start, frequency)
    if frequency == Frequency.MONTHLY:
        return Decimal(min(end.month, 12)) * 100 / 12 if end.year == year else Decimal(100)
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    days = (last - first).days + 1
    return Decimal(min(max((end - first).days + 1, 0), days)) * 100 / days


@dataclass
class SheetRow:
    """One indicator's line on a sheet: what to show beside the input, and what the input holds."""

    assignment: IndicatorDepartment
    figure: Figure | None = None
    previous: Figure | None = None
    cumulative_before: Decimal = Decimal("0")
    input_value: str = ""
    not_applicable: bool = False
    note: str = ""
    version: int = 0
    error: str = ""
    warning: str = ""

    @property
    def indicator(self):
        return self.assignment.indicator

    @property
    def target(self) -> Decimal | None:
        ind = self.assignment.indicator
        if ind.is_summed and self.assignment.target_share is not None:
            return self.assignment.target_share
        return ind.annual_target

    @property
    def cumulative(self) -> Decimal | None:
        if not self.indicator.is_summed:
            return None
        value = self.figure.value if self.figure and self.figure.state == FigureState.REPORTED else Decimal("0")
        return self.cumulative_before + value

    @property
    def completion_pct(self) -> Decimal | None:
        if self.indicator.is_summed:
            if not self.target:
                return None
            return self.cumulative * 100 / self.target
        return None

    @property
    def rate_gap(self) -> Decimal | None:
        """Growth rates and ratios: the reported rate minus the target rate, in percentage points."""
        if self.indicator.is_summed or self.target is None:
            return None
        if not self.figure or self.figure.value is None:
            return None
        return self.figure.value - self.target

    def on_track(self, schedule: Decimal) -> bool | None:
        """Ahead of 序时进度 (amounts, counts) or of the target rate (rates), minding lower-is-better indicators."""
        lower = self.indicator.direction == Direction.LOWER
        if self.completion_pct is not None:
            return self.completion_pct <= schedule if lower else self.completion_pct >= schedule
        if self.rate_gap is not None:
            return self.rate_gap <= 0 if lower else self.rate_gap >= 0
        return None

    @property
    def cumulative_entry(self) -> bool:
        return self.indicator.is_summed and self.indicator.entry_mode == EntryMode.CUMULATIVE

    def display_value(self, figure: Figure | None) -> str:
        """What the input shows for a stored figure: the period amount, or the cumulative when typed so."""
        if figure is None or figure.state != FigureState.REPORTED:
            return ""
        value = self.cumulative_before + figure.value if self.cumulative_entry else figure.value
        return format_decimal(value)


def format_decimal(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class SheetGroup:
    action: object
    task: object
    rows: list[SheetRow] = field(default_factory=list)


def sheet_assignments(*, plan, department: Department, frequency: str):
    """The indicators a department reports at this frequency, with their task and action, in one query."""
    return (
        IndicatorDepartment.objects.filter(
            department=department, indicator__frequency=frequency, indicator__task__action__plan=plan
        )
        .select_related("indicator__task__action")
        .order_by("indicator__task__action__number", "indicator__task__number", "indicator__code")
    )


def cumulative_before(*, department, indicator_ids, frequency: str, year: int, start: datetime.date) -> dict[int, Decimal]:
    """Per indicator: the sum of the department's reported period amounts of the year before `start`."""
    rows = (
        Figure.objects.filter(
            department=department,
            indicator_id__in=indicator_ids,
            state=FigureState.REPORTED,
            period_start__gte=year_start(year, frequency),
            period_start__lt=start,
        )
        .values_list("indicator_id")
        .annotate(total=Sum("value"))
    )
    return {indicator_id: total for indicator_id, total in rows}


def sheet_rows(*, plan, department: Department, frequency: str, start: datetime.date) -> list[SheetRow]:
    """Every indicator line of a sheet with its current figure, last period's, and the cumulative: four queries."""
    assignments = list(sheet_assignments(plan=plan, department=department, frequency=frequency))
    ids = [a.indicator_id for a in assignments]
    previous_start = previous_period(start, frequency)
    figures = {
        (f.indicator_id, f.period_start): f
        for f in Figure.objects.filter(department=department, indicator_id__in=ids, period_start__in=[start, previous_start])
    }
    before = cumulative_before(department=department, indicator_ids=ids, frequency=frequency, year=plan.year, start=start)
    rows = []
    for a in assignments:
        row = SheetRow(
            assignment=a,
            figure=figures.get((a.indicator_id, start)),
            previous=figures.get((a.indicator_id, previous_start)),
            cumulative_before=before.get(a.indicator_id, Decimal("0")),
        )
        if row.figure:
            row.input_value = row.display_value(row.figure)
            row.not_applicable = row.figure.state == FigureState.NOT_APPLICABLE
            row.note = row.figure.note
            row.version = row.figure.version
        rows.append(row)
    return rows


def group_rows(rows: list[SheetRow]) -> list[SheetGroup]:
    groups: list[SheetGroup] = []
    for row in rows:
        task = row.indicator.task
        if not groups or groups[-1].task.pk != task.pk:
            groups.append(SheetGroup(action=task.action, task=task))
        groups[-1].rows.append(row)
    return groups


def sheet_find(*, plan, department, frequency: str, start: datetime.date) -> Sheet | None:
    return Sheet.objects.filter(plan=plan, department=department, frequency=frequency, period_start=start).first()


def led_tasks(*, plan, department: Department):
    """The tasks a department leads, with their milestones: their progress goes on the weekly sheet."""
    return (
        Task.objects.filter(action__plan=plan, lead_department=department)
        .select_related("action")
        .prefetch_related("milestones")
        .order_by("action__number", "number")
    )


def progress_notes(*, department, start: datetime.date) -> dict[int, ProgressNote]:
    return {n.task_id: n for n in ProgressNote.objects.filter(department=department, period_start=start)}


def evidence_files(*, department, task_ids) -> dict[int, list[Evidence]]:
    files: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(department=department, task_id__in=task_ids).order_by("-created"):
        files.setdefault(item.task_id, []).append(item)
    return files


def sheet_periods(*, plan, frequency: str, today: datetime.date) -> list[datetime.date]:
    """The periods of the plan year a sheet can be opened for, newest first (up to the current one)."""
    return list(reversed(periods_until(plan.year, frequency, today)))


def review_queue(*, plan):
    """Sheets waiting for the supervision office, oldest first."""
    return (
        Sheet.objects.filter(plan=plan, status=SheetStatus.SUBMITTED)
        .select_related("department", "submitted_by")
        .order_by("submitted_at")
    )


def reopen_queue(*, plan):
    return (
        ReopenRequest.objects.filter(sheet__plan=plan, status=ReopenStatus.PENDING)
        .select_related("sheet__department", "requested_by")
        .order_by("created")
    )


def figure_history(*, figure: Figure) -> list[dict]:
    """Every recorded version of a figure, newest first, each with the value it replaced."""
    records = list(figure.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        entries.append({"record": record, "old": previous})
        previous = record
    return list(reversed(entries))


def note_history(*, note: ProgressNote) -> list[dict]:
    records = list(note.history.select_related("history_user").order_by("history_date", "history_id"))
    entries, previous = [], None
    for record in records:
        entries.append({"record": record, "old": previous})
        previous = record
    return list(reversed(entries))


# --- Dashboards: every page reads the stored roll-ups of one as-of week -----------------------------


def plan_rollup(*, plan: Plan, week) -> Rollup | None:
    """The plan's row of one as-of week (light counts, weighted progress, freshness)."""
    if week is None:
        return None
    return Rollup.objects.filter(plan=plan, level="plan", week=week).first()


def action_rollups(*, plan: Plan, week) -> dict[int, Rollup]:
    """The actions' rows of one as-of week, by action id."""
    return {r.action_id: r for r in Rollup.objects.filter(plan=plan, level="action", week=week)}


def plan_and_action_rollups(*, plan: Plan, week) -> tuple[Rollup | None, dict[int, Rollup]]:
    """The plan's row and the actions' rows (by action id) of one as-of week, in one query."""
    plan_row, actions = None, {}
    if week is None:
        return plan_row, actions
    for row in Rollup.objects.filter(plan=plan, week=week, level__in=["plan", "action"]):
        if row.level == "plan":
            plan_row = row
        else:
            actions[row.action_id] = row
    return plan_row, actions


def action_trends(*, plan: Plan, until) -> dict[int, list[tuple]]:
    """Per action id: (week, attainment %) of every rolled-up week up to `until`, oldest first; one query."""
    trends: dict[int, list[tuple]] = {}
    rows = (
        Rollup.objects.filter(plan=plan, level="action", week__lte=until)
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
    rollup = Rollup.objects.filter(task_id=models.OuterRef("pk"), level="task", week=week)
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
    from metrics.models import DepartmentIndicatorProgress

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
    from metrics.models import DepartmentIndicatorProgress

    return (
        DepartmentIndicatorProgress.objects.filter(department=department, week=week)
        .select_related("indicator__task__action")
        .order_by("indicator__task__action__number", "indicator__task__number", "indicator__code")
    )


def department_scores(*, plan, department, until) -> list:
    """The department's score rows of every rolled-up week up to `until`, oldest first; one query."""
    from metrics.models import DepartmentScore

    if until is None:
        return []
    return list(DepartmentScore.objects.filter(plan=plan, department=department, week__lte=until).order_by("week"))


def scoreboard(*, plan, week) -> list:
    """Every department's score row of one week, best rank first (unranked last); one query."""
    from metrics.models import DepartmentScore

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
    from metrics.models import DepartmentScore

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


# --- Supervision (督查) -------------------------------------------------------------------------------


def lagging_indicators(*, plan, week) -> QuerySet[IndicatorProgress]:
    """Indicators with a red or a yellow light at the as-of week, red first, furthest behind first."""
    return (
        IndicatorProgress.objects.filter(plan=plan, week=week, light__in=["red", "yellow"])
        .select_related("indicator__task__action", "indicator__task__lead_department")
        .order_by(models.Case(models.When(light="red", then=0), default=1), "gap_pp")
    )


def overdue_milestones(*, plan, as_of) -> QuerySet:
    """Milestones due by `as_of` and not done by then (the roll-up's rule), oldest first."""
    from actions.models import Milestone

    if as_of is None:
        return Milestone.objects.none()
    return (
        Milestone.objects.filter(task__action__plan=plan, planned_date__lte=as_of)
        .filter(models.Q(done_date__isnull=True) | models.Q(done_date__gt=as_of))
        .select_related("task__action", "task__lead_department")
        .order_by("planned_date", "task__action__number", "task__number", "number")
    )


def missing_reports(*, plan, week) -> list[dict]:
    """Per department, the reports due in the as-of week's period and how many are missing (only those missing)."""
    from metrics.models import DepartmentIndicatorProgress

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
    from metrics.models import Reminder

    return Reminder.objects.filter(plan=plan).select_related("department", "reminded_by").order_by("-created", "-pk")[:limit]
