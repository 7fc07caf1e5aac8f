"""Who may see, fill and review report sheets and a department's own records: the one place views and services ask.

Visibility (比武打擂 is public inside the district): every signed-in user sees the roll-ups (plan, action,
task, indicator and per-department progress numbers, lights, scores and rankings). A department's own records,
its raw figures, its progress notes (进展情况, 存在问题, 下步计划) and its evidence files, are seen only by its
staff, the supervision office and leaders (`can_view`; `visible_departments` restricts a list).

| | staff of the department | staff of another department | supervisor | leader | anonymous |
|---|---|---|---|---|---|
| see the sheet | yes | no (403) | yes, read-only | yes, read-only | login page |
| save / submit | yes, while open (not submitted, approved or locked) | no | no | no | no |
| approve / return / reopen | no | no | yes, except its own department's | no | no |
| propose a task's 销号, ask its 延期 | lead unit's staff only | no | no | no | no |
| verify 销号, decide 延期 | no | no | yes, except for tasks its own department leads | no | no |

Supervision orders (督办单) and 约谈: every signed-in user may read them (they are the public side of
比武打擂); only staff of the order's unit reply; only the supervision office issues by hand, verifies replies,
closes orders by hand and schedules or closes 约谈, and never for a unit it is staff of (`can_answer_order`,
`can_judge_order`).

Segregation of duties: an account that is both staff of a department and in the supervision office may not
approve or return that department's sheets, nor decide its reopen requests (`can_review_department`), nor
verify or decide the 销号 and 延期 requests of the tasks that department leads (`require_task_decision`).

Anonymous visitors never get here: LoginRequiredMiddleware sends them to the login page.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from actions.models import Department
from metrics.choices import SheetStatus
from planboard import roles
from planboard.periods import due_at, in_plan_year, period_start, year_last, year_start


def _member_of(user) -> set[int]:
    """The ids of the departments the user is staff of (none unless in the staff role); cached on the user."""
    if not user.is_authenticated or not roles.is_staff_member(user):
        return set()
    if not hasattr(user, "_planboard_departments"):
        user._planboard_departments = set(user.departments.values_list("pk", flat=True))
    return user._planboard_departments


def is_member(user, department: Department) -> bool:
    """Staff of the department: in the staff role and a member of it."""
    return department.pk in _member_of(user)


def can_view(user, department: Department) -> bool:
    return is_member(user, department) or roles.is_supervisor(user) or roles.is_leader(user)


def visible_departments(user) -> set[int] | None:
    """The departments whose own records (figures, notes, evidence) the user may see: None means every one."""
    if roles.is_supervisor(user) or roles.is_leader(user):
        return None
    return set(_member_of(user))


def can_edit(user, department: Department) -> bool:
    """May fill this department's sheets (whether a given period is open is `lock_reason`'s business)."""
    return is_member(user, department)


def can_review(user) -> bool:
    """In the supervision office: may see the review queue and review sheets of departments it is not staff of."""
    return roles.is_supervisor(user)


def can_read_deliveries(user) -> bool:
    """May read the delivery log (who was told what, when, through which channel): the supervision office."""
    return roles.is_supervisor(user)


def can_review_department(user, department: Department) -> bool:
    """May approve, return or reopen this department's sheets: a supervisor who is not its own staff.

    Segregation of duties: an account in both the staff and the supervisor groups never judges its own
    department's figures, nor grants its own department's reopen requests.
    """
    return can_review(user) and not is_member(user, department)


def require_review(user, department: Department) -> None:
    """Raise PermissionDenied unless the user may review the department's sheets, saying why."""
    require(can_review(user))
    require(
        can_review_department(user, department),
        _("You are staff of %(department)s: another member of the supervision office must review its sheets and reopen requests.")
        % {"department": department.short_name or department.name},
    )


def can_request_for_task(user, task) -> bool:
    """May propose the task's 销号 or ask to extend its deadline: staff of its lead unit (牵头单位)."""
    return is_member(user, task.lead_department)


def require_task_request(user, task) -> None:
    """Raise PermissionDenied unless the user is staff of the task's lead unit, saying why."""
    require(
        can_request_for_task(user, task),
        _("Only the staff of %(department)s, the task's lead unit, may propose it closed off or ask to extend it.")
        % {"department": task.lead_department.short_name or task.lead_department.name},
    )


def can_decide_for_task(user, task) -> bool:
    """May verify the task's 销号 or decide its 延期: a supervisor who is not staff of its lead unit."""
    return can_review_department(user, task.lead_department)


def require_task_decision(user, task) -> None:
    """Raise PermissionDenied unless the user may decide the task's requests, saying why."""
    require(can_review(user), _("Only the supervision office may verify a close-off or decide an extension."))
    require(
        can_decide_for_task(user, task),
        _("You are staff of %(department)s, the task's lead unit: another member of the supervision office must decide its requests.")
        % {"department": task.lead_department.short_name or task.lead_department.name},
    )


def require(allowed: bool, message: str | None = None) -> None:
    """Raise PermissionDenied (403, with the reason on the page) unless allowed."""
    if not allowed:
        raise PermissionDenied(message or _("You may not do this."))


@dataclass(frozen=True)
class Lock:
    """Why a sheet cannot be changed, said in plain words for the page."""

    code: str
    message: str


def lock_date(plan, frequency: str, start: datetime.date) -> datetime.date:
    """The last day a period may still be changed without a reopen request."""
    return due_at(plan, start, frequency).date() + datetime.timedelta(days=plan.lock_after_days)


def outside_plan(*, plan, frequency: str, day: datetime.date) -> str | None:
    """Why a period cannot be named at all (it is not one of the plan year's), or None when it is."""
    if in_plan_year(day, frequency, plan.year):
        return None
    return _("%(day)s is outside the %(year)s plan: choose a period from %(first)s to %(last)s.") % {
        "day": day.isoformat(), "year": plan.year, "first": year_start(plan.year, frequency), "last": year_last(plan.year, frequency),
    }
def open_until(plan, frequency: str, start: datetime.date, sheet) -> datetime.date:
    """The last day staff may change a period's sheet: its lock date, or later while it is reopened."""
    last = lock_date(plan, frequency, start)
    if sheet is not None and sheet.reopened_until:
        return max(last, sheet.reopened_until)
    return last


# Locks a staff member may ask the supervision office to lift (a sheet waiting for review is theirs to return).
REOPENABLE = ("approved", "closed")


def lock_reason(*, plan, frequency: str, start: datetime.date, sheet, today: datetime.date) -> Lock | None:
    """Why the period's sheet is closed to changes today, or None when staff may change it."""
    if outside := outside_plan(plan=plan, frequency=frequency, day=start):
        return Lock("outside", outside)
    if start > period_start(today, frequency):
        return Lock("future", _("This period has not started yet: figures can be entered from %(day)s.") % {"day": start})
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        # Locked while it waits: a save meanwhile would change figures under the reviewer's eyes.
        return Lock(
            "submitted",
            _("Submitted on %(day)s and waiting for the supervision office's review: it cannot be changed until it is approved or returned.")
            % {"day": timezone.localtime(sheet.submitted_at).strftime("%Y-%m-%d %H:%M") if sheet.submitted_at else "—"},
        )
    if sheet is not None and sheet.status == SheetStatus.APPROVED:
        return Lock(
            "approved",
            _("Locked: the supervision office approved this sheet on %(day)s. Ask to reopen it if a figure is wrong.")
            % {"day": timezone.localdate(sheet.reviewed_at) if sheet.reviewed_at else "—"},
        )
    if sheet is not None and sheet.reopened_until and today <= sheet.reopened_until:
        return None
    last = lock_date(plan, frequency, start)
    if today > last:
        return Lock(
            "closed",
            _("Locked: this period closed on %(day)s (%(days)s days after the report was due). Ask to reopen it if a figure is wrong.")
            % {"day": last, "days": plan.lock_after_days},
        )
    return None


def can_answer_order(user, order) -> bool:
    """May reply to a supervision order: staff of the unit it is addressed to, while it is open."""
    return order.is_open and is_member(user, order.department)


def can_judge_order(user, order) -> bool:
    """May verify replies to an order, close it by hand, or move its unit's 约谈: the office, not the unit's own staff."""
    return can_review_department(user, order.department)


def can_issue_orders(user) -> bool:
    """May issue an order by hand (the rules issue the others): the supervision office."""
    return can_review(user)
