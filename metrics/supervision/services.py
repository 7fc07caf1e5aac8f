"""Writes of the supervision loop: 催办 (reminders, recorded and sent); replies to, verification of and hand
steps on orders (督办单); 约谈."""

import datetime
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from actions.models import Department, Indicator, Milestone, Plan
from metrics import permissions
from metrics.choices import InterviewStatus, OrderEventKind, OrderLevel, OrderStatus, OrderSubject, ReminderKind, ReopenStatus
from metrics.models import Interview, OrderEvent, OrderReply, Reminder, SupervisionOrder
from metrics.reporting.parsers import InputError, check_evidence
from metrics.rollup.engine import Week, rescore_week
from metrics.supervision.orders import order_step, order_turned_red, rank
from metrics.tasks import reminder_delivery_request
from planboard import clock
from planboard.periods import Frequency, in_plan_year, period_start


@transaction.atomic
def reminder_record(
    *, user, plan: Plan, department: Department, kind: str, subject: str, week: datetime.date, note: str = ""
) -> Reminder:
    """Record a 催办: who reminded which department of what, about which as-of week (now); then send it
    to the department's staff by e-mail and to its group robots (metrics.notifications)."""
    permissions.require(permissions.can_review(user))
    if outside := permissions.outside_plan(plan=plan, frequency=Frequency.WEEKLY, day=week):
        raise ValidationError({"week": outside})
    if kind == ReminderKind.MISSING_REPORT:
        # The missing-reports button posts how many are missing; the record says it in words.
        subject = _("%(n)s reports missing for the week of %(week)s") % {"n": subject, "week": week.isoformat()}
    reminder = Reminder(plan=plan, department=department, kind=kind, subject=subject[:300], week=week, note=note, reminded_by=user)
    reminder.full_clean()
    reminder.save()
    # The 催办 also goes out through the unit's channels (logged in Delivery), once the record is committed.
    transaction.on_commit(partial(reminder_delivery_request, reminder))
    return reminder


# ---------------------------------------------------------------------------------------------------
# Supervision orders (督办单): the unit replies, the office verifies, closes by hand or issues by hand.
# The rules' own steps are in metrics.supervision.orders.


def _event(order: SupervisionOrder, kind: str, *, user, text: str = "", reply: OrderReply | None = None) -> OrderEvent:
    """A step taken by hand, today (the ladder's `order_step`, with the user)."""
    return order_step(order, kind, day=clock.today(), week=None, text=text, by=user, reply=reply)


def _locked(order: SupervisionOrder) -> SupervisionOrder:
    return SupervisionOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)


@transaction.atomic
def order_reply(*, user, order: SupervisionOrder, measures: str, expected_date: datetime.date, upload=None) -> OrderReply:
    """The unit's answer: its measures, when the shortfall will be made up, and evidence (checked as sheets' are)."""
    order = _locked(order)
    permissions.require(
        permissions.can_answer_order(user, order),
        _("Only staff of %(unit)s may reply to this order, while it is open.") % {"unit": order.department.name},
    )
    if order.status == OrderStatus.REPLIED:
        raise ValidationError(_("This order's reply is waiting for the supervision office's verification."))
    if not measures.strip():
        raise ValidationError({"measures": _("Say what the unit is doing to make up the shortfall.")})
    if expected_date < clock.today() or not in_plan_year(expected_date, Frequency.MONTHLY, order.plan.year):
        raise ValidationError({"expected_date": _("Choose a day from today to the end of %(year)s.") % {"year": order.plan.year}})
    reply = OrderReply(order=order, measures=measures.strip(), expected_date=expected_date, replied_by=user)
    if upload is not None:
        try:
            reply.content_type = check_evidence(upload)
        except InputError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        reply.original_name, reply.size = upload.name[:200], upload.size
        reply.file.save(f"{uuid.uuid4().hex}.{upload.name.rsplit('.', 1)[-1].lower()}", upload, save=False)
    reply.save()
    order.status = OrderStatus.REPLIED
    order.save(update_fields=["status", "updated"])
    _event(order, OrderEventKind.REPLIED, user=user, text=reply.measures, reply=reply)
    return reply


@transaction.atomic
def order_remind(*, user, order: SupervisionOrder, note: str = "") -> Reminder:
    """催办 an order: the office chases the unit (recorded as a reminder, and as a step of the order)."""
    permissions.require(permissions.can_review(user), _("Only the supervision office sends reminders."))
    if not order.is_open:
        raise ValidationError(_("This order is closed: there is nothing to chase."))
    today = clock.today()
    subject = _("Order No. %(pk)s: %(reason)s") % {"pk": order.pk, "reason": order.reason}
    reminder = reminder_record(
        user=user, plan=order.plan, department=order.department, kind=ReminderKind.ORDER, subject=subject,
        week=period_start(today, Frequency.WEEKLY) if in_plan_year(today, Frequency.WEEKLY, order.plan.year) else order.week,
        note=note,
    )
    _event(order, OrderEventKind.REMINDED, user=user, text=note or _("reply due by %(day)s") % {"day": order.deadline.isoformat()})
    return reminder


@transaction.atomic
def reply_verify(*, user, reply: OrderReply, accept: bool, comment: str = "") -> OrderReply:
    """The office's verification: the reply is accepted (the order stays until the numbers recover) or sent back."""
    order = _locked(reply.order)
    permissions.require(permissions.can_review(user), _("Only the supervision office verifies replies."))
    permissions.require(
        permissions.can_judge_order(user, order),
        _("You are staff of %(unit)s: another member of the supervision office must verify its replies.") % {"unit": order.department.name},
    )
    reply = OrderReply.objects.select_for_update(of=("self",)).get(pk=reply.pk)
    if reply.verdict != ReopenStatus.PENDING or not order.is_open:
        raise ValidationError(_("This reply has already been verified."))
    if not accept and not comment.strip():
        raise ValidationError({"comment": _("Say what the unit must add or change when sending a reply back.")})
    reply.verdict = ReopenStatus.GRANTED if accept else ReopenStatus.REFUSED
    reply.verified_by, reply.verified_at, reply.comment = user, clock.now(), comment.strip()
    reply.save()
    order.status = OrderStatus.ACCEPTED if accept else OrderStatus.RETURNED
    if not accept:
        # A reply sent back is due again: the unit gets the plan's days to answer anew.
        order.deadline = clock.today() + datetime.timedelta(days=order.plan.order_reply_days)
    order.save(update_fields=["status", "deadline", "updated"])
    _event(order, OrderEventKind.ACCEPTED if accept else OrderEventKind.RETURNED, user=user, text=reply.comment, reply=reply)
    return reply


@transaction.atomic
def order_close(*, user, order: SupervisionOrder, reason: str) -> SupervisionOrder:
    """The office closes an order by hand, with its reason (the rules close it when the shortfall is made up)."""
    order = _locked(order)
    permissions.require(permissions.can_review(user), _("Only the supervision office closes orders by hand."))
    permissions.require(
        permissions.can_judge_order(user, order),
        _("You are staff of %(unit)s: another member of the supervision office must close its orders.") % {"unit": order.department.name},
    )
    if not order.is_open:
        raise ValidationError(_("This order is already closed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is closed by hand.")})
    order.status, order.closed_on, order.close_reason = OrderStatus.CLOSED, clock.today(), reason.strip()
    order.save()
    _event(order, OrderEventKind.CLOSED, user=user, text=order.close_reason)
    return order


@transaction.atomic
def order_issue(*, user, plan: Plan, subject, level: str, reason: str) -> SupervisionOrder:
    """The office issues an order by hand about an indicator, a milestone or a unit's missing reports.

    The subject's open order, if any, is raised to `level` instead (one open order per subject)."""
    permissions.require(permissions.can_issue_orders(user), _("Only the supervision office issues orders."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is issued.")})
    if isinstance(subject, Indicator):
        kind, key, department, fields = OrderSubject.INDICATOR, f"indicator:{subject.pk}", subject.task.lead_department, {"indicator": subject}
    elif isinstance(subject, Milestone):
        kind, key, department, fields = OrderSubject.MILESTONE, f"milestone:{subject.pk}", subject.task.lead_department, {"milestone": subject}
    else:
        kind, key, department, fields = OrderSubject.MISSING_REPORT, f"missing:{subject.pk}", subject, {}
    permissions.require(
        permissions.can_review_department(user, department),
        _("You are staff of %(unit)s: another member of the supervision office must issue its orders.") % {"unit": department.name},
    )
    today = clock.today()
    deadline = today + datetime.timedelta(days=plan.order_reply_days)
    order = SupervisionOrder.objects.select_for_update(of=("self",)).filter(plan=plan, subject_key=key, closed_on__isnull=True).first()
    if order is None:
        order = SupervisionOrder.objects.create(
            plan=plan, subject_kind=kind, subject_key=key, department=department, level=level, found_level=OrderLevel.BLUE, reason=reason.strip(),
            week=period_start(today, Frequency.WEEKLY), issued_on=today, issued_by=user, deadline=deadline, **fields,
        )
        _event(order, OrderEventKind.ISSUED, user=user, text=order.reason)
    elif rank(level) > rank(order.level):
        order.level, order.reason, order.status, order.deadline = level, reason.strip(), OrderStatus.AWAITING_REPLY, deadline
        order.save()
        _event(order, OrderEventKind.ESCALATED, user=user, text=order.reason)
    else:
        raise ValidationError(
            _("%(unit)s already has an open %(level)s order on this subject: open it to raise or close it.")
            % {"unit": department.name, "level": order.get_level_display()}
        )
    if order.level == OrderLevel.RED:
        order_turned_red.send(sender=SupervisionOrder, orders=[order])
    rescore_week(Week.of(plan, today, today))
    return order


# ---------------------------------------------------------------------------------------------------
# 约谈: opened by the rules; the office schedules it and closes it with the unit head's commitment.


def _require_interview(user, interview: Interview) -> None:
    permissions.require(permissions.can_review(user), _("Only the supervision office arranges interviews."))
    permissions.require(
        permissions.can_review_department(user, interview.department),
        _("You are staff of %(unit)s: another member of the supervision office must arrange its interview.") % {"unit": interview.department.name},
    )


@transaction.atomic
def interview_schedule(*, user, interview: Interview, when: datetime.datetime, place: str, unit_head: str) -> Interview:
    _require_interview(user, interview)
    if interview.closed_on:
        raise ValidationError(_("This interview is already closed."))
    if not place.strip() or not unit_head.strip():
        raise ValidationError(_("Give the place and the unit head to be interviewed."))
    interview.scheduled_for, interview.place, interview.unit_head = when, place.strip(), unit_head.strip()
    interview.status = InterviewStatus.SCHEDULED
    interview._history_user = user
    interview.save()
    return interview


@transaction.atomic
def interview_close(*, user, interview: Interview, commitment: str) -> Interview:
    _require_interview(user, interview)
    if interview.closed_on:
        raise ValidationError(_("This interview is already closed."))
    if interview.status != InterviewStatus.SCHEDULED:
        raise ValidationError(_("Schedule the interview before closing it."))
    if not commitment.strip():
        raise ValidationError({"commitment": _("An interview closes with the unit head's written rectification commitment (整改承诺).")})
    interview.commitment, interview.closed_on, interview.closed_by = commitment.strip(), clock.today(), user
    interview.status = InterviewStatus.CLOSED
    interview._history_user = user
    interview.save()
    today = clock.today()
    rescore_week(Week.of(interview.plan, today, today))
    return interview
