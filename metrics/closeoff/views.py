"""销号 and 延期 pages: a task's page (the objective test, the requests, the record) and the office's queue.

Views connect: a form parses the request, metrics.permissions decides who may, a selector builds what a
page shows and a service writes.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actions.choices import TaskStatus
from actions.models import Task
from actions.selectors import plan_current
from metrics import permissions
from metrics.closeoff import selectors, services
from metrics.closeoff.forms import CloseoffDecideForm, CloseoffRequestForm, ExtensionDecideForm, ExtensionRequestForm
from metrics.models import CloseOffRequest, ExtensionRequest
from planboard import roles
from planboard.clock import today


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan is loaded."))
    return plan


def _task(pk: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("action__plan", "parent", "lead_department"), pk=pk, action__plan=_plan()
    )


def _first_error(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(str(m) for errors in exc.message_dict.values() for m in errors)
    return " ".join(exc.messages)


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _render_task(request, task, *, closeoff_form=None, extension_form=None, status=200):
    user = request.user
    can_request = permissions.can_request_for_task(user, task) and task.status != TaskStatus.CLOSED
    record = selectors.task_requests(task)
    closeoffs, extensions = list(record.closeoffs), list(record.extensions)
    context = {
        "plan": task.action.plan,
        "task": task,
        "is_closed": task.status == TaskStatus.CLOSED,
        "check": selectors.closeoff_check(task, today()),
        "closeoffs": closeoffs,
        "extensions": extensions,
        "pending_closeoff": next((r for r in closeoffs if r.is_pending), None),
        "pending_extension": next((r for r in extensions if r.is_pending), None),
        "can_request": can_request,
        "can_decide": permissions.can_decide_for_task(user, task),
        "is_office": permissions.can_review(user),
        # Notes, reasons and evidence are the lead unit's own records (metrics.permissions.can_view).
        "can_see_records": permissions.can_view(user, task.lead_department),
        "extension_limit": services.extension_limit(task),
        # A refused post shows its form and errors, even for a deadline that cannot move.
        "can_extend": task.deadline < services.extension_limit(task) or extension_form is not None,
    }
    if can_request:
        context["closeoff_form"] = closeoff_form or CloseoffRequestForm(task=task)
        context["extension_form"] = extension_form or ExtensionRequestForm()
    return render(request, "closeoff/task.html", context, status=status)


def task_closeoff(request, pk):
    """A task's 销号 and 延期: the objective test, the buttons for its lead unit, the record of every request."""
    return _render_task(request, _task(pk))


@require_POST
def closeoff_request(request, pk):
    """Staff of the task's lead unit propose it closed off (销号)."""
    task = _task(pk)
    permissions.require_task_request(request.user, task)
    form = CloseoffRequestForm(request.POST, request.FILES, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.closeoff_request(
                user=request.user, task=task, note=data["note"], evidence=list(data["evidence"]), upload=data["file"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your close-off proposal was sent to the supervision office."))
            return HttpResponseRedirect(reverse("metrics:task_closeoff", args=[task.pk]))
    messages.error(request, _("The proposal was not sent: see the message next to the form."))
    return _render_task(request, task, closeoff_form=form, status=400)


@require_POST
def extension_request(request, pk):
    """Staff of the task's lead unit ask to extend its deadline (延期申请)."""
    task = _task(pk)
    permissions.require_task_request(request.user, task)
    form = ExtensionRequestForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.extension_request(user=request.user, task=task, reason=data["reason"], new_deadline=data["new_deadline"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your extension request was sent to the supervision office."))
            return HttpResponseRedirect(reverse("metrics:task_closeoff", args=[task.pk]))
    messages.error(request, _("The extension request was not sent: see the message next to the form."))
    return _render_task(request, task, extension_form=form, status=400)


def closeoff_requests(request):
    """The office's queue of 销号 proposals and 延期 requests, and the latest decisions; leaders read it."""
    user = request.user
    permissions.require(
        permissions.can_review(user) or roles.is_leader(user),
        _("Only the supervision office and leaders see the close-off and extension requests."),
    )
    plan = _plan()
    closeoffs = list(selectors.pending_closeoffs(plan))
    extensions = list(selectors.pending_extensions(plan))
    for item in [*closeoffs, *extensions]:
        item.can_decide = permissions.can_decide_for_task(user, item.task)
    context = {
        "plan": plan,
        "closeoffs": closeoffs,
        "extensions": extensions,
        "decided_closeoffs": selectors.decided_closeoffs(plan),
        "decided_extensions": selectors.decided_extensions(plan),
        "is_office": permissions.can_review(user),
    }
    return render(request, "closeoff/requests.html", context)


def _back(request, task) -> str:
    # Decisions are taken on the queue or on the task's page; go back where the office was.
    if request.POST.get("back") == "task":
        return reverse("metrics:task_closeoff", args=[task.pk])
    return reverse("metrics:closeoff_requests")


@require_POST
def closeoff_decide(request, pk):
    """The supervision office accepts (已销号) or sends back a 销号 proposal."""
    permissions.require(permissions.can_review(request.user), _("Only the supervision office may verify a close-off or decide an extension."))
    item = get_object_or_404(CloseOffRequest.objects.select_related("task"), pk=pk)
    form = CloseoffDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or to send back; a note may have at most 1000 characters."))
        return HttpResponseRedirect(_back(request, item.task))
    accept = form.cleaned_data["decision"] == "accept"
    try:
        services.closeoff_decide(user=request.user, request=item, accept=accept, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(
            request,
            _("Closed off (已销号): %(task)s.") % {"task": item.task} if accept else _("Sent back to the lead unit: %(task)s.") % {"task": item.task},
        )
    return HttpResponseRedirect(_back(request, item.task))


@require_POST
def extension_decide(request, pk):
    """The supervision office grants (the deadline moves) or refuses a 延期 request."""
    permissions.require(permissions.can_review(request.user), _("Only the supervision office may verify a close-off or decide an extension."))
    item = get_object_or_404(ExtensionRequest.objects.select_related("task"), pk=pk)
    form = ExtensionDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to grant or to refuse; a note may have at most 1000 characters."))
        return HttpResponseRedirect(_back(request, item.task))
    grant = form.cleaned_data["decision"] == "grant"
    try:
        services.extension_decide(user=request.user, request=item, grant=grant, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        if grant:
            messages.success(request, _("Extension granted: %(task)s is now due on %(day)s.") % {"task": item.task, "day": item.new_deadline.isoformat()})
        else:
            messages.success(request, _("Extension refused: %(task)s.") % {"task": item.task})
    return HttpResponseRedirect(_back(request, item.task))
