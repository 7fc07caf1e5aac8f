"""Reads of reporting: the staff sheet as one page object, the review queue, and history.

The sheet shows the roll-up's own numbers for the department (completion, 序时进度, light, from its
DepartmentIndicatorProgress row of the week the period is judged in), so a unit sees on its sheet exactly
what the dashboards show; the 序时进度 comes from actions.schedule when no roll-up exists yet.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from urllib.parse import urlencode

from django.db.models import QuerySet, Sum
from django.urls import reverse

from actions.choices import EntryMode, Frequency
from actions.models import Department, IndicatorDepartment, Plan, Task
from actions.schedule import judged_on, schedule_pct
from metrics import permissions
from metrics.choices import FigureState, ReopenStatus, SheetStatus
from metrics.models import DepartmentIndicatorProgress, Evidence, Figure, ProgressNote, ReopenRequest, Sheet
from planboard.formatting import amount
from planboard.periods import due_at, period_end, period_start, periods_until, previous_period, reporting_period, year_start


def sheet_url(department, frequency, start) -> str:
    """The address of a department's sheet for a period (the page, the inbox and messages link to it)."""
    query = urlencode({"department": department.code, "frequency": frequency, "period": start.isoformat()})
    return f"{reverse('metrics:entry')}?{query}"


def judging_week(*, frequency: str, start: datetime.date, today: datetime.date) -> datetime.date:
    """The as-of week whose roll-up judges a period: the week its last day falls in, or this week if later."""
    return min(period_start(period_end(start, frequency), Frequency.WEEKLY), period_start(today, Frequency.WEEKLY))


@dataclass
class SheetRow:
    """One indicator's line on a sheet: what to show beside the input, and what the input holds.

    `progress` is the department's stored roll-up row of the judging week (None before any roll-up);
    `schedule_pct` is 序时进度 on the day that week is judged on (actions.schedule).
    """

    assignment: IndicatorDepartment
    figure: Figure | None = None
    previous: Figure | None = None
    cumulative_before: Decimal = Decimal("0")
    progress: DepartmentIndicatorProgress | None = None
    schedule_pct: float | None = None
    input_value: str = ""
    not_applicable: bool = False
    note: str = ""
    version: int = 0
    # What the form showed when its author loaded it (posted back, so a save writes only what they changed).
    shown_value: str = ""
    shown_not_applicable: bool = False
    shown_note: str = ""
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
    def cumulative_entry(self) -> bool:
        return self.indicator.is_summed and self.indicator.entry_mode == EntryMode.CUMULATIVE

    def display_value(self, figure: Figure | None) -> str:
        """What the input shows for a stored figure: the period amount, or the cumulative when typed so."""
        if figure is None or figure.state != FigureState.REPORTED:
            return ""
        value = self.cumulative_before + figure.value if self.cumulative_entry else figure.value
        return amount(value)


@dataclass
class SheetGroup:
    action: object
    task: object
    rows: list[SheetRow] = field(default_factory=list)


def sheet_assignments(*, plan, department: Department, frequency: str | None = None):
    """The indicators a department reports (at this frequency, or at any), with their task and action, in one query."""
    assignments = IndicatorDepartment.objects.filter(department=department, indicator__task__action__plan=plan)
    if frequency:
        assignments = assignments.filter(indicator__frequency=frequency)
    return assignments.select_related("indicator__task__action").order_by(
        "indicator__task__action__number", "indicator__task__number", "indicator__code"
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
    return {indicator_id: Figure.quantize(total) for indicator_id, total in rows}


def sheet_rows(
    *, plan, department: Department, frequency: str, start: datetime.date, today: datetime.date, assignments=None
) -> list[SheetRow]:
    """Every indicator line of a sheet with its current figure, last period's, the cumulative and the
    roll-up row that judges it: four queries, and one more unless the assignments are given."""
    if assignments is None:
        assignments = list(sheet_assignments(plan=plan, department=department, frequency=frequency))
    ids = [a.indicator_id for a in assignments]
    previous_start = previous_period(start, frequency)
    figures = {
        (f.indicator_id, f.period_start): f
        for f in Figure.objects.filter(department=department, indicator_id__in=ids, period_start__in=[start, previous_start])
    }
    before = cumulative_before(department=department, indicator_ids=ids, frequency=frequency, year=plan.year, start=start)
    week = judging_week(frequency=frequency, start=start, today=today)
    day = judged_on(week_start=week, today=today, checkpoint=plan.checkpoint)
    progress = {
        p.indicator_id: p
        for p in DepartmentIndicatorProgress.objects.filter(plan=plan, week=week, department=department, indicator_id__in=ids)
    }
    rows = []
    for a in assignments:
        row = SheetRow(
            assignment=a,
            figure=figures.get((a.indicator_id, start)),
            previous=figures.get((a.indicator_id, previous_start)),
            cumulative_before=before.get(a.indicator_id, Decimal("0")),
            progress=progress.get(a.indicator_id),
            schedule_pct=schedule_pct(a.indicator, plan.year, day) if a.indicator.is_summed else None,
        )
        if row.figure:
            row.input_value = row.display_value(row.figure)
            row.not_applicable = row.figure.state == FigureState.NOT_APPLICABLE
            row.note = row.figure.note
            row.version = row.figure.version
        row.shown_value, row.shown_not_applicable, row.shown_note = row.input_value, row.not_applicable, row.note
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
    for item in Evidence.objects.filter(department=department, task_id__in=task_ids).order_by("-uploaded_at"):
        files.setdefault(item.task_id, []).append(item)
    return files


def sheet_periods(*, plan, frequency: str, today: datetime.date) -> list[datetime.date]:
    """The periods of the plan year a sheet can be opened for, newest first (up to the current one)."""
    return list(reversed(periods_until(plan.year, frequency, today)))


def period_locks(*, plan, department: Department, frequency: str, today: datetime.date) -> dict:
    """Every started period of the plan year, oldest first, with why it is locked today (None: open): one query."""
    starts = periods_until(plan.year, frequency, today)
    sheets = {
        s.period_start: s
        for s in Sheet.objects.filter(plan=plan, department=department, frequency=frequency, period_start__in=starts)
    }
    return {
        start: permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheets.get(start), today=today)
        for start in starts
    }


def period_to_act_on(locks: dict, *, frequency: str, today: datetime.date) -> datetime.date:
    """The period a person can act on: the open one due next (the earliest still open), else the one due now."""
    return next((start for start, lock in locks.items() if lock is None), reporting_period(today, frequency))


def sheet_period_to_act_on(*, plan, department: Department, frequency: str, today: datetime.date) -> datetime.date:
    """Which period a sheet opens on when no period is asked for."""
    locks = period_locks(plan=plan, department=department, frequency=frequency, today=today)
    return period_to_act_on(locks, frequency=frequency, today=today)


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
        .order_by("requested_at")
    )


def history_entries(history: QuerySet) -> list[dict]:
    """Every recorded version of a figure or progress note, newest first, each with the version it replaced."""
    records = list(history.select_related("history_user").order_by("history_date", "history_id"))
    entries, previous = [], None
    for record in records:
        entries.append({"record": record, "old": previous})
        previous = record
    return list(reversed(entries))


@dataclass
class TaskProgress:
    """A led task's block on the weekly sheet: its note, what the inputs hold, milestones and evidence."""

    task: Task
    note: ProgressNote | None
    progress: str
    problems: str
    next_steps: str
    version: int
    milestones: list
    evidence: list
    error: str = ""
    file_error: str = ""
    # What the form showed when loaded (posted back, so a save writes only what its author changed).
    shown_progress: str = ""
    shown_problems: str = ""
    shown_next_steps: str = ""


@dataclass
class SheetPage:
    """Everything the sheet page shows, built once by `sheet_page` (the view only renders it)."""

    plan: Plan
    department: Department
    departments: list
    frequency: str
    start: datetime.date
    end: datetime.date
    periods: list
    previous_start: datetime.date | None
    next_start: datetime.date | None
    groups: list[SheetGroup]
    other_frequency: str
    other_count: int
    other_start: datetime.date
    # The other frequency's period due now, when it is not the one to act on (April on 20 May), and its lock.
    other_due_start: datetime.date | None
    other_due_lock: object
    tasks: list[TaskProgress]
    sheet: Sheet | None
    lock: object
    can_edit: bool
    can_review: bool
    reopened: bool
    pending_reopen: ReopenRequest | None
    due: datetime.datetime
    open_until: datetime.date
    errors: dict

    @property
    def editable(self) -> bool:
        return self.can_edit and self.lock is None

    @property
    def frequencies(self) -> list[tuple[str, str]]:
        """The frequency picker's choices."""
        return Frequency.choices

    @property
    def can_ask_reopen(self) -> bool:
        return self.can_edit and self.lock is not None and self.lock.code in permissions.REOPENABLE

    @property
    def returned(self) -> bool:
        """Returned for correction and open: the page says so in one sentence, with the comment."""
        return self.sheet is not None and self.sheet.is_returned and self.lock is None

    @property
    def sheet_error(self) -> str:
        return self.errors.get("__all__", "")


def _task_blocks(*, plan, department, start, posted, errors: dict, conflicts) -> list[TaskProgress]:
    led = list(led_tasks(plan=plan, department=department))
    saved_notes = progress_notes(department=department, start=start)
    evidence = evidence_files(department=department, task_ids=[t.pk for t in led])
    blocks = []
    for task in led:
        note = saved_notes.get(task.pk)
        given = posted.notes.get(task.pk) if posted else None
        task_milestones = list(task.milestones.all())
        for milestone in task_milestones:
            typed = posted.milestones.get(milestone.pk) if posted else None
            saved = milestone.done_date.isoformat() if milestone.done_date else ""
            milestone.input_value = typed if typed is not None else saved
            was_shown = posted.milestones_shown.get(milestone.pk) if posted else None
            milestone.shown_value = was_shown if was_shown is not None else saved
            milestone.error = errors.get(f"ms-{milestone.pk}", "")
        shown = given or note
        conflict = f"progress-{task.pk}" in conflicts
        if given is not None and given.shown_progress is not None and not conflict:
            was_shown = (given.shown_progress, given.shown_problems, given.shown_next_steps)
        else:
            was_shown = (note.progress, note.problems, note.next_steps) if note else ("", "", "")
        blocks.append(
            TaskProgress(
                task=task,
                note=note,
                progress=shown.progress if shown else "",
                problems=shown.problems if shown else "",
                next_steps=shown.next_steps if shown else "",
                version=given.version if given and f"progress-{task.pk}" not in conflicts else (note.version if note else 0),
                milestones=task_milestones,
                evidence=evidence.get(task.pk, []),
                error=errors.get(f"progress-{task.pk}", ""),
                file_error=errors.get(f"file-{task.pk}", ""),
                shown_progress=was_shown[0],
                shown_problems=was_shown[1],
                shown_next_steps=was_shown[2],
            )
        )
    return blocks


def sheet_page(
    *, user, plan: Plan, department: Department, frequency: str, start: datetime.date, today: datetime.date,
    posted=None, errors: dict | None = None, conflicts: set | frozenset = frozenset(),
) -> SheetPage:
    """The sheet page of a department and period; with `posted` (a SheetInput) and `errors` after a refused
    save, the inputs show what was typed, not what is stored."""
    errors = errors or {}
    everything = list(sheet_assignments(plan=plan, department=department))
    mine = [a for a in everything if a.indicator.frequency == frequency]
    rows = sheet_rows(plan=plan, department=department, frequency=frequency, start=start, today=today, assignments=mine)
    for row in rows:
        typed = posted.cells.get(row.indicator.pk) if posted else None
        if typed is not None:
            row.input_value, row.not_applicable, row.note = typed.raw, typed.not_applicable, typed.note
            # After a conflict the cell shows what is saved now, so saving again overrides knowingly.
            if f"v-{row.indicator.pk}" not in conflicts:
                row.version = typed.version
                if typed.shown_raw is not None:
                    row.shown_value, row.shown_not_applicable, row.shown_note = typed.shown_raw, typed.shown_not_applicable, typed.shown_note
        row.error = errors.get(f"v-{row.indicator.pk}", "")
    sheet = sheet_find(plan=plan, department=department, frequency=frequency, start=start)
    lock = permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=today)
    can_edit = permissions.can_edit(user, department)
    departments = (
        list(user.departments.order_by("code"))
        if can_edit
        else list(Department.objects.filter(assignments__indicator__task__action__plan=plan).distinct().order_by("kind", "code"))
    )
    other = Frequency.MONTHLY if frequency == Frequency.WEEKLY else Frequency.WEEKLY
    other_locks = period_locks(plan=plan, department=department, frequency=other, today=today)
    other_start = period_to_act_on(other_locks, frequency=other, today=today)
    other_due = reporting_period(today, other)
    following = period_end(start, frequency) + datetime.timedelta(days=1)
    return SheetPage(
        plan=plan,
        department=department,
        departments=departments,
        frequency=frequency,
        start=start,
        end=period_end(start, frequency),
        periods=sheet_periods(plan=plan, frequency=frequency, today=today),
        previous_start=previous_period(start, frequency) if start > year_start(plan.year, frequency) else None,
        next_start=following if following <= period_start(today, frequency) else None,
        groups=group_rows(rows),
        other_frequency=other,
        other_count=len(everything) - len(mine),
        other_start=other_start,
        other_due_start=other_due if other_due != other_start and other_due in other_locks else None,
        other_due_lock=other_locks.get(other_due),
        tasks=_task_blocks(plan=plan, department=department, start=start, posted=posted, errors=errors, conflicts=conflicts)
        if frequency == Frequency.WEEKLY
        else [],
        sheet=sheet,
        lock=lock,
        can_edit=can_edit,
        can_review=permissions.can_review_department(user, department),
        reopened=bool(sheet is not None and sheet.reopened_until and today <= sheet.reopened_until and lock is None and not sheet.is_returned),
        pending_reopen=sheet.reopen_requests.filter(status=ReopenStatus.PENDING).first() if sheet else None,
        due=due_at(plan, start, frequency),
        open_until=permissions.open_until(plan, frequency, start, sheet),
        errors=errors,
    )
