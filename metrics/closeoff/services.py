"""Writes of 销号 (close-off) and 延期 (extension): staff of the task's lead unit ask, the supervision office decides.

Every write checks metrics.permissions first and runs in one transaction; bad input raises ValidationError
(input name → message) and saves nothing. Each step is a row of CloseOffRequest or ExtensionRequest, with
its django-simple-history record: who asked, when and why; who decided, when and with what note.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from actions.choices import TaskStatus
from actions.models import Task
from metrics import permissions
from metrics.choices import CloseOffStatus, ExtensionStatus
from metrics.closeoff.selectors import closeoff_check, task_evidence
from metrics.models import CloseOffRequest, Evidence, ExtensionRequest
from metrics.reporting.parsers import InputError, check_evidence
from metrics.closeoff.signals import tasks_closed_off
from planboard import clock
from planboard.periods import Frequency, period_start

NOTE_MAX_LENGTH = 1000  # a proposal's note, a decision's note
REASON_MAX_LENGTH = 500  # an extension's reason
# Lock only the rows written (see metrics.reporting.services.ROW_ONLY: default orderings join other tables).
ROW_ONLY = ("self",)


def _locked_task(task: Task) -> Task:
    return Task.objects.select_for_update(of=ROW_ONLY).select_related("action__plan", "lead_department").get(pk=task.pk)


def _check_open(task: Task, field: str) -> None:
    if task.status == TaskStatus.CLOSED:
        raise ValidationError({field: _("This task is already closed off (已销号).")})


def _check_note(note: str, field: str = "note") -> str:
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({field: _("A note may have at most %(n)s characters.") % {"n": NOTE_MAX_LENGTH}})
    return note


@transaction.atomic
def closeoff_request(*, user, task: Task, note: str = "", evidence: list[Evidence] = (), upload=None) -> CloseOffRequest:
    """Staff of the lead unit propose the task closed off, with evidence: files of the task and/or a new upload.

    The objective test (closeoff_check) is kept with the proposal. Staff may propose while a criterion fails,
    but must then say in the note why the task is done nonetheless.
    """
    task = _locked_task(task)
    permissions.require_task_request(user, task)
    _check_open(task, "__all__")
    if task.closeoff_requests.filter(status=CloseOffStatus.PENDING).exists():
        raise ValidationError({"__all__": _("A close-off proposal for this task is already waiting for the supervision office.")})
    note = _check_note(note)
    allowed = set(task_evidence(task).values_list("pk", flat=True))
    if any(item.pk not in allowed for item in evidence):
        raise ValidationError({"evidence": _("Choose evidence files of this task.")})
    content_type = None
    if upload is not None:
        try:
            content_type = check_evidence(upload)
        except InputError as exc:
            raise ValidationError({"file": str(exc)}) from None
    test = closeoff_check(task, clock.today(), new_evidence=1 if upload is not None else 0)
    if not test.all_met and not note:
        raise ValidationError({
            "note": _("The objective test fails (%(failed)s): say in the note why the task is done nonetheless.")
            % {"failed": "、".join(str(c.label) for c in test.failed)}
        })
    request = CloseOffRequest(task=task, note=note, test_result=test.as_record(), requested_by=user)
    request.full_clean(exclude=["task", "requested_by"], validate_constraints=False)
    request.save()
    attached = list(evidence)
    if upload is not None:
        item = Evidence(
            task=task, department=task.lead_department, period_start=period_start(clock.today(), Frequency.WEEKLY),
            original_name=upload.name[:200], content_type=content_type, size=upload.size, uploaded_by=user,
        )
        item.file.save(upload.name, upload, save=False)
        item.save()
        attached.append(item)
    request.evidence.set(attached)
    return request


@transaction.atomic
def closeoff_decide(*, user, request: CloseOffRequest, accept: bool, note: str = "") -> CloseOffRequest:
    """The supervision office verifies a proposal: accepted, the task and its sub-tasks are closed off (已销号);
    returned (a note says why), the task stays open."""
    request = CloseOffRequest.objects.select_for_update(of=ROW_ONLY).get(pk=request.pk)
    task = _locked_task(request.task)
    permissions.require_task_decision(user, task)
    if request.status != CloseOffStatus.PENDING:
        raise ValidationError({"__all__": _("This request was already decided.")})
    note = _check_note(note)
    if not accept and not note:
        raise ValidationError({"note": _("Say what is missing: a returned proposal needs a note.")})
    request.status = CloseOffStatus.ACCEPTED if accept else CloseOffStatus.RETURNED
    request.decided_by, request.decided_at, request.decision_note = user, clock.now(), note
    request.save()
    if accept:
        # A task that groups sub-tasks was judged on theirs too: they close with it.
        closed = Task.objects.filter(Q(pk=task.pk) | Q(parent=task))
        task_ids = list(closed.values_list("pk", flat=True))
        closed.update(status=TaskStatus.CLOSED, updated=clock.now())
        tasks_closed_off.send(sender=Task, plan=task.action.plan, task_ids=task_ids)
    return request


def extension_limit(task: Task) -> datetime.date:
    """The latest deadline a task of the plan may be extended to: the last day of the plan year."""
    return datetime.date(task.action.plan.year, 12, 31)


def extension_problem(task: Task, new_deadline: datetime.date) -> str | None:
    """Why a task's deadline cannot be moved to `new_deadline`, or None when it can."""
    if new_deadline <= task.deadline:
        return _("The new deadline must be after the current one (%(day)s).") % {"day": task.deadline.isoformat()}
    limit = extension_limit(task)
    if new_deadline > limit:
        return _("The new deadline must fall within the %(year)s plan: %(last)s at the latest.") % {
            "year": limit.year, "last": limit.isoformat(),
        }
    return None


@transaction.atomic
def extension_request(*, user, task: Task, reason: str, new_deadline: datetime.date) -> ExtensionRequest:
    """Staff of the lead unit ask to move the task's deadline to a later day of the plan year, saying why."""
    task = _locked_task(task)
    permissions.require_task_request(user, task)
    _check_open(task, "__all__")
    if task.extension_requests.filter(status=ExtensionStatus.PENDING).exists():
        raise ValidationError({"__all__": _("An extension request for this task is already waiting for the supervision office.")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the deadline should be extended.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("Say why in at most %(n)s characters.") % {"n": REASON_MAX_LENGTH}})
    if problem := extension_problem(task, new_deadline):
        raise ValidationError({"new_deadline": problem})
    request = ExtensionRequest(task=task, reason=reason, current_deadline=task.deadline, new_deadline=new_deadline, requested_by=user)
    request.full_clean(exclude=["task", "requested_by"], validate_constraints=False)
    request.save()
    return request


@transaction.atomic
def extension_decide(*, user, request: ExtensionRequest, grant: bool, note: str = "") -> ExtensionRequest:
    """The supervision office grants (the task's deadline becomes the new date) or refuses (a note says why)."""
    request = ExtensionRequest.objects.select_for_update(of=ROW_ONLY).get(pk=request.pk)
    task = _locked_task(request.task)
    permissions.require_task_decision(user, task)
    if request.status != ExtensionStatus.PENDING:
        raise ValidationError({"__all__": _("This request was already decided.")})
    note = _check_note(note)
    if not grant and not note:
        raise ValidationError({"note": _("Say why: a refused extension needs a note.")})
    if grant:
        _check_open(task, "__all__")
        # The deadline may have moved since the request (a plan reload): the new date must still be later.
        if problem := extension_problem(task, request.new_deadline):
            raise ValidationError({"__all__": problem})
    request.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = user, clock.now(), note
    request.save()
    if grant:
        task.deadline = request.new_deadline
        task.save(update_fields=["deadline", "updated"])
    return request
