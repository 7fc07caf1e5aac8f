"""Writes of reporting: a department's sheet of figures and task progress, its review, reopen requests.

Every write checks metrics.permissions first and runs in one transaction; bad input raises SheetInvalid
with a message per input and saves nothing. A save queues the incremental roll-up of what it touched.
"""

import datetime
from dataclasses import dataclass, field
from functools import partial
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from actions.choices import EntryMode, Frequency, IndicatorKind
from actions.models import Department, Indicator, Plan
from metrics import permissions
from metrics.choices import FigureState, ReopenStatus, SheetStatus
from metrics.models import Evidence, Figure, ProgressNote, ReopenRequest, Sheet
from metrics.reporting.cumulative import rederive_later
from metrics.reporting.forms import (
    COMMENT_MAX_LENGTH,
    DECISION_NOTE_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PROGRESS_MAX_LENGTH,
    REASON_MAX_LENGTH,
    CellInput,
    NoteInput,
    SheetInput,
)
from metrics.reporting.parsers import (
    InputError,
    check_evidence,
    implausible_against_target,
    outlier_bounds,
    parse_date,
    parse_number,
)
from metrics.reporting.selectors import cumulative_before, led_tasks, sheet_assignments
from metrics.reporting.signals import sheet_returned_announce
from metrics.tasks import rollup_request
from planboard import clock
from planboard.formatting import amount as format_decimal
from planboard.periods import in_plan_year

OUTLIER_HISTORY_PERIODS = 26
# Lock only the rows a save writes. The models' default orderings join the plan, its actions, tasks, indicators
# and departments, and a bare FOR UPDATE locks every joined row: concurrent saves of different departments
# then deadlock on the shared plan row (seen in bench/faults.py: 47 of 108 saves failed with a 500).
ROW_ONLY = ("self",)


@dataclass
class Change:
    """One cell a save changes, for the Excel preview and the result message."""

    indicator: object
    old: str
    new: str


@dataclass
class SheetSaveResult:
    sheet: Sheet | None
    changes: list[Change] = field(default_factory=list)
    notes_changed: int = 0
    files_added: int = 0
    submitted: bool = False


@dataclass
class Checked:
    """What one check of a save found: the rows to write, and the problems by input name."""

    rows: list = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)


class SheetInvalid(Exception):
    """Nothing was saved. errors: input name → message; warnings likewise (outliers needing a note)."""

    def __init__(self, errors: dict[str, str], conflicts: set[str] | None = None):
        super().__init__(errors)
        self.errors = errors
        # Inputs that failed only because someone else saved them first: the page shows both values and
        # offers the current version, so that saving again is a deliberate choice.
        self.conflicts = conflicts or set()


def _cell_text(state, value, note) -> str:
    if state is None:
        return ""
    if state == FigureState.NOT_APPLICABLE:
        return str(_("not applicable")) + (f" ({note})" if note else "")
    return format_decimal(value)


def sheet_save(
    *,
    user,
    plan: Plan,
    department: Department,
    frequency: str,
    start: datetime.date,
    sheet_input: SheetInput,
    dry_run: bool = False,
) -> SheetSaveResult:
    """Save a department's sheet for one period in one transaction: all of it, or (on any error) nothing.

    Refuses (PermissionDenied) users who may not fill the department's sheets, indicators or tasks not the
    department's, and periods that are locked or in the future. Bad values raise SheetInvalid with a message
    per input. Each figure carries a version: a cell changed by someone else since the page was loaded is a
    conflict, never overwritten. With dry_run, validates and returns the changes without writing.
    """
    given = sheet_input
    permissions.require(permissions.can_edit(user, department))
    today = clock.today()
    with transaction.atomic():
        sheet = (
            Sheet.objects.select_for_update(of=ROW_ONLY)
            .filter(plan=plan, department=department, frequency=frequency, period_start=start)
            .first()
        )
        lock = permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=today)
        if lock:
            raise PermissionDenied(lock.message)
        assignments = {a.indicator_id: a for a in sheet_assignments(plan=plan, department=department, frequency=frequency)}
        tasks = _check_scope(plan=plan, department=department, frequency=frequency, given=given, assignments=assignments)
        existing = {
            f.indicator_id: f
            for f in Figure.objects.select_for_update(of=ROW_ONLY).filter(
                department=department, period_start=start, indicator_id__in=list(assignments)
            )
        }
        checks = [
            figures := _check_figures(
                user=user, plan=plan, department=department, frequency=frequency, start=start, cells=given.cells,
                assignments=assignments, existing=existing,
            ),
            later := _check_later_cumulatives(
                department=department, frequency=frequency, year=plan.year, start=start, figures=figures, assignments=assignments
            ),
            _check_plausible(
                plan=plan, department=department, frequency=frequency, start=start, figures=figures, assignments=assignments
            ),
            notes := _check_notes(user=user, department=department, start=start, notes=given.notes),
            milestones := _check_milestones(
                tasks=tasks, milestones=given.milestones, shown=given.milestones_shown, today=today, year=plan.year
            ),
            uploads := _check_uploads(files=given.files),
        ]
        if given.submit:
            checks.append(_check_complete(cells=given.cells, assignments=assignments, existing=existing))
        errors = {name: message for check in checks for name, message in check.errors.items()}
        if errors:
            raise SheetInvalid(errors, set().union(*(check.conflicts for check in checks)))
        result = SheetSaveResult(sheet=sheet, changes=figures.changes)
        if dry_run:
            transaction.set_rollback(True)
            return result
        sheet = _apply(
            user=user, plan=plan, department=department, frequency=frequency, start=start, sheet=sheet,
            figures=figures.rows + later.rows, notes=notes.rows, milestones=milestones.rows, uploads=uploads.rows, submit=given.submit,
        )
    return SheetSaveResult(
        sheet=sheet, changes=figures.changes, notes_changed=len(notes.rows), files_added=len(uploads.rows), submitted=given.submit
    )


def _check_scope(*, plan, department, frequency, given: SheetInput, assignments) -> dict:
    """Refuse (PermissionDenied) what the department may not post; return the tasks it leads, by id."""
    if not set(given.cells) <= set(assignments):
        raise PermissionDenied(_("The sheet names an indicator this department does not report."))
    progress = given.notes or given.milestones or given.files
    if progress and frequency != Frequency.WEEKLY:
        raise PermissionDenied(_("Task progress is reported on the weekly sheet."))
    tasks = {t.pk: t for t in led_tasks(plan=plan, department=department)} if progress else {}
    if not set(given.notes) <= set(tasks) or not set(given.files) <= set(tasks):
        raise PermissionDenied(_("The sheet names a task this department does not lead."))
    milestone_ids = {m.pk for t in tasks.values() for m in t.milestones.all()}
    if not set(given.milestones) <= milestone_ids:
        raise PermissionDenied(_("The sheet names a milestone of a task this department does not lead."))
    return tasks


def _check_later_cumulatives(*, department, frequency, year, start, figures: Checked, assignments) -> Checked:
    """Cumulative-entry cells: the typed cumulative is the figure of record, so a correction re-derives the
    amount of the next period reported after it (rows), or is refused when it exceeds that period's cumulative."""
    if figures.errors:
        return Checked()
    found = rederive_later(department=department, frequency=frequency, year=year, start=start, figures=figures.rows, assignments=assignments)
    return Checked(rows=found.rows, errors=found.errors)


def _check_plausible(*, plan, department, frequency, start, figures: Checked, assignments) -> Checked:
    """Amounts and counts against the department's annual target: an implausible one needs a confirming note."""
    checked = Checked()
    rows = [
        f for f in figures.rows
        if f.state == FigureState.REPORTED and not f.note and assignments[f.indicator_id].indicator.is_summed
    ]
    if not rows:
        return checked
    before = cumulative_before(
        department=department, indicator_ids=[f.indicator_id for f in rows], frequency=frequency, year=plan.year, start=start
    )
    for figure in rows:
        assignment = assignments[figure.indicator_id]
        problem = implausible_against_target(
            amount=figure.value,
            cumulative_before=before.get(figure.indicator_id, Decimal("0")),
            target=assignment.target_share if assignment.target_share is not None else assignment.indicator.annual_target,
            multiple=plan.plausible_multiple,
        )
        if problem:
            checked.errors[f"v-{figure.indicator_id}"] = problem
    return checked


def _check_milestones(
    *, tasks: dict, milestones: dict[int, str], shown: dict[int, str], today: datetime.date, year: int
) -> Checked:
    """Milestone done dates: real dates of the plan year, not in the future; the changed milestones are the rows.

    A date posted as the form showed it is untouched: a colleague's date saved meanwhile stays.
    """
    rows = {m.pk: m for t in tasks.values() for m in t.milestones.all()}
    checked = Checked()
    for milestone_id, raw in milestones.items():
        if shown.get(milestone_id) == raw:
            continue
        milestone = rows[milestone_id]
        try:
            done = parse_date(raw)
        except InputError as exc:
            checked.errors[f"ms-{milestone_id}"] = str(exc)
            continue
        if done and done > today:
            checked.errors[f"ms-{milestone_id}"] = _("A milestone cannot be done on a date still to come.")
        elif done and not in_plan_year(done, Frequency.MONTHLY, year):
            checked.errors[f"ms-{milestone_id}"] = _("A milestone of the %(year)s plan is done on a date in %(year)s.") % {"year": year}
        elif done != milestone.done_date:
            milestone.done_date = done
            checked.rows.append(milestone)
    return checked


def _check_uploads(*, files: dict[int, list]) -> Checked:
    """Evidence files, checked by size and content; rows are (task id, upload, content type)."""
    checked = Checked()
    for task_id, task_files in files.items():
        for upload in task_files:
            try:
                checked.rows.append((task_id, upload, check_evidence(upload)))
            except InputError as exc:
                checked.errors[f"file-{task_id}"] = str(exc)
    return checked


def _check_complete(*, cells: dict[int, CellInput], assignments, existing) -> Checked:
    """A sheet is submitted only when every indicator has a value or is marked not applicable."""
    missing = [a.indicator for i, a in assignments.items() if (cells.get(i) is None or _blank(cells[i])) and i not in existing]
    checked = Checked()
    if missing:
        checked.errors["__all__"] = _(
            "The sheet cannot be submitted: %(n)s indicator(s) are blank. Enter a value or mark them not applicable."
        ) % {"n": len(missing)}
        for indicator in missing:
            checked.errors[f"v-{indicator.pk}"] = _("Required before submitting.")
    return checked


def _apply(*, user, plan, department, frequency, start, sheet, figures, notes, milestones, uploads, submit) -> Sheet:
    """Write what the checks accepted, and queue the roll-up of what changed after the commit."""
    moment = clock.now()
    for row in [*figures, *notes]:
        row._history_date = moment  # the history page shows the app's clock (pinned in demos), as entered_at does
    to_create = [f for f in figures if f.pk is None]
    to_update = [f for f in figures if f.pk is not None]
    # Values were checked above; full_clean here checks the field limits without a query per row.
    for figure in figures:
        figure.full_clean(exclude=["indicator", "department", "entered_by"], validate_unique=False, validate_constraints=False)
    if sheet is None:
        sheet, _created = Sheet.objects.get_or_create(plan=plan, department=department, frequency=frequency, period_start=start)
    try:
        with transaction.atomic():
            if to_create:
                bulk_create_with_history(to_create, Figure, default_user=user, default_date=clock.now())
    except IntegrityError:
        raise SheetInvalid(
            {"__all__": _("Conflict: someone else saved this sheet at the same moment. Reload it to see their figures, then save again.")}
        ) from None
    if to_update:
        _figures_update(to_update, user=user)
    for row in notes:
        row._history_user = user
        row.full_clean(exclude=["task", "department", "entered_by"], validate_unique=False, validate_constraints=False)
        row.save()
    for milestone in milestones:
        milestone.save(update_fields=["done_date", "updated"])
    for task_id, upload, content_type in uploads:
        evidence = Evidence(
            task_id=task_id, department=department, period_start=start, original_name=upload.name[:200],
            content_type=content_type, size=upload.size, uploaded_by=user,
        )
        evidence.file.save(upload.name, upload, save=False)
        evidence.save()
    if submit:
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at, sheet.submitted_by = clock.now(), user
        sheet.save(update_fields=["status", "submitted_at", "submitted_by", "updated"])
    touched = [f.indicator_id for f in figures]
    if milestones:
        # Milestone indicators are judged on their tasks' milestone dates: roll them up too.
        touched += list(
            Indicator.objects.filter(task_id__in={m.task_id for m in milestones}, kind=IndicatorKind.MILESTONE).values_list("pk", flat=True)
        )
    if touched:
        transaction.on_commit(lambda: rollup_request(plan=plan, indicator_ids=touched, period_starts=[start]))
    return sheet


def _check_figures(*, user, plan, department, frequency, start, cells: dict[int, CellInput], assignments, existing) -> Checked:
    """Check every cell the poster changed; the rows are the figures to create (no pk yet) and to update."""
    ids = list(cells)
    before = cumulative_before(department=department, indicator_ids=ids, frequency=frequency, year=plan.year, start=start)
    window = datetime.timedelta(days=(7 if frequency == Frequency.WEEKLY else 31) * OUTLIER_HISTORY_PERIODS)
    history: dict[int, list[Decimal]] = {}
    for indicator_id, value in Figure.objects.filter(
        department=department,
        indicator_id__in=ids,
        state=FigureState.REPORTED,
        period_start__lt=start,
        period_start__gte=start - window,
    ).values_list("indicator_id", "value"):
        history.setdefault(indicator_id, []).append(value)

    now = clock.now()
    checked = Checked()
    for indicator_id, cell in cells.items():
        if cell.untouched:
            # Posted as the form showed it: not this person's edit, so neither written nor version-checked
            # (a colleague may have saved it meanwhile).
            continue
        indicator = assignments[indicator_id].indicator
        name = f"v-{indicator_id}"
        figure = existing.get(indicator_id)
        note = cell.note.strip()
        try:
            state, value = _cell_state(
                indicator, cell, note, figure, before.get(indicator_id, Decimal("0")), history.get(indicator_id, [])
            )
        except InputError as exc:
            checked.errors[name] = str(exc)
            continue
        old = (figure.state, figure.value, figure.note) if figure else (None, None, "")
        new = (state, value, note if state else "")
        if old == new:
            continue
        if (figure.version if figure else 0) != cell.version:
            checked.conflicts.add(name)
            checked.errors[name] = _(
                "Conflict: someone else saved this figure after you opened the sheet. Saved now: %(theirs)s; yours: %(yours)s. "
                "Check it and save again."
            ) % {"theirs": _cell_text(*old) or _("blank"), "yours": _cell_text(*new) or _("blank")}
            continue
        checked.changes.append(Change(indicator=indicator, old=_cell_text(*old), new=_cell_text(*new)))
        if figure is None:
            checked.rows.append(
                Figure(
                    indicator_id=indicator_id,
                    department=department,
                    period_start=start,
                    state=state,
                    value=value,
                    note=new[2],
                    entered_by=user,
                    entered_at=now,
                )
            )
        else:
            figure.state, figure.value, figure.note = new
            figure.version += 1
            figure.updated = timezone.now()
            checked.rows.append(figure)
    return checked


def _check_notes(*, user, department, start, notes: dict[int, NoteInput]) -> Checked:
    """Check the posted progress notes against their versions; the rows are the notes to save."""
    checked = Checked()
    if not notes:
        return checked
    rows = {
        n.task_id: n
        for n in ProgressNote.objects.select_for_update(of=ROW_ONLY).filter(department=department, period_start=start, task_id__in=list(notes))
    }
    for task_id, given in notes.items():
        if given.untouched:
            continue
        row = rows.get(task_id)
        new = (given.progress.strip(), given.problems.strip(), given.next_steps.strip())
        old = (row.progress, row.problems, row.next_steps) if row else ("", "", "")
        if new == old:
            continue
        if max(map(len, new)) > PROGRESS_MAX_LENGTH:
            checked.errors[f"progress-{task_id}"] = _(
                "Progress, problems and next steps may have at most %(n)s characters each."
            ) % {"n": PROGRESS_MAX_LENGTH}
            continue
        if (row.version if row else 0) != given.version:
            checked.conflicts.add(f"progress-{task_id}")
            checked.errors[f"progress-{task_id}"] = _(
                "Conflict: someone else saved this task's progress after you opened the sheet. Saved now: “%(theirs)s”; yours: “%(yours)s”."
            ) % {"theirs": old[0], "yours": new[0]}
            continue
        if row is None:
            row = ProgressNote(task_id=task_id, department=department, period_start=start)
        else:
            row.version += 1
        row.progress, row.problems, row.next_steps = new
        row.entered_by = user
        checked.rows.append(row)
    return checked


def _figures_update(figures: list[Figure], *, user) -> None:
    """Write changed figures and their history rows: two queries whatever the number of figures.

    On PostgreSQL one UPDATE ... FROM (VALUES ...) replaces bulk_update's CASE expressions, which cost
    more to build in Python than the database spends on them (see bench/entry.py); elsewhere bulk_update.
    """
    if connection.vendor != "postgresql":
        bulk_update_with_history(figures, Figure, ["state", "value", "note", "version", "updated"], default_user=user, default_date=clock.now())
        return
    rows, params = [], []
    for figure in figures:
        rows.append("(%s::bigint, %s::varchar, %s::numeric, %s::text, %s::integer, %s::timestamptz)")
        params += [figure.pk, figure.state, figure.value, figure.note, figure.version, figure.updated]
    table = connection.ops.quote_name(Figure._meta.db_table)
    sql = (
        f"UPDATE {table} AS f SET state = v.state, value = v.value, note = v.note, version = v.version, updated = v.updated "
        f"FROM (VALUES {', '.join(rows)}) AS v(id, state, value, note, version, updated) WHERE f.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    # Dated by the app's clock, so that a correction is placed against the weeks it revises (已修订).
    Figure.history.bulk_history_create(figures, update=True, default_user=user, default_date=clock.now())


def _blank(cell: CellInput) -> bool:
    return not cell.not_applicable and not cell.raw.strip()


def _cell_state(indicator, cell: CellInput, note: str, figure, cumulative_before_value: Decimal, history: list[Decimal]):
    """The (state, value) a cell asks for, or (None, None) for blank; InputError explains what is wrong."""
    if len(note) > NOTE_MAX_LENGTH:
        raise InputError(_("A note may have at most %(n)s characters.") % {"n": NOTE_MAX_LENGTH})
    if cell.not_applicable:
        if cell.raw.strip():
            # Never drop what someone typed without a word: they must pick one of the two.
            raise InputError(_("Marked not applicable, yet a value is typed: clear the value, or untick “not applicable”."))
        if not note:
            raise InputError(_("Say why this figure does not apply (a short note)."))
        return FigureState.NOT_APPLICABLE, None
    if not cell.raw.strip():
        if figure is not None:
            raise InputError(_("This figure was already reported and cannot be blanked: enter a value, or mark it not applicable with a reason."))
        return None, None
    # A rate may be typed with its percent sign (8.5%); the value is in percent either way.
    number = parse_number(cell.raw if indicator.is_summed else cell.raw.strip().removesuffix("%").removesuffix("％"))
    if indicator.is_summed:
        if number < 0:
            raise InputError(_("This indicator cannot be negative."))
        if indicator.kind == IndicatorKind.COUNT and number != number.to_integral_value():
            raise InputError(_("This indicator counts things: enter a whole number."))
        if indicator.entry_mode == EntryMode.CUMULATIVE:
            if number < cumulative_before_value:
                raise InputError(
                    _("The cumulative value cannot be lower than the previous cumulative, %(previous)s.")
                    % {"previous": format_decimal(cumulative_before_value)}
                )
            number = Figure.quantize(number - cumulative_before_value)
    bounds = outlier_bounds(history, non_negative=indicator.is_summed)
    if bounds and not (bounds[0] <= number <= bounds[1]) and not note:
        raise InputError(
            _("%(value)s is far outside this department's usual range (%(low)s to %(high)s, from its own past figures). "
              "If it is right, confirm it with a note.")
            % {"value": format_decimal(number), "low": format_decimal(bounds[0].quantize(Decimal("0.01"))),
               "high": format_decimal(bounds[1].quantize(Decimal("0.01")))}
        )
    return FigureState.REPORTED, number


@transaction.atomic
def sheet_review(*, user, sheet: Sheet, approve: bool, comment: str = "") -> Sheet:
    """The supervision office approves a submitted sheet (its figures lock) or returns it with a comment."""
    permissions.require(permissions.can_review(user))
    sheet = Sheet.objects.select_for_update().select_related("plan", "department").get(pk=sheet.pk)
    permissions.require_review(user, sheet.department)
    if sheet.status != SheetStatus.SUBMITTED:
        raise SheetInvalid({"__all__": _("Only a submitted sheet can be approved or returned; this one is %(status)s.") % {"status": sheet.get_status_display()}})
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise SheetInvalid({"comment": _("A comment may have at most %(n)s characters.") % {"n": COMMENT_MAX_LENGTH}})
    if not approve and not comment:
        raise SheetInvalid({"comment": _("Say what needs correcting: a returned sheet needs a comment.")})
    sheet.status = SheetStatus.APPROVED if approve else SheetStatus.RETURNED
    sheet.review_comment = comment
    sheet.reviewed_at, sheet.reviewed_by = clock.now(), user
    if approve:
        sheet.reopened_until = None
    else:
        # Staff must be able to correct a returned sheet even when its period has closed meanwhile.
        until = clock.today() + datetime.timedelta(days=max(sheet.plan.lock_after_days, 1))
        sheet.reopened_until = max(until, sheet.reopened_until) if sheet.reopened_until else until
    sheet.full_clean(exclude=["plan", "department", "submitted_by", "reviewed_by"], validate_unique=False, validate_constraints=False)
    sheet.save()
    if not approve:
        # The unit hears it at once (metrics.notifications listens), once the return is committed.
        transaction.on_commit(partial(sheet_returned_announce, sheet))
    return sheet


@transaction.atomic
def reopen_request(*, user, plan: Plan, department: Department, frequency: str, start: datetime.date, reason: str) -> ReopenRequest:
    """Staff ask to reopen a locked or approved sheet; the reason is required."""
    permissions.require(permissions.can_edit(user, department))
    if start > clock.today():
        raise PermissionDenied(_("This period has not started yet."))
    if outside := permissions.outside_plan(plan=plan, frequency=frequency, day=start):
        raise SheetInvalid({"reason": outside})
    reason = reason.strip()
    if not reason:
        raise SheetInvalid({"reason": _("Say why the sheet should be reopened.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise SheetInvalid({"reason": _("Say why in at most 500 characters.")})
    sheet, _created = Sheet.objects.get_or_create(plan=plan, department=department, frequency=frequency, period_start=start)
    lock = permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=clock.today())
    if not lock:
        raise SheetInvalid({"reason": _("This sheet is open: correct it directly.")})
    if lock.code not in permissions.REOPENABLE:
        raise SheetInvalid({"reason": lock.message})
    if sheet.reopen_requests.filter(status=ReopenStatus.PENDING).exists():
        raise SheetInvalid({"reason": _("A reopen request for this sheet is already waiting for the supervision office.")})
    request = ReopenRequest(sheet=sheet, reason=reason, requested_by=user)
    request.full_clean(exclude=["sheet", "requested_by"])
    request.save()
    return request


@transaction.atomic
def reopen_decide(*, user, request: ReopenRequest, grant: bool, note: str = "") -> ReopenRequest:
    """The supervision office grants (the sheet opens for the plan's lock period) or refuses a reopen request."""
    permissions.require(permissions.can_review(user))
    request = ReopenRequest.objects.select_for_update().select_related("sheet__plan", "sheet__department").get(pk=request.pk)
    permissions.require_review(user, request.sheet.department)
    if request.status != ReopenStatus.PENDING:
        raise SheetInvalid({"__all__": _("This request was already decided.")})
    if len(note.strip()) > DECISION_NOTE_MAX_LENGTH:
        raise SheetInvalid({"note": _("A note may have at most %(n)s characters.") % {"n": DECISION_NOTE_MAX_LENGTH}})
    request.status = ReopenStatus.GRANTED if grant else ReopenStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = user, clock.now(), note.strip()
    request.save()
    if grant:
        sheet = request.sheet
        sheet.reopened_until = clock.today() + datetime.timedelta(days=max(sheet.plan.lock_after_days, 1))
        if sheet.status == SheetStatus.APPROVED:
            sheet.status = SheetStatus.DRAFT
        sheet.save(update_fields=["reopened_until", "status", "updated"])
    return request


