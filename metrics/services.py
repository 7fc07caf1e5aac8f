"""Writes of the metrics app: roll-ups computed from reported figures (the math is in metrics.rollup)."""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from actions.choices import Frequency, IndicatorKind
from actions.models import Department, Indicator, IndicatorDepartment, Plan
from metrics import permissions
from metrics.choices import FigureState, ReopenStatus, SheetStatus
from metrics.forms import InputError, check_evidence, outlier_bounds, parse_date, parse_number
from metrics.models import Evidence, Figure, ProgressNote, Reminder, ReopenRequest, Rollup, Sheet, StaleRollup
from metrics.periods import period_start
from metrics.rollup import Week, rollup_week
from metrics.selectors import cumulative_before, format_decimal, led_tasks, sheet_assignments
from planboard import clock

logger = logging.getLogger(__name__)

WEEK = datetime.timedelta(days=7)


def _plan_row(plan: Plan, week: Week) -> Rollup:
    return Rollup.objects.get(plan=plan, week=week.start, subject=f"plan:{plan.pk}")


def _weeks(plan: Plan, first: datetime.date, last: datetime.date) -> list[Week]:
    """The as-of weeks from the week of `first` to the week of `last`, never past today."""
    now = clock.today()
    last = min(last, now)
    start = max(period_start(first, "weekly"), datetime.date.fromisocalendar(plan.year, 1, 1))
    weeks = []
    while start <= last:
        weeks.append(Week.of(plan, start, now))
        start += WEEK
    return weeks


def rollup_plan_week(*, plan: Plan, day: datetime.date | None = None) -> Rollup:
    """Recompute every row of the week containing `day` (default: today) and return the plan's row.

    A day after today is taken as today: the future has no figures to judge.
    """
    now = clock.today()
    week = Week.of(plan, min(day or now, now), now)
    rollup_week(week)
    return _plan_row(plan, week)


def rollup_plan_weeks(
    *, plan: Plan, first: datetime.date, last: datetime.date, progress: Callable[[int, int, Week], None] | None = None
) -> list[Week]:
    """Recompute a range of weeks in order (ranks compare with the week before), e.g. after late edits."""
    weeks = _weeks(plan, first, last)
    for n, week in enumerate(weeks, start=1):
        rollup_week(week)
        if progress:
            progress(n, len(weeks), week)
    return weeks


def rollup_plan_catch_up(*, plan: Plan) -> Rollup:
    """The full run: this week, plus every week since a roll-up was missed (broker down), then clear the mark."""
    stale = StaleRollup.objects.filter(plan=plan).first()
    first = stale.earliest_period if stale and stale.earliest_period else clock.today()
    with transaction.atomic():
        weeks = rollup_plan_weeks(plan=plan, first=first, last=clock.today())
        if stale:
            StaleRollup.objects.filter(pk=stale.pk, since__lte=stale.since).delete()
    return _plan_row(plan, weeks[-1])


def rollup_touched(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> int:
    """The incremental roll-up after a save: only the indicators (and departments) touched, in every week
    from the earliest period touched to this one (a late edit changes the weeks after it). Returns weeks done.
    """
    if department_ids is None:
        department_ids = list(
            IndicatorDepartment.objects.filter(indicator__in=indicator_ids).values_list("department", flat=True).distinct()
        )
    weeks = _weeks(plan, min(period_starts, default=clock.today()), clock.today())
    stored = dict(
        Rollup.objects.filter(plan=plan, subject=f"plan:{plan.pk}", week__in=[w.start for w in weeks]).values_list("week", "as_of")
    )
    for week in weeks:
        if stored.get(week.start) == week.as_of:
            rollup_week(week, indicator_ids=indicator_ids, department_ids=department_ids)
        else:
            rollup_week(week)  # never rolled up, or its as-of day has moved on: do the whole week
    return len(weeks)


def rollup_request(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> bool:
    """Queue the incremental roll-up of what a save touched. Call it from transaction.on_commit.

    A save must not fail because the broker is down: then the plan is marked stale instead (pages
    say so) and the next full roll-up catches up from the earliest period touched. Returns whether
    the roll-up was queued.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from metrics.tasks import rollup_indicators

    try:
        rollup_indicators.delay(
            plan.pk,
            sorted(set(indicator_ids)),
            sorted({d.isoformat() for d in period_starts}),
            sorted(set(department_ids)) if department_ids is not None else None,
        )
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("Roll-up of plan %s not queued, marked stale: %s", plan.pk, exc)
        earliest = min(period_starts, default=None)
        with transaction.atomic():
            stale, created = StaleRollup.objects.select_for_update().get_or_create(
                plan=plan, defaults={"since": timezone.now(), "reason": str(exc)[:200], "earliest_period": earliest}
            )
            if not created and earliest and (stale.earliest_period is None or earliest < stale.earliest_period):
                stale.earliest_period = earliest
                stale.save(update_fields=["earliest_period"])
        return False
    return True


# --- Reporting: sheets of figures and progress, their review, reopen requests ------------------------


OUTLIER_HISTORY_PERIODS = 26


def entry_time() -> datetime.datetime:
    """When something is entered: now, on the app's 'today' when that is pinned (demos, tests)."""
    now = timezone.localtime()
    if settings.PLANBOARD_TODAY:
        return timezone.make_aware(datetime.datetime.combine(settings.PLANBOARD_TODAY, now.time().replace(tzinfo=None)))
    return now


@dataclass
class CellInput:
    """What the sheet (or the Excel upload) says for one indicator. version: the figure's version seen, 0 if none."""

    raw: str = ""
    not_applicable: bool = False
    note: str = ""
    version: int = 0


@dataclass
class NoteInput:
    progress: str = ""
    problems: str = ""
    next_steps: str = ""
    version: int = 0


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
    cells: dict[int, CellInput],
    notes: dict[int, NoteInput] | None = None,
    milestones: dict[int, str] | None = None,
    files: dict[int, list] | None = None,
    submit: bool = False,
    dry_run: bool = False,
) -> SheetSaveResult:
    """Save a department's sheet for one period in one transaction: all of it, or (on any error) nothing.

    Refuses (PermissionDenied) users who may not fill the department's sheets, indicators or tasks not the
    department's, and periods that are locked or in the future. Bad values raise SheetInvalid with a message
    per input. Each figure carries a version: a cell changed by someone else since the page was loaded is a
    conflict, never overwritten. With dry_run, validates and returns the changes without writing.
    """
    notes, milestones, files = notes or {}, milestones or {}, files or {}
    permissions.require(permissions.can_edit(user, department))
    today = clock.today()
    with transaction.atomic():
        sheet = (
            Sheet.objects.select_for_update()
            .filter(plan=plan, department=department, frequency=frequency, period_start=start)
            .first()
        )
        lock = permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=today)
        if lock:
            raise PermissionDenied(lock.message)

        assignments = {a.indicator_id: a for a in sheet_assignments(plan=plan, department=department, frequency=frequency)}
        if not set(cells) <= set(assignments):
            raise PermissionDenied(_("The sheet names an indicator this department does not report."))
        if (notes or milestones or files) and frequency != Frequency.WEEKLY:
            raise PermissionDenied(_("Task progress is reported on the weekly sheet."))
        tasks = {t.pk: t for t in led_tasks(plan=plan, department=department)} if (notes or milestones or files) else {}
        if not set(notes) <= set(tasks) or not set(files) <= set(tasks):
            raise PermissionDenied(_("The sheet names a task this department does not lead."))
        milestone_rows = {m.pk: m for t in tasks.values() for m in t.milestones.all()}
        if not set(milestones) <= set(milestone_rows):
            raise PermissionDenied(_("The sheet names a milestone of a task this department does not lead."))

        errors: dict[str, str] = {}
        conflicts: set[str] = set()
        result = SheetSaveResult(sheet=sheet)
        existing = {
            f.indicator_id: f
            for f in Figure.objects.select_for_update().filter(
                department=department, period_start=start, indicator_id__in=list(assignments)
            )
        }
        to_create, to_update = _figure_changes(
            user=user, plan=plan, department=department, frequency=frequency, start=start, cells=cells,
            assignments=assignments, existing=existing, result=result, errors=errors, conflicts=conflicts,
        )
        touched = [f.indicator_id for f in to_create + to_update]
        notes_to_save = _note_changes(user=user, department=department, start=start, notes=notes, errors=errors, conflicts=conflicts)

        milestones_to_save = []
        for milestone_id, raw in milestones.items():
            milestone = milestone_rows[milestone_id]
            try:
                done = parse_date(raw)
            except InputError as exc:
                errors[f"ms-{milestone_id}"] = str(exc)
                continue
            if done and done > today:
                errors[f"ms-{milestone_id}"] = _("A milestone cannot be done on a date still to come.")
                continue
            if done != milestone.done_date:
                milestone.done_date = done
                milestones_to_save.append(milestone)

        uploads = []
        for task_id, task_files in files.items():
            for upload in task_files:
                try:
                    content_type = check_evidence(upload)
                except InputError as exc:
                    errors[f"file-{task_id}"] = str(exc)
                    continue
                uploads.append((task_id, upload, content_type))

        if submit:
            missing = [
                a.indicator for i, a in assignments.items() if (cells.get(i) is None or _blank(cells[i])) and i not in existing
            ]
            if missing:
                errors["__all__"] = _(
                    "The sheet cannot be submitted: %(n)s indicator(s) are blank. Enter a value or mark them not applicable."
                ) % {"n": len(missing)}
                for indicator in missing:
                    errors.setdefault(f"v-{indicator.pk}", _("Required before submitting."))

        if errors:
            raise SheetInvalid(errors, conflicts)
        if dry_run:
            transaction.set_rollback(True)
            return result

        # Values were checked above; full_clean here checks the field limits without a query per row.
        for figure in to_create + to_update:
            figure.full_clean(exclude=["indicator", "department", "entered_by"], validate_unique=False, validate_constraints=False)
        if sheet is None:
            sheet, _created = Sheet.objects.get_or_create(plan=plan, department=department, frequency=frequency, period_start=start)
        try:
            with transaction.atomic():
                if to_create:
                    bulk_create_with_history(to_create, Figure, default_user=user)
        except IntegrityError:
            raise SheetInvalid(
                {"__all__": _("Conflict: someone else saved this sheet at the same moment. Reload it to see their figures, then save again.")}
            ) from None
        if to_update:
            _figures_update(to_update, user=user)
        for row in notes_to_save:
            row._history_user = user
            row.full_clean(exclude=["task", "department", "entered_by"], validate_unique=False, validate_constraints=False)
            row.save()
        for milestone in milestones_to_save:
            milestone.save(update_fields=["done_date", "updated"])
        for task_id, upload, content_type in uploads:
            evidence = Evidence(
                task_id=task_id,
                department=department,
                period_start=start,
                original_name=upload.name[:200],
                content_type=content_type,
                size=upload.size,
                uploaded_by=user,
            )
            evidence.file.save(upload.name, upload, save=False)
            evidence.save()
        if submit:
            sheet.status = SheetStatus.SUBMITTED
            sheet.submitted_at, sheet.submitted_by = entry_time(), user
            sheet.save(update_fields=["status", "submitted_at", "submitted_by", "updated"])
        result.sheet, result.notes_changed, result.files_added, result.submitted = sheet, len(notes_to_save), len(uploads), submit
        if milestones_to_save:
            # Milestone indicators are judged on their tasks' milestone dates: roll them up too.
            touched += list(
                Indicator.objects.filter(task_id__in={m.task_id for m in milestones_to_save}, kind=IndicatorKind.MILESTONE)
                .values_list("pk", flat=True)
            )
        if touched:
            starts = [start]
            transaction.on_commit(lambda: rollup_request(plan=plan, indicator_ids=touched, period_starts=starts))
    return result


def _figure_changes(*, user, plan, department, frequency, start, cells, assignments, existing, result, errors, conflicts):
    """Check every posted cell; return the figures to create and to update (errors and conflicts are collected)."""
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

    now = entry_time()
    to_create, to_update = [], []
    for indicator_id, cell in cells.items():
        indicator = assignments[indicator_id].indicator
        name = f"v-{indicator_id}"
        figure = existing.get(indicator_id)
        note = cell.note.strip()
        try:
            state, value = _cell_state(
                indicator, cell, note, figure, before.get(indicator_id, Decimal("0")), history.get(indicator_id, [])
            )
        except InputError as exc:
            errors[name] = str(exc)
            continue
        old = (figure.state, figure.value, figure.note) if figure else (None, None, "")
        new = (state, value, note if state else "")
        if old == new:
            continue
        if (figure.version if figure else 0) != cell.version:
            conflicts.add(name)
            errors[name] = _(
                "Conflict: someone else saved this figure after you opened the sheet. Saved now: %(theirs)s; yours: %(yours)s. "
                "Check it and save again."
            ) % {"theirs": _cell_text(*old) or _("blank"), "yours": _cell_text(*new) or _("blank")}
            continue
        result.changes.append(Change(indicator=indicator, old=_cell_text(*old), new=_cell_text(*new)))
        if figure is None:
            to_create.append(
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
            to_update.append(figure)
    return to_create, to_update


def _note_changes(*, user, department, start, notes, errors, conflicts) -> list[ProgressNote]:
    """Check the posted progress notes against their versions; return those to save."""
    if not notes:
        return []
    rows = {
        n.task_id: n
        for n in ProgressNote.objects.select_for_update().filter(department=department, period_start=start, task_id__in=list(notes))
    }
    to_save = []
    for task_id, given in notes.items():
        row = rows.get(task_id)
        new = (given.progress.strip(), given.problems.strip(), given.next_steps.strip())
        old = (row.progress, row.problems, row.next_steps) if row else ("", "", "")
        if new == old:
            continue
        if (row.version if row else 0) != given.version:
            conflicts.add(f"progress-{task_id}")
            errors[f"progress-{task_id}"] = _(
                "Conflict: someone else saved this task's progress after you opened the sheet. Saved now: “%(theirs)s”; yours: “%(yours)s”."
            ) % {"theirs": old[0], "yours": new[0]}
            continue
        if row is None:
            row = ProgressNote(task_id=task_id, department=department, period_start=start)
        else:
            row.version += 1
        row.progress, row.problems, row.next_steps = new
        row.entered_by = user
        to_save.append(row)
    return to_save


def _figures_update(figures: list[Figure], *, user) -> None:
    """Write changed figures and their history rows: two queries whatever the number of figures.

    On PostgreSQL one UPDATE ... FROM (VALUES ...) replaces bulk_update's CASE expressions, which cost
    more to build in Python than the database spends on them (see bench/entry.py); elsewhere bulk_update.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        bulk_update_with_history(figures, Figure, ["state", "value", "note", "version", "updated"], default_user=user)
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
    Figure.history.bulk_history_create(figures, update=True, default_user=user)


def _blank(cell: CellInput) -> bool:
    return not cell.not_applicable and not cell.raw.strip()


def _cell_state(indicator, cell: CellInput, note: str, figure, cumulative_before_value: Decimal, history: list[Decimal]):
    """The (state, value) a cell asks for, or (None, None) for blank; InputError explains what is wrong."""
    if cell.not_applicable:
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
        if indicator.entry_mode == "cumulative":
            if number < cumulative_before_value:
                raise InputError(
                    _("The cumulative value cannot be lower than the previous cumulative, %(previous)s.")
                    % {"previous": format_decimal(cumulative_before_value)}
                )
            number = number - cumulative_before_value
    bounds = outlier_bounds(history)
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
    sheet = Sheet.objects.select_for_update().select_related("plan").get(pk=sheet.pk)
    if sheet.status != SheetStatus.SUBMITTED:
        raise SheetInvalid({"__all__": _("Only a submitted sheet can be approved or returned; this one is %(status)s.") % {"status": sheet.get_status_display()}})
    comment = comment.strip()
    if not approve and not comment:
        raise SheetInvalid({"comment": _("Say what needs correcting: a returned sheet needs a comment.")})
    sheet.status = SheetStatus.APPROVED if approve else SheetStatus.RETURNED
    sheet.review_comment = comment
    sheet.reviewed_at, sheet.reviewed_by = entry_time(), user
    if approve:
        sheet.reopened_until = None
    else:
        # Staff must be able to correct a returned sheet even when its period has closed meanwhile.
        until = clock.today() + datetime.timedelta(days=max(sheet.plan.lock_after_days, 1))
        sheet.reopened_until = max(until, sheet.reopened_until) if sheet.reopened_until else until
    sheet.full_clean(exclude=["plan", "department", "submitted_by", "reviewed_by"], validate_unique=False, validate_constraints=False)
    sheet.save()
    return sheet


@transaction.atomic
def reopen_request(*, user, plan: Plan, department: Department, frequency: str, start: datetime.date, reason: str) -> ReopenRequest:
    """Staff ask to reopen a locked or approved sheet; the reason is required."""
    permissions.require(permissions.can_edit(user, department))
    if start > clock.today():
        raise PermissionDenied(_("This period has not started yet."))
    reason = reason.strip()
    if not reason:
        raise SheetInvalid({"reason": _("Say why the sheet should be reopened.")})
    sheet, _created = Sheet.objects.get_or_create(plan=plan, department=department, frequency=frequency, period_start=start)
    if not permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=clock.today()):
        raise SheetInvalid({"reason": _("This sheet is open: correct it directly.")})
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
    request = ReopenRequest.objects.select_for_update().select_related("sheet__plan").get(pk=request.pk)
    if request.status != ReopenStatus.PENDING:
        raise SheetInvalid({"__all__": _("This request was already decided.")})
    request.status = ReopenStatus.GRANTED if grant else ReopenStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = user, entry_time(), note.strip()
    request.save()
    if grant:
        sheet = request.sheet
        sheet.reopened_until = clock.today() + datetime.timedelta(days=max(sheet.plan.lock_after_days, 1))
        if sheet.status == SheetStatus.APPROVED:
            sheet.status = SheetStatus.DRAFT
        sheet.save(update_fields=["reopened_until", "status", "updated"])
    return request


@transaction.atomic
def reminder_record(
    *, user, plan: Plan, department: Department, kind: str, subject: str, week: datetime.date, note: str = ""
) -> Reminder:
    """Record a 催办: who reminded which department of what, about which as-of week (now)."""
    reminder = Reminder(plan=plan, department=department, kind=kind, subject=subject[:300], week=week, note=note, reminded_by=user)
    reminder.full_clean()
    reminder.save()
    return reminder
