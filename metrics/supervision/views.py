"""The supervision page (督查): who is behind, what is overdue, who has not reported; and 催办."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from actions.selectors import plan_current
from metrics import permissions
from metrics.dashboards.asof import as_of_week
from metrics.dashboards.selectors import page_head, plan_rollup
from metrics.supervision import selectors, services
from metrics.choices import InterviewStatus, OrderStatus, ReopenStatus
from metrics.models import Interview, OrderReply, SupervisionOrder
from metrics.supervision.filtersets import OrderFilterSet
from metrics.supervision.forms import (
    InterviewCloseForm,
    InterviewScheduleForm,
    OrderCloseForm,
    OrderIssueForm,
    OrderReplyForm,
    RemindForm,
    ReplyVerifyForm,
)
from metrics.supervision.orders import UNANSWERED, order_subject
from metrics.supervision.tables import (
    InterviewTable,
    LaggingTable,
    MissingReportsTable,
    OrderTable,
    OverdueMilestoneTable,
    ReminderTable,
)
from planboard.clock import today


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan is loaded."))
    return plan


def supervision(request):
    """督查: red and yellow indicators, overdue milestones, missing reports of the as-of week, and 催办."""
    plan = _plan()
    asof = as_of_week(request, plan)
    rollup = plan_rollup(plan=plan, week=asof.week)
    can_remind = permissions.can_review(request.user) and asof.week is not None
    options = {"week": asof.week, "can_remind": can_remind, "asof_query": asof.query}
    lagging = LaggingTable(selectors.lagging_indicators(plan=plan, week=asof.week), **options)
    overdue = OverdueMilestoneTable(selectors.overdue_milestones(plan=plan, as_of=rollup.as_of if rollup else None), **options)
    RequestConfig(request, paginate={"per_page": 50}).configure(lagging)
    context = {
        "plan": plan,
        "asof": asof,
        **page_head(plan=plan, week=asof.week, rollup=rollup),
        "can_remind": can_remind,
        "lagging": lagging,
        "overdue": overdue,
        "missing": MissingReportsTable(selectors.missing_reports(plan=plan, week=asof.week), **options),
        "reminders": ReminderTable(selectors.reminders(plan=plan)),
    }
    return render(request, "supervision/supervision.html", context)


@require_POST
def remind(request):
    """Record a 催办 (supervision office only) and go back to the supervision page of the same week."""
    permissions.require(permissions.can_review(request.user), _("Only the supervision office may send reminders."))
    plan = _plan()
    form = RemindForm(request.POST, plan=plan)
    if not form.is_valid():
        if "week" in form.errors and request.POST.get("week"):
            messages.error(request, " ".join([str(_("The reminder was not recorded:")), *form.errors["week"]]))
        else:
            messages.error(request, _("The reminder was not recorded: it needs a department, a subject, a kind and a week."))
        week = request.POST.get("week", "")[:10]
        return HttpResponseRedirect(reverse("metrics:supervision") + (f"?week={week}" if week else ""))
    data = form.cleaned_data
    reminder = services.reminder_record(
        user=request.user, plan=plan, department=data["department"], kind=data["kind"], subject=data["subject"],
        week=data["week"], note=data["note"],
    )
    messages.success(request, _("Reminder recorded: %(department)s, %(subject)s.") % {"department": reminder.department.name, "subject": reminder.subject})
    return HttpResponseRedirect(reverse("metrics:supervision") + f"?week={data['week'].isoformat()}")


# ---------------------------------------------------------------------------------------------------
# Supervision orders (督办单) and 约谈.


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for messages_ in exc.message_dict.values() for m in messages_]
    return [str(m) for m in exc.messages]


def orders(request):
    """督办单: every order of the plan, open first, with filters; the office also issues orders by hand here."""
    plan = _plan()
    filterset = OrderFilterSet(request.GET or {"state": "open"}, queryset=selectors.orders(plan=plan))
    table = OrderTable(filterset.qs, today=today())
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    can_issue = permissions.can_issue_orders(request.user)
    form = OrderIssueForm(plan=plan) if can_issue else None
    if request.method == "POST":
        permissions.require(can_issue, _("Only the supervision office issues orders."))
        form = OrderIssueForm(request.POST, plan=plan)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.order_issue(user=request.user, plan=plan, subject=data["subject"], level=data["level"], reason=data["reason"])
            except ValidationError as exc:
                for message in _errors(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("Order issued to %(unit)s.") % {"unit": order.department.name})
                return HttpResponseRedirect(order.get_absolute_url())
    context = {
        "plan": plan,
        "filter": filterset,
        "table": table,
        "counts": selectors.order_counts(plan=plan),
        "interviews": InterviewTable(selectors.interviews(plan=plan)),
        "issue_form": form,
        "ladder": plan,
    }
    return render(request, "supervision/orders.html", context, status=400 if form is not None and form.errors else 200)


def order_detail(request, pk):
    """One order: what it is about and why, its replies and their verification, its whole history; and the
    forms of whoever may act (the unit replies; the office verifies or closes it)."""
    order = get_object_or_404(SupervisionOrder.objects.select_related("plan", "department", "indicator__task", "milestone__task"), pk=pk)
    user = request.user
    can_answer = permissions.can_answer_order(user, order) and order.status != OrderStatus.REPLIED
    can_judge = order.is_open and permissions.can_judge_order(user, order)
    reply_form = OrderReplyForm() if can_answer else None
    verify_form = close_form = None
    pending = order.replies.filter(verdict=ReopenStatus.PENDING).first()
    if can_judge:
        verify_form = ReplyVerifyForm(initial={"reply": pending.pk}) if pending else None
        close_form = OrderCloseForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "reply":
                permissions.require(permissions.can_answer_order(user, order), _("Only staff of %(unit)s may reply to this order, while it is open.") % {"unit": order.department.name})
                reply_form = OrderReplyForm(request.POST, request.FILES)
                if reply_form.is_valid():
                    data = reply_form.cleaned_data
                    services.order_reply(user=user, order=order, measures=data["measures"], expected_date=data["expected_date"], upload=data["file"])
                    messages.success(request, _("Reply sent to the supervision office."))
                    return HttpResponseRedirect(order.get_absolute_url())
            elif action == "verify":
                permissions.require(permissions.can_judge_order(user, order), _("Only the supervision office verifies replies."))
                verify_form = ReplyVerifyForm(request.POST)
                if verify_form.is_valid():
                    data = verify_form.cleaned_data
                    reply = get_object_or_404(OrderReply, pk=data["reply"], order=order)
                    services.reply_verify(user=user, reply=reply, accept=data["decision"] == "accept", comment=data["comment"])
                    messages.success(request, _("Reply accepted.") if data["decision"] == "accept" else _("Reply sent back to the unit."))
                    return HttpResponseRedirect(order.get_absolute_url())
            elif action == "remind":
                permissions.require(permissions.can_review(user), _("Only the supervision office sends reminders."))
                services.order_remind(user=user, order=order, note=request.POST.get("note", "")[:1000])
                messages.success(request, _("Reminder recorded: %(department)s, %(subject)s.") % {"department": order.department.name, "subject": order_subject(order)})
                return HttpResponseRedirect(order.get_absolute_url())
            elif action == "close":
                permissions.require(permissions.can_judge_order(user, order), _("Only the supervision office closes orders by hand."))
                close_form = OrderCloseForm(request.POST)
                if close_form.is_valid():
                    services.order_close(user=user, order=order, reason=close_form.cleaned_data["reason"])
                    messages.success(request, _("Order closed."))
                    return HttpResponseRedirect(order.get_absolute_url())
            else:
                messages.error(request, _("Nothing was done: the form did not say what to do."))
        except ValidationError as exc:
            form = {"reply": reply_form, "verify": verify_form, "close": close_form}.get(action)
            for message in _errors(exc):
                if form is not None:
                    form.add_error(None, message)
                else:
                    messages.error(request, message)
        status = 400
    context = {
        "plan": order.plan,
        "order": order,
        "subject": order_subject(order),
        "history": selectors.order_history(order),
        "replies": order.replies.select_related("replied_by", "verified_by"),
        "pending": pending,
        "reply_form": reply_form,
        "verify_form": verify_form,
        "close_form": close_form,
        "overdue": order.is_open and order.status in UNANSWERED and order.deadline < today(),
        "can_remind": order.is_open and permissions.can_review(user),
    }
    return render(request, "supervision/order_detail.html", context, status=status)


def order_reply_file(request, pk):
    """A reply's evidence, for those who may see the unit's own records."""
    reply = get_object_or_404(OrderReply.objects.select_related("order__department"), pk=pk)
    permissions.require(permissions.can_view(request.user, reply.order.department))
    if not reply.file:
        raise Http404(_("This reply has no evidence file."))
    return FileResponse(reply.file.open("rb"), as_attachment=True, filename=reply.original_name, content_type=reply.content_type)


def interview_detail(request, pk):
    """A 约谈: why it was opened (its red orders), when and where, and the unit head's commitment."""
    interview = get_object_or_404(Interview.objects.select_related("plan", "department"), pk=pk)
    can_act = interview.closed_on is None and permissions.can_review_department(request.user, interview.department)
    schedule_form = InterviewScheduleForm(initial={"scheduled_for": interview.scheduled_for, "place": interview.place,
                                                   "unit_head": interview.unit_head}) if can_act else None
    close_form = InterviewCloseForm() if can_act and interview.status == InterviewStatus.SCHEDULED else None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        permissions.require(permissions.can_review(request.user), _("Only the supervision office arranges interviews."))
        try:
            if action == "schedule":
                schedule_form = InterviewScheduleForm(request.POST)
                if schedule_form.is_valid():
                    data = schedule_form.cleaned_data
                    services.interview_schedule(user=request.user, interview=interview, when=data["scheduled_for"], place=data["place"], unit_head=data["unit_head"])
                    messages.success(request, _("Interview scheduled."))
                    return HttpResponseRedirect(reverse("metrics:interview_detail", args=[interview.pk]))
            elif action == "close":
                close_form = InterviewCloseForm(request.POST)
                if close_form.is_valid():
                    services.interview_close(user=request.user, interview=interview, commitment=close_form.cleaned_data["commitment"])
                    messages.success(request, _("Interview closed with the unit head's commitment."))
                    return HttpResponseRedirect(reverse("metrics:interview_detail", args=[interview.pk]))
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        status = 400
    context = {
        "plan": interview.plan,
        "interview": interview,
        "orders": interview.orders.select_related("department", "indicator", "milestone"),
        "history": interview.history.select_related("history_user").order_by("history_date"),
        "schedule_form": schedule_form,
        "close_form": close_form,
    }
    return render(request, "supervision/interview_detail.html", context, status=status)
