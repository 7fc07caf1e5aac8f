"""我的待办 (the inbox): what a person has to do, the one home of that question.

`inbox_items(user=..., today=...)` builds it once as a typed object; the inbox page renders it and the
daily digest prints it, so the two can never disagree. Each section is built by one function from the
current state (a submitted sheet drops out of "sheets due" at once, an answered order out of "open
orders"): that is also what mutes a digest once the unit has done what was asked.

Who gets which sections:
- department staff: sheets due (open, not yet submitted, due by now or this period) and by when; sheets
  returned with the reviewer's comment; open supervision orders of their departments awaiting a reply (or
  whose reply was sent back) with their deadline; recent decisions on their reopen requests;
- the supervision office: sheets to review, reopen requests to decide, order replies to verify, open orders
  past their deadline;
- leaders: open orders on the actions and tasks they lead (`led_orders`; see `leader_names`).
`EXTRA_SECTIONS` is the hook for sections defined elsewhere (销号 and 延期 requests and their decisions).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from actions.models import Department, IndicatorDepartment, Plan
from actions.selectors import plan_current
from metrics import permissions
from metrics.choices import CloseOffStatus, ExtensionStatus, OrderStatus, ReopenStatus, SheetStatus
from metrics.closeoff.selectors import pending_closeoffs, pending_extensions, requests_of
from metrics.models import OrderReply, ReopenRequest, Sheet, SupervisionOrder
from metrics.reporting.selectors import period_locks, review_queue, reopen_queue, sheet_url
from metrics.supervision.orders import order_subject
from planboard import clock, roles
from planboard.periods import Frequency, due_at, period_end, reporting_period

# Decisions on a person's requests stay in the inbox this many days after they were made.
DECISIONS_SHOWN_DAYS = 7

# The order statuses that wait for the unit: it has to reply (again).
ORDERS_AWAITING_UNIT = [OrderStatus.AWAITING_REPLY, OrderStatus.RETURNED]


@dataclass(frozen=True)
class InboxItem:
    """One thing to do: what (title), the detail to read (a reviewer's comment, an order's reason), by when
    (`deadline`, a date or a moment), whether that has passed, and where to do it."""

    title: str
    detail: str = ""
    deadline: datetime.date | datetime.datetime | None = None
    overdue: bool = False
    url: str = ""
    department: Department | None = None
    # The record the item is about (a Sheet, SupervisionOrder, OrderReply, ReopenRequest…), for callers and tests.
    obj: object = None

    @property
    def deadline_has_time(self) -> bool:
        """A sheet is due at a moment (Friday 17:00), an order by a day."""
        return isinstance(self.deadline, datetime.datetime)


@dataclass(frozen=True)
class InboxSection:
    key: str
    title: str
    items: list[InboxItem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Inbox:
    """A person's 我的待办 on a day: the sections that apply to their roles, empty ones included."""

    user: object
    today: datetime.date
    plan: Plan | None
    sections: list[InboxSection]

    @property
    def count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def is_empty(self) -> bool:
        return self.count == 0

    def section(self, key: str) -> InboxSection | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass(frozen=True)
class SheetDue:
    """A department's sheet of a period that is open and not submitted yet, and when it is due."""

    department: Department
    frequency: str
    start: datetime.date
    due: datetime.datetime
    sheet: Sheet | None

    @property
    def url(self) -> str:
        return sheet_url(self.department, self.frequency, self.start)


def _name(department: Department) -> str:
    return department.short_name or department.name


def _order_url(order: SupervisionOrder) -> str:
    try:
        return order.get_absolute_url()
    except NoReverseMatch:  # the order page comes with the order work (metrics:order_detail); until then, no link
        return ""


def period_words(frequency: str, start: datetime.date) -> str:
    if frequency == Frequency.WEEKLY:
        return _("week of %(start)s to %(end)s") % {"start": start.isoformat(), "end": period_end(start, frequency).isoformat()}
    return _("%(year)s-%(month)02d (monthly)") % {"year": start.year, "month": start.month}


def member_departments(user) -> list[Department]:
    """The departments the user is staff of (metrics.permissions decides), by code."""
    if not roles.is_staff_member(user):
        return []
    return list(Department.objects.filter(members=user).order_by("code"))


def sheets_due(*, plan: Plan, department: Department, today: datetime.date) -> list[SheetDue]:
    """The department's sheets still to be submitted: every period of a frequency it reports, up to the one
    due now (this week; last month), that is open to changes today (metrics.permissions.lock_reason) and
    not submitted or approved (a returned sheet is its own item). Also what the deadline reminders ask."""
    frequencies = set(
        IndicatorDepartment.objects.filter(department=department, indicator__task__action__plan=plan)
        .values_list("indicator__frequency", flat=True)
    )
    due = []
    for frequency in (Frequency.WEEKLY, Frequency.MONTHLY):
        if frequency not in frequencies:
            continue
        latest = reporting_period(today, frequency)
        locks = period_locks(plan=plan, department=department, frequency=frequency, today=today)
        open_starts = [start for start, lock in locks.items() if lock is None and start <= latest]
        sheets = {s.period_start: s for s in Sheet.objects.filter(plan=plan, department=department, frequency=frequency, period_start__in=open_starts)}
        for start in open_starts:
            sheet = sheets.get(start)
            if sheet is not None and sheet.status != SheetStatus.DRAFT:
                continue
            due.append(SheetDue(department=department, frequency=frequency, start=start, due=due_at(plan, start, frequency), sheet=sheet))
    return sorted(due, key=lambda d: d.due)


def _sheets_due_section(*, user, plan, today) -> InboxSection:
    now = clock.now()
    items = []
    for department in member_departments(user):
        for due in sheets_due(plan=plan, department=department, today=today):
            items.append(InboxItem(
                title=_("%(department)s: report sheet for the %(period)s") % {"department": _name(department), "period": period_words(due.frequency, due.start)},
                detail=_("Saved as a draft, not submitted yet.") if due.sheet is not None else _("Not started yet."),
                deadline=timezone.localtime(due.due), overdue=due.due < now, url=due.url, department=department, obj=due,
            ))
    return InboxSection("sheets_due", _("Report sheets due"), sorted(items, key=lambda i: i.deadline))


def _returned_sheets_section(*, user, plan, today) -> InboxSection:
    sheets = Sheet.objects.filter(plan=plan, department__in=member_departments(user), status=SheetStatus.RETURNED).select_related("department")
    items = []
    for sheet in sheets.order_by("reviewed_at"):
        until = permissions.open_until(plan, sheet.frequency, sheet.period_start, sheet)
        items.append(InboxItem(
            title=_("%(department)s: report sheet for the %(period)s was returned") % {
                "department": _name(sheet.department), "period": period_words(sheet.frequency, sheet.period_start)},
            detail=sheet.review_comment, deadline=until, overdue=until < today,
            url=sheet_url(sheet.department, sheet.frequency, sheet.period_start), department=sheet.department, obj=sheet,
        ))
    return InboxSection("returned_sheets", _("Sheets returned for correction"), items)


def _order_title(order: SupervisionOrder) -> str:
    return _("%(level)s supervision order (督办单) of %(day)s to %(department)s: %(subject)s") % {
        "department": _name(order.department), "level": order.get_level_display(), "day": order.issued_on.isoformat(),
        "subject": order_subject(order)}


def _open_orders_section(*, user, plan, today) -> InboxSection:
    orders = (
        SupervisionOrder.objects.filter(plan=plan, department__in=member_departments(user), closed_on__isnull=True, status__in=ORDERS_AWAITING_UNIT)
        .select_related("department", "indicator", "milestone").prefetch_related("replies").order_by("deadline", "pk")
    )
    items = []
    for order in orders:
        detail = order.reason
        if order.status == OrderStatus.RETURNED:
            sent_back = next((r for r in order.replies.all() if r.verdict == ReopenStatus.REFUSED), None)
            if sent_back is not None and sent_back.comment:
                detail = _("Reply sent back: %(comment)s") % {"comment": sent_back.comment}
        items.append(InboxItem(title=_order_title(order), detail=detail, deadline=order.deadline, overdue=order.deadline < today,
                               url=_order_url(order), department=order.department, obj=order))
    return InboxSection("open_orders", _("Supervision orders awaiting your reply"), items)


def _reopen_decisions_section(*, user, plan, today) -> InboxSection:
    since = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=DECISIONS_SHOWN_DAYS), datetime.time.min))
    requests = (
        ReopenRequest.objects.filter(sheet__plan=plan, sheet__department__in=member_departments(user), decided_at__gte=since)
        .exclude(status=ReopenStatus.PENDING).select_related("sheet__department").order_by("-decided_at")
    )
    items = []
    for request in requests:
        sheet = request.sheet
        words = {"department": _name(sheet.department), "period": period_words(sheet.frequency, sheet.period_start)}
        if request.status == ReopenStatus.GRANTED:
            title = _("%(department)s: reopening of the %(period)s granted") % words
            deadline = sheet.reopened_until
        else:
            title = _("%(department)s: reopening of the %(period)s refused") % words
            deadline = None
        items.append(InboxItem(title=title, detail=request.decision_note, deadline=deadline,
                               url=sheet_url(sheet.department, sheet.frequency, sheet.period_start), department=sheet.department, obj=request))
    return InboxSection("reopen_decisions", _("Decisions on your reopen requests"), items)


def _to_review_section(*, user, plan, today) -> InboxSection:
    items = []
    for sheet in review_queue(plan=plan):
        if not permissions.can_review_department(user, sheet.department):
            continue
        items.append(InboxItem(
            title=_("%(department)s: report sheet for the %(period)s") % {"department": _name(sheet.department), "period": period_words(sheet.frequency, sheet.period_start)},
            detail=_("Submitted on %(when)s.") % {"when": timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M")} if sheet.submitted_at else "",
            url=sheet_url(sheet.department, sheet.frequency, sheet.period_start), department=sheet.department, obj=sheet,
        ))
    return InboxSection("to_review", _("Sheets to review"), items)


def _reopen_requests_section(*, user, plan, today) -> InboxSection:
    items = []
    for request in reopen_queue(plan=plan):
        sheet = request.sheet
        if not permissions.can_review_department(user, sheet.department):
            continue
        items.append(InboxItem(
            title=_("%(department)s asks to reopen the %(period)s") % {"department": _name(sheet.department), "period": period_words(sheet.frequency, sheet.period_start)},
            detail=request.reason, url=sheet_url(sheet.department, sheet.frequency, sheet.period_start), department=sheet.department, obj=request,
        ))
    return InboxSection("reopen_requests", _("Reopen requests to decide"), items)


def _replies_section(*, user, plan, today) -> InboxSection:
    replies = (
        OrderReply.objects.filter(order__plan=plan, order__closed_on__isnull=True, verdict=ReopenStatus.PENDING)
        .select_related("order__department", "order__indicator", "order__milestone").order_by("replied_at")
    )
    items = [
        InboxItem(title=_order_title(reply.order), detail=reply.measures, deadline=reply.expected_date,
                  url=_order_url(reply.order), department=reply.order.department, obj=reply)
        for reply in replies
    ]
    return InboxSection("replies_to_verify", _("Order replies to verify"), items)


def _orders_overdue_section(*, user, plan, today) -> InboxSection:
    orders = (
        SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True, status__in=ORDERS_AWAITING_UNIT, deadline__lt=today)
        .select_related("department", "indicator", "milestone").order_by("deadline", "pk")
    )
    items = [InboxItem(title=_order_title(o), detail=o.reason, deadline=o.deadline, overdue=True, url=_order_url(o), department=o.department, obj=o)
             for o in orders]
    return InboxSection("orders_overdue", _("Orders past their deadline"), items)


def leader_names(user) -> list[str]:
    """The names a leader may be written under in the plan's 牵头领导 (a name, then an optional title in
    brackets: 陈立新（党工委委员、管委会副主任）): the account's full name, with and without a space."""
    names = {user.get_full_name().strip(), f"{user.last_name}{user.first_name}".strip(), f"{user.first_name}{user.last_name}".strip()}
    return sorted(n for n in names if n)


def _led_by(names: list[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for name in names:
        q |= Q(**{prefix: name}) | Q(**{f"{prefix}__startswith": f"{name}（"}) | Q(**{f"{prefix}__startswith": f"{name}("})
    return q


def led_orders(*, user, plan: Plan) -> list[SupervisionOrder]:
    """Open orders on the actions and tasks the leader leads (by name: Action/Task.lead_leader)."""
    names = leader_names(user)
    if not names:
        return []
    led = Q(pk__in=[])
    for path in ("indicator__task", "milestone__task"):
        led |= _led_by(names, f"{path}__lead_leader") | _led_by(names, f"{path}__action__lead_leader")
    return list(SupervisionOrder.objects.filter(led, plan=plan, closed_on__isnull=True).select_related("department", "indicator", "milestone").order_by("deadline", "pk"))


def _led_orders_section(*, user, plan, today) -> InboxSection:
    items = [InboxItem(title=_order_title(o), detail=o.reason, deadline=o.deadline, overdue=o.deadline < today and o.status in ORDERS_AWAITING_UNIT,
                       url=_order_url(o), department=o.department, obj=o)
             for o in led_orders(user=user, plan=plan)]
    return InboxSection("led_orders", _("Open orders on what you lead"), items)


def _task_url(task) -> str:
    return reverse("metrics:task_closeoff", args=[task.pk])


def _closeoff_decisions_section(*, user, plan, today) -> InboxSection:
    """Decisions of the last days on the 销号 and 延期 requests of the tasks the user's units lead."""
    since = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=DECISIONS_SHOWN_DAYS), datetime.time.min))
    items = []
    for department in member_departments(user):
        requests = requests_of(department)
        for request in requests.closeoffs.filter(task__action__plan=plan, decided_at__gte=since):
            words = {"task": request.task.title}
            title = (_("销号 of “%(task)s” accepted: the task is closed off") if request.status == CloseOffStatus.ACCEPTED
                     else _("销号 of “%(task)s” sent back")) % words
            items.append(InboxItem(title=title, detail=request.decision_note, url=_task_url(request.task), department=department, obj=request))
        for request in requests.extensions.filter(task__action__plan=plan, decided_at__gte=since):
            words = {"task": request.task.title, "day": request.new_deadline.isoformat()}
            title = (_("Extension of “%(task)s” to %(day)s granted") if request.status == ExtensionStatus.GRANTED
                     else _("Extension of “%(task)s” to %(day)s refused")) % words
            items.append(InboxItem(title=title, detail=request.decision_note, url=_task_url(request.task), department=department, obj=request))
    return InboxSection("closeoff_decisions", _("Decisions on your 销号 and extension requests"), items)


def _closeoff_requests_section(*, user, plan, today) -> InboxSection:
    """销号 proposals and 延期 requests the office has to decide (not of units the user is staff of)."""
    items = []
    for request in pending_closeoffs(plan):
        if permissions.can_decide_for_task(user, request.task):
            items.append(InboxItem(title=_("%(department)s proposes 销号 of “%(task)s”") % {
                "department": _name(request.task.lead_department), "task": request.task.title},
                detail=request.note, url=_task_url(request.task), department=request.task.lead_department, obj=request))
    for request in pending_extensions(plan):
        if permissions.can_decide_for_task(user, request.task):
            items.append(InboxItem(title=_("%(department)s asks to extend “%(task)s” to %(day)s") % {
                "department": _name(request.task.lead_department), "task": request.task.title, "day": request.new_deadline.isoformat()},
                detail=request.reason, url=_task_url(request.task), department=request.task.lead_department, obj=request))
    return InboxSection("closeoff_requests", _("销号 and extension requests to decide"), items)


SectionBuilder = Callable[..., InboxSection]

STAFF_SECTIONS: list[SectionBuilder] = [
    _sheets_due_section, _returned_sheets_section, _open_orders_section, _reopen_decisions_section, _closeoff_decisions_section,
]
OFFICE_SECTIONS: list[SectionBuilder] = [
    _to_review_section, _reopen_requests_section, _replies_section, _orders_overdue_section, _closeoff_requests_section,
]
LEADER_SECTIONS: list[SectionBuilder] = [_led_orders_section]

# The hook for sections defined elsewhere, e.g. 销号 (close-off) and 延期 (extension) requests to decide and
# the decisions on a unit's own: each is `(role, builder)`, role a planboard.roles.Role, builder called as
# `builder(user=..., plan=..., today=...)` returning an InboxSection; appended after that role's own sections.
EXTRA_SECTIONS: list[tuple[roles.Role, SectionBuilder]] = []

def inbox_items(*, user, today: datetime.date) -> Inbox:
    """The person's 我的待办 today: the page and the digest both print this."""
    plan = plan_current(today=today)
    sections: list[InboxSection] = []
    if plan is not None:
        for role, builders in ((roles.Role.STAFF, STAFF_SECTIONS), (roles.Role.SUPERVISOR, OFFICE_SECTIONS), (roles.Role.LEADER, LEADER_SECTIONS)):
            if not roles.has_role(user, role):
                continue
            for builder in [*builders, *(b for r, b in EXTRA_SECTIONS if r == role)]:
                sections.append(builder(user=user, plan=plan, today=today))
    return Inbox(user=user, today=today, plan=plan, sections=sections)
