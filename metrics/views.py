"""Reporting pages: the staff sheet, the review queue, history, evidence downloads and the Excel round trip.

Views stay thin: they read the request, ask metrics.permissions, call a selector or a service, and render.
"""

import datetime
import re

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from actions.choices import Frequency
from actions.models import Department, Indicator
from actions.selectors import plan_current
from actions.tables import LedgerTable
from metrics import excel, formatting, permissions, selectors
from metrics.choices import ReminderKind, ReopenStatus
from metrics.models import Evidence, Figure, ProgressNote, ReopenRequest, Sheet
from metrics.explanations import explain
from metrics.periods import due_at, period_start, reporting_period
from metrics.services import (
    CellInput,
    NoteInput,
    SheetInvalid,
    reminder_record,
    reopen_decide,
    reopen_request,
    sheet_review,
    sheet_save,
)
from metrics.tables import (
    DepartmentIndicatorTable,
    DepartmentProgressTable,
    DepartmentWeekTable,
    FigureTable,
    LaggingTable,
    MissingReportsTable,
    OverdueMilestoneTable,
    ReminderTable,
    ScoreboardTable,
)
from planboard import roles
from planboard.asof import as_of_week
from planboard.clock import today

CELL_KEY = re.compile(r"^(v|na|note|ver)-(\d+)$")
NOTE_KEY = re.compile(r"^(progress|problems|next|nver)-(\d+)$")
MILESTONE_KEY = re.compile(r"^ms-(\d+)$")
FILE_KEY = re.compile(r"^file-(\d+)$")


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan loaded yet"))
    return plan


def _sheet_target(request, plan):
    """Department, frequency and period a request is about (query string or form), checked for viewing."""
    data = request.POST if request.method == "POST" else request.GET
    user = request.user
    code = data.get("department")
    if code:
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise Http404(_("No such department."))
    else:
        department = user.departments.order_by("code").first() if roles.is_staff_member(user) else None
        if department is None:
            department = Department.objects.filter(assignments__indicator__task__action__plan=plan).order_by("code").first()
        if department is None:
            raise Http404(_("No department reports on this plan."))
    permissions.require(
        permissions.can_view(user, department),
        _("Only %(department)s's own staff, the supervision office and leaders may see its sheets.") % {"department": department.short_name},
    )
    frequency = data.get("frequency") or Frequency.WEEKLY
    if frequency not in Frequency.values:
        raise Http404(_("No such reporting frequency."))
    raw_period = data.get("period")
    if raw_period:
        try:
            start = period_start(datetime.date.fromisoformat(raw_period), frequency)
        except ValueError:
            raise Http404(_("No such period.")) from None
    else:
        start = reporting_period(today(), frequency)
    return department, frequency, start


def _sheet_url(department, frequency, start) -> str:
    query = urlencode({"department": department.code, "frequency": frequency, "period": start.isoformat()})
    return f"{reverse('metrics:entry')}?{query}"


def _parse_post(post, uploaded) -> tuple[dict, dict, dict, dict]:
    cells: dict[int, CellInput] = {}
    notes: dict[int, NoteInput] = {}
    milestones: dict[int, str] = {}
    files: dict[int, list] = {}
    for key in post:
        if match := CELL_KEY.match(key):
            kind, pk = match.group(1), int(match.group(2))
            cell = cells.setdefault(pk, CellInput())
            value = post.get(key, "")
            if kind == "v":
                cell.raw = value
            elif kind == "na":
                cell.not_applicable = value in {"1", "on", "true", "yes"}
            elif kind == "note":
                cell.note = value
            else:
                cell.version = int(value) if value.isdigit() else -1
        elif match := NOTE_KEY.match(key):
            kind, pk = match.group(1), int(match.group(2))
            note = notes.setdefault(pk, NoteInput())
            value = post.get(key, "")
            if kind == "progress":
                note.progress = value
            elif kind == "problems":
                note.problems = value
            elif kind == "next":
                note.next_steps = value
            else:
                note.version = int(value) if value.isdigit() else -1
        elif match := MILESTONE_KEY.match(key):
            milestones[int(match.group(1))] = post.get(key, "")
    for key in uploaded:
        if match := FILE_KEY.match(key):
            files[int(match.group(1))] = uploaded.getlist(key)
    return cells, notes, milestones, files


def _context(request, plan, department, frequency, start, *, cells=None, notes=None, milestones=None, errors=None, conflicts=()):
    user, day = request.user, today()
    rows = selectors.sheet_rows(plan=plan, department=department, frequency=frequency, start=start)
    schedule = selectors.schedule_pct(plan.year, frequency, start)
    errors = errors or {}
    for row in rows:
        posted = (cells or {}).get(row.indicator.pk)
        if posted is not None:  # re-show what was typed, not what is stored
            row.input_value, row.not_applicable, row.note = posted.raw, posted.not_applicable, posted.note
            if f"v-{row.indicator.pk}" not in conflicts:  # after a conflict, saving again overrides knowingly
                row.version = posted.version
        row.error = errors.get(f"v-{row.indicator.pk}", "")
        row.is_on_track = row.on_track(schedule)
    sheet = selectors.sheet_find(plan=plan, department=department, frequency=frequency, start=start)
    lock = permissions.lock_reason(plan=plan, frequency=frequency, start=start, sheet=sheet, today=day)
    can_edit = permissions.can_edit(user, department)
    tasks = []
    if frequency == Frequency.WEEKLY:
        led = list(selectors.led_tasks(plan=plan, department=department))
        saved_notes = selectors.progress_notes(department=department, start=start)
        evidence = selectors.evidence_files(department=department, task_ids=[t.pk for t in led])
        for task in led:
            note = saved_notes.get(task.pk)
            posted = (notes or {}).get(task.pk)
            task_milestones = list(task.milestones.all())
            for milestone in task_milestones:
                milestone.input_value = (milestones or {}).get(milestone.pk, milestone.done_date.isoformat() if milestone.done_date else "")
                milestone.error = errors.get(f"ms-{milestone.pk}", "")
            tasks.append(
                {
                    "task": task,
                    "note": note,
                    "progress": posted.progress if posted else (note.progress if note else ""),
                    "problems": posted.problems if posted else (note.problems if note else ""),
                    "next_steps": posted.next_steps if posted else (note.next_steps if note else ""),
                    "version": posted.version if posted and f"progress-{task.pk}" not in conflicts else (note.version if note else 0),
                    "milestones": task_milestones,
                    "evidence": evidence.get(task.pk, []),
                    "error": errors.get(f"progress-{task.pk}", ""),
                    "file_error": errors.get(f"file-{task.pk}", ""),
                }
            )
    departments = (
        list(user.departments.order_by("code"))
        if can_edit
        else list(Department.objects.filter(assignments__indicator__task__action__plan=plan).distinct().order_by("kind", "code"))
    )
    other = Frequency.MONTHLY if frequency == Frequency.WEEKLY else Frequency.WEEKLY
    pending_reopen = sheet.reopen_requests.filter(status=ReopenStatus.PENDING).first() if sheet else None
    return {
        "plan": plan,
        "department": department,
        "departments": departments,
        "frequency": frequency,
        "frequencies": Frequency.choices,
        "start": start,
        "end": selectors.period_end(start, frequency),
        "periods": selectors.sheet_periods(plan=plan, frequency=frequency, today=day),
        "previous_url": _sheet_url(department, frequency, selectors.previous_period(start, frequency))
        if start > selectors.year_start(plan.year, frequency)
        else None,
        "next_url": _sheet_url(department, frequency, selectors.next_period(start, frequency))
        if selectors.next_period(start, frequency) <= period_start(day, frequency)
        else None,
        "groups": selectors.group_rows(rows),
        "schedule_pct": schedule,
        "other_frequency": other,
        "other_count": selectors.sheet_assignments(plan=plan, department=department, frequency=other).count(),
        "other_url": _sheet_url(department, other, reporting_period(day, other)),
        "tasks": tasks,
        "sheet": sheet,
        "lock": lock,
        "editable": can_edit and lock is None,
        "can_edit": can_edit,
        "can_review": permissions.can_review(user),
        "reopened": sheet is not None and sheet.reopened_until and day <= sheet.reopened_until and lock is None,
        "pending_reopen": pending_reopen,
        "due": due_at(plan, start, frequency),
        "lock_date": permissions.lock_date(plan, frequency, start),
        "errors": errors,
        "sheet_error": errors.get("__all__", ""),
        "sheet_url": _sheet_url(department, frequency, start),
    }


def entry(request):
    """The sheet: staff of the department fill it; the supervision office and leaders read it."""
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    if request.method == "POST":
        cells, notes, milestones, files = _parse_post(request.POST, request.FILES)
        submit = request.POST.get("action") == "submit"
        try:
            result = sheet_save(
                user=request.user,
                plan=plan,
                department=department,
                frequency=frequency,
                start=start,
                cells=cells,
                notes=notes,
                milestones=milestones,
                files=files,
                submit=submit,
            )
        except SheetInvalid as exc:
            context = _context(
                request, plan, department, frequency, start,
                cells=cells, notes=notes, milestones=milestones, errors=exc.errors, conflicts=exc.conflicts,
            )
            return render(request, "metrics/entry.html", context, status=400)
        if result.submitted:
            messages.success(request, _("Submitted to the supervision office (%(n)s figure(s) changed).") % {"n": len(result.changes)})
        else:
            messages.success(
                request,
                _("Saved: %(figures)s figure(s), %(notes)s progress note(s) and %(files)s file(s) changed.")
                % {"figures": len(result.changes), "notes": result.notes_changed, "files": result.files_added},
            )
        return HttpResponseRedirect(_sheet_url(department, frequency, start))
    return render(request, "metrics/entry.html", _context(request, plan, department, frequency, start))


def queue(request):
    """The supervision office's queue: submitted sheets and reopen requests."""
    permissions.require(permissions.can_review(request.user))
    plan = _plan()
    sheets = list(selectors.review_queue(plan=plan))
    for sheet in sheets:
        sheet.url = _sheet_url(sheet.department, sheet.frequency, sheet.period_start)
        who = sheet.submitted_by
        sheet.who = (who.get_full_name() or who.username) if who else "—"
    requests = list(selectors.reopen_queue(plan=plan))
    for item in requests:
        item.url = _sheet_url(item.sheet.department, item.sheet.frequency, item.sheet.period_start)
    return render(request, "metrics/queue.html", {"plan": plan, "sheets": sheets, "reopen_requests": requests})


@require_POST
def review(request, pk):
    permissions.require(permissions.can_review(request.user))
    sheet = get_object_or_404(Sheet.objects.select_related("department"), pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        sheet_review(user=request.user, sheet=sheet, approve=approve, comment=request.POST.get("comment", ""))
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
        return HttpResponseRedirect(_sheet_url(sheet.department, sheet.frequency, sheet.period_start))
    messages.success(request, _("Approved: the figures are locked.") if approve else _("Returned to the department with your comment."))
    return HttpResponseRedirect(reverse("metrics:queue"))


@require_POST
def reopen_ask(request):
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    try:
        reopen_request(user=request.user, plan=plan, department=department, frequency=frequency, start=start, reason=request.POST.get("reason", ""))
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, _("Your request to reopen the sheet was sent to the supervision office."))
    return HttpResponseRedirect(_sheet_url(department, frequency, start))


@require_POST
def reopen_answer(request, pk):
    permissions.require(permissions.can_review(request.user))
    item = get_object_or_404(ReopenRequest, pk=pk)
    grant = request.POST.get("decision") == "grant"
    try:
        reopen_decide(user=request.user, request=item, grant=grant, note=request.POST.get("note", ""))
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, _("Reopen request granted.") if grant else _("Reopen request refused."))
    return HttpResponseRedirect(reverse("metrics:queue"))


def figure_history(request, pk):
    figure = get_object_or_404(Figure.objects.select_related("indicator__task__action", "department"), pk=pk)
    permissions.require(permissions.can_view(request.user, figure.department))
    return render(
        request,
        "metrics/history.html",
        {
            "title": str(figure.indicator),
            "subject": figure,
            "entries": selectors.figure_history(figure=figure),
            "kind": "figure",
            "back_url": _sheet_url(figure.department, figure.indicator.frequency, figure.period_start),
        },
    )


def note_history(request, pk):
    note = get_object_or_404(ProgressNote.objects.select_related("task__action", "department"), pk=pk)
    permissions.require(permissions.can_view(request.user, note.department))
    return render(
        request,
        "metrics/history.html",
        {
            "title": str(note.task),
            "subject": note,
            "entries": selectors.note_history(note=note),
            "kind": "note",
            "back_url": _sheet_url(note.department, Frequency.WEEKLY, note.period_start),
        },
    )


def evidence_download(request, pk):
    """An evidence file, for those who may see the task's department sheet."""
    item = get_object_or_404(Evidence.objects.select_related("department"), pk=pk)
    permissions.require(permissions.can_view(request.user, item.department))
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.original_name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_download(request):
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    rows = selectors.sheet_rows(plan=plan, department=department, frequency=frequency, start=start)
    content = excel.sheet_workbook(plan=plan, department=department, frequency=frequency, start=start, rows=rows)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="sheet-{department.code}-{frequency}-{start.isoformat()}.xlsx"'
    return response


@require_POST
def xlsx_upload(request):
    """Read a filled template, check it exactly as a submit would, and show what would change; nothing is saved."""
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    permissions.require(permissions.can_edit(request.user, department))
    upload = request.FILES.get("workbook")
    context = {"plan": plan, "department": department, "frequency": frequency, "start": start,
               "sheet_url": _sheet_url(department, frequency, start)}
    try:
        cells = excel.read_workbook(upload, department=department, frequency=frequency, start=start)
    except excel.WorkbookError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_sheet_url(department, frequency, start))
    try:
        result = sheet_save(user=request.user, plan=plan, department=department, frequency=frequency, start=start, cells=cells, dry_run=True)
    except SheetInvalid as exc:
        return render(request, "metrics/entry.html", _context(request, plan, department, frequency, start, cells=cells, errors=exc.errors, conflicts=exc.conflicts), status=400)
    context.update({"changes": result.changes, "cells": cells})
    return render(request, "metrics/xlsx_preview.html", context)


# --- Dashboards: read-only pages over the stored roll-ups, for every signed-in role ------------------


def _dashboard_plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan is loaded."))
    return plan


def _chart_number(value):
    """A chart value rounded as the pages print it (metrics.formatting), or null."""
    return None if value is None else float(formatting.pct(value))


def indicator_detail(request, pk):
    """An indicator at the as-of week: its path against the target and 序时进度, departments, pace, figures."""
    plan = _dashboard_plan()
    indicator = get_object_or_404(Indicator.objects.select_related("task__action"), pk=pk, task__action__plan=plan)
    asof = as_of_week(request, plan)
    progress = selectors.indicator_week(indicator=indicator, week=asof.week)
    figures = FigureTable(selectors.indicator_figures(indicator=indicator, until=asof.week))
    RequestConfig(request, paginate={"per_page": 20}).configure(figures)
    context = {
        "plan": plan,
        "indicator": indicator,
        "asof": asof,
        "rollup": selectors.plan_rollup(plan=plan, week=asof.week),
        "stale": selectors.stale_rollup(plan=plan),
        "progress": progress,
        "explanation": explain(progress, plan) if progress else [],
        "departments": DepartmentProgressTable(selectors.indicator_departments(indicator=indicator, week=asof.week), asof_query=asof.query),
        "figures": figures,
    }
    return render(request, "metrics/indicator_detail.html", context)


def indicator_data(request, pk):
    """Chart data of the indicator page: cumulative actual, target to date and 序时进度 per week."""
    plan = _dashboard_plan()
    indicator = get_object_or_404(Indicator, pk=pk, task__action__plan=plan)
    asof = as_of_week(request, plan)
    series = selectors.indicator_series(indicator=indicator, until=asof.week)
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
            "actual": [None if p.actual is None else float(formatting.amount(p.actual)) for p in series] + padding,
            "target_to_date": [None if p.target_to_date is None else float(formatting.amount(p.target_to_date)) for p in series] + padding,
            "completion": [_chart_number(p.completion_pct) for p in series] + padding,
            "schedule": [_chart_number(p.schedule_pct) for p in series] + padding,
        }
    )


def department_detail(request, pk):
    """A department at the as-of week: its indicators and led tasks; reporting, score and rank over the weeks."""
    plan = _dashboard_plan()
    department = get_object_or_404(Department, pk=pk)
    asof = as_of_week(request, plan)
    scores = selectors.department_scores(plan=plan, department=department, until=asof.week)
    context = {
        "plan": plan,
        "department": department,
        "asof": asof,
        "rollup": selectors.plan_rollup(plan=plan, week=asof.week),
        "stale": selectors.stale_rollup(plan=plan),
        "score": scores[-1] if scores and scores[-1].week == asof.week else None,
        "indicators": DepartmentIndicatorTable(selectors.department_indicators(department=department, week=asof.week), asof_query=asof.query),
        "tasks": LedgerTable(selectors.department_tasks(plan=plan, department=department, week=asof.week), orderable=False),
        "weeks": DepartmentWeekTable(list(reversed(scores))),
    }
    return render(request, "metrics/department_detail.html", context)


def department_data(request, pk):
    """Chart data of the department page: completeness, timeliness, score and rank per week."""
    plan = _dashboard_plan()
    department = get_object_or_404(Department, pk=pk)
    asof = as_of_week(request, plan)
    scores = selectors.department_scores(plan=plan, department=department, until=asof.week)
    return JsonResponse(
        {
            "week": asof.week.isoformat() if asof.week else None,
            "labels": [s.week.isoformat() for s in scores],
            "completeness": [_chart_number(s.completeness_pct) for s in scores],
            "timeliness": [_chart_number(s.timeliness_pct) for s in scores],
            "score": [_chart_number(s.score) for s in scores],
            "rank": [s.rank for s in scores],
        }
    )


def rankings(request):
    """比武打擂: the departments' scoreboard of the as-of week, or of its month (the month's last week)."""
    plan = _dashboard_plan()
    asof = as_of_week(request, plan)
    monthly = request.GET.get("view") == "monthly"
    if monthly:
        shown_week, rows = selectors.monthly_scoreboard(plan=plan, week=asof.week, weeks=asof.weeks)
    else:
        shown_week, rows = asof.week, selectors.scoreboard(plan=plan, week=asof.week)
    context = {
        "plan": plan,
        "asof": asof,
        "monthly": monthly,
        "shown_week": shown_week,
        "rollup": selectors.plan_rollup(plan=plan, week=asof.week),
        "stale": selectors.stale_rollup(plan=plan),
        "table": ScoreboardTable(rows, asof_query=asof.query),
    }
    return render(request, "metrics/rankings.html", context)


def supervision(request):
    """督查: red and yellow indicators, overdue milestones, missing reports of the as-of week, and 催办."""
    plan = _dashboard_plan()
    asof = as_of_week(request, plan)
    rollup = selectors.plan_rollup(plan=plan, week=asof.week)
    can_remind = permissions.can_review(request.user) and asof.week is not None
    options = {"week": asof.week, "can_remind": can_remind, "asof_query": asof.query}
    lagging = LaggingTable(selectors.lagging_indicators(plan=plan, week=asof.week), **options)
    overdue = OverdueMilestoneTable(selectors.overdue_milestones(plan=plan, as_of=rollup.as_of if rollup else None), **options)
    RequestConfig(request, paginate={"per_page": 50}).configure(lagging)
    context = {
        "plan": plan,
        "asof": asof,
        "rollup": rollup,
        "stale": selectors.stale_rollup(plan=plan),
        "can_remind": can_remind,
        "lagging": lagging,
        "overdue": overdue,
        "missing": MissingReportsTable(selectors.missing_reports(plan=plan, week=asof.week), **options),
        "reminders": ReminderTable(selectors.reminders(plan=plan)),
    }
    return render(request, "metrics/supervision.html", context)


@require_POST
def remind(request):
    """Record a 催办 (supervision office only) and go back to the supervision page of the same week."""
    permissions.require(permissions.can_review(request.user), _("Only the supervision office may send reminders."))
    plan = _dashboard_plan()
    department_id = request.POST.get("department", "")
    department = get_object_or_404(Department, pk=int(department_id) if department_id.isdigit() else 0)
    kind = request.POST.get("kind", "")
    try:
        week = period_start(datetime.date.fromisoformat(request.POST.get("week", "")), Frequency.WEEKLY)
    except ValueError:
        week = None
    subject = request.POST.get("subject", "").strip()
    if kind == ReminderKind.MISSING_REPORT:
        subject = _("%(n)s reports missing for the week of %(week)s") % {"n": subject, "week": week}
    back = reverse("metrics:supervision") + (f"?week={week.isoformat()}" if week else "")
    if kind not in ReminderKind.values or week is None or not subject:
        messages.error(request, _("The reminder was not recorded: it needs a department, a subject, a kind and a week."))
        return HttpResponseRedirect(back)
    reminder_record(user=request.user, plan=plan, department=department, kind=kind, subject=subject, week=week,
                    note=request.POST.get("note", "")[:1000])
    messages.success(request, _("Reminder recorded: %(department)s, %(subject)s.") % {"department": department.name, "subject": subject})
    return HttpResponseRedirect(back)
