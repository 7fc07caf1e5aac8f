"""Reporting pages: the staff sheet, the review queue, history, evidence downloads and the Excel round trip.

Views connect: a form parses the request, metrics.permissions decides who may, a selector builds what a
page shows and a service writes.
"""


from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actions.choices import Frequency
from actions.models import Department
from actions.selectors import plan_current
from metrics import permissions
from metrics.models import Evidence, Figure, ProgressNote, ReopenRequest, Sheet
from metrics.reporting import excel, selectors, services
from metrics.reporting.forms import ReopenDecideForm, ReopenRequestForm, ReviewForm, SheetForm, SheetInput, SheetTargetForm
from metrics.reporting.selectors import sheet_url
from metrics.reporting.services import SheetInvalid
from planboard import roles
from planboard.clock import today
from planboard.periods import period_start


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan loaded yet"))
    return plan


def _sheet_target(request, plan):
    """Department, frequency and period a request is about (query string or form), checked for viewing."""
    target = SheetTargetForm(request.POST if request.method == "POST" else request.GET).target()
    if target is None:
        raise Http404(_("No such sheet: the department, frequency or period is not one this plan has."))
    code, frequency, day = target
    user = request.user
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
    if day and (outside := permissions.outside_plan(plan=plan, frequency=frequency, day=day)):
        raise BadRequest(outside)
    if day:
        start = period_start(day, frequency)
    else:
        start = selectors.sheet_period_to_act_on(plan=plan, department=department, frequency=frequency, today=today())
    return department, frequency, start


def _render_sheet(request, plan, department, frequency, start, *, posted: SheetInput | None = None, exc: SheetInvalid | None = None):
    page = selectors.sheet_page(
        user=request.user, plan=plan, department=department, frequency=frequency, start=start, today=today(),
        posted=posted, errors=exc.errors if exc else None, conflicts=exc.conflicts if exc else frozenset(),
    )
    context = {
        "page": page,
        "sheet_url": sheet_url(department, frequency, start),
        "previous_url": sheet_url(department, frequency, page.previous_start) if page.previous_start else None,
        "next_url": sheet_url(department, frequency, page.next_start) if page.next_start else None,
        "other_url": sheet_url(department, page.other_frequency, page.other_start),
        "other_due_url": sheet_url(department, page.other_frequency, page.other_due_start) if page.other_due_start else None,
    }
    return render(request, "reporting/entry.html", context, status=400 if exc else 200)


def entry(request):
    """The sheet: staff of the department fill it; the supervision office and leaders read it."""
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    if request.method != "POST":
        return _render_sheet(request, plan, department, frequency, start)
    form = SheetForm(request.POST, request.FILES)
    form.is_valid()
    posted = form.cleaned_data["sheet"]
    try:
        result = services.sheet_save(user=request.user, plan=plan, department=department, frequency=frequency, start=start, sheet_input=posted)
    except SheetInvalid as exc:
        return _render_sheet(request, plan, department, frequency, start, posted=posted, exc=exc)
    if result.submitted:
        messages.success(request, _("Submitted to the supervision office (%(n)s figure(s) changed).") % {"n": len(result.changes)})
    else:
        messages.success(
            request,
            _("Saved: %(figures)s figure(s), %(notes)s progress note(s) and %(files)s file(s) changed.")
            % {"figures": len(result.changes), "notes": result.notes_changed, "files": result.files_added},
        )
    return HttpResponseRedirect(sheet_url(department, frequency, start))


def queue(request):
    """The supervision office's queue: submitted sheets and reopen requests."""
    permissions.require(permissions.can_review(request.user))
    plan = _plan()
    sheets = list(selectors.review_queue(plan=plan))
    for sheet in sheets:
        sheet.url = sheet_url(sheet.department, sheet.frequency, sheet.period_start)
        who = sheet.submitted_by
        sheet.who = (who.get_full_name() or who.username) if who else "—"
    requests = list(selectors.reopen_queue(plan=plan))
    for item in requests:
        item.url = sheet_url(item.sheet.department, item.sheet.frequency, item.sheet.period_start)
    return render(request, "reporting/queue.html", {"plan": plan, "sheets": sheets, "reopen_requests": requests})


@require_POST
def sheet_review(request, pk):
    """Approve or return a submitted sheet."""
    permissions.require(permissions.can_review(request.user))
    sheet = get_object_or_404(Sheet.objects.select_related("department"), pk=pk)
    form = ReviewForm(request.POST)
    back = sheet_url(sheet.department, sheet.frequency, sheet.period_start)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to return the sheet; a comment may have at most 2000 characters."))
        return HttpResponseRedirect(back)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.sheet_review(user=request.user, sheet=sheet, approve=approve, comment=form.cleaned_data["comment"])
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
        return HttpResponseRedirect(back)
    messages.success(request, _("Approved: the figures are locked.") if approve else _("Returned to the department with your comment."))
    return HttpResponseRedirect(reverse("metrics:queue"))


@require_POST
def reopen_request(request):
    """Staff ask to reopen a locked or approved sheet."""
    plan = _plan()
    department, frequency, start = _sheet_target(request, plan)
    form = ReopenRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why in at most 500 characters."))
        return HttpResponseRedirect(sheet_url(department, frequency, start))
    try:
        services.reopen_request(user=request.user, plan=plan, department=department, frequency=frequency, start=start, reason=form.cleaned_data["reason"])
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, _("Your request to reopen the sheet was sent to the supervision office."))
    return HttpResponseRedirect(sheet_url(department, frequency, start))


@require_POST
def reopen_decide(request, pk):
    """The supervision office grants or refuses a reopen request."""
    permissions.require(permissions.can_review(request.user))
    item = get_object_or_404(ReopenRequest, pk=pk)
    form = ReopenDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to grant or to refuse; a note may have at most 1000 characters."))
        return HttpResponseRedirect(reverse("metrics:queue"))
    grant = form.cleaned_data["decision"] == "grant"
    try:
        services.reopen_decide(user=request.user, request=item, grant=grant, note=form.cleaned_data["note"])
    except SheetInvalid as exc:
        messages.error(request, next(iter(exc.errors.values())))
    else:
        messages.success(request, _("Reopen request granted.") if grant else _("Reopen request refused."))
    return HttpResponseRedirect(reverse("metrics:queue"))


def figure_history(request, pk):
    figure = get_object_or_404(Figure.objects.select_related("indicator__task__action", "department"), pk=pk)
    permissions.require(permissions.can_view(request.user, figure.department))
    context = {
        "title": str(figure.indicator),
        "subject": figure,
        "entries": selectors.history_entries(figure.history),
        "kind": "figure",
        "back_url": sheet_url(figure.department, figure.indicator.frequency, figure.period_start),
    }
    return render(request, "reporting/history.html", context)


def note_history(request, pk):
    note = get_object_or_404(ProgressNote.objects.select_related("task__action", "department"), pk=pk)
    permissions.require(permissions.can_view(request.user, note.department))
    context = {
        "title": str(note.task),
        "subject": note,
        "entries": selectors.history_entries(note.history),
        "kind": "note",
        "back_url": sheet_url(note.department, Frequency.WEEKLY, note.period_start),
    }
    return render(request, "reporting/history.html", context)


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
    rows = selectors.sheet_rows(plan=plan, department=department, frequency=frequency, start=start, today=today())
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
    try:
        cells = excel.read_workbook(request.FILES.get("workbook"), department=department, frequency=frequency, start=start)
    except excel.WorkbookError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(sheet_url(department, frequency, start))
    posted = SheetInput(cells=cells)
    try:
        result = services.sheet_save(user=request.user, plan=plan, department=department, frequency=frequency, start=start, sheet_input=posted, dry_run=True)
    except SheetInvalid as exc:
        return _render_sheet(request, plan, department, frequency, start, posted=posted, exc=exc)
    context = {
        "plan": plan, "department": department, "frequency": frequency, "start": start,
        "sheet_url": sheet_url(department, frequency, start), "changes": result.changes, "cells": cells,
    }
    return render(request, "reporting/xlsx_preview.html", context)
