"""Celery tasks: thin interfaces that take ids and ISO dates and call a service; `rollup_request`, the one
way other code queues a roll-up; and the notifications' tasks (digest, deadline reminders, a returned sheet,
a 催办's delivery), idempotent by their delivery log.

Every task is idempotent (roll-ups are upserts), so it is safe to run twice: it is acknowledged only once it
has finished, re-queued if its worker dies, retried on a fixed schedule while the database is unreachable, and
when it fails for good (a non-transient error, or the retries are spent) it marks the plan stale, which the
sweep catches up within minutes.
"""

import datetime
import inspect
import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from actions.models import Plan
from metrics.models import Reminder, Sheet, SupervisionOrder
from metrics.notifications.services import (
    deadline_reminders_send,
    digests_send,
    notify_red_order,
    reminder_deliver,
    sheet_returned_notify,
)
from metrics.rollup.services import (
    rollup_plan_catch_up,
    rollup_plan_week,
    rollup_plan_weeks,
    rollup_repair,
    rollup_stale_plans,
    rollup_touched,
    stale_mark,
)
from planboard.clock import today

logger = logging.getLogger(__name__)

# Seconds to wait before each retry: about 15 minutes in all, enough to ride out a database restart or a
# failover. No jitter: a zero-second retry is a retry wasted. The longest wait stays within the broker's
# visibility timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS), or Redis would hand the task out twice.
RETRY_COUNTDOWNS = (5, 10, 20, 40, 80, 160, 300, 300)

# SQLSTATEs that come as OperationalError but will fail again the same way: a statement timeout
# (query_canceled, 57014) means the query is too slow, not that the database is away.
NON_TRANSIENT_SQLSTATES = {"57014"}


def is_transient(exc: BaseException) -> bool:
    """Whether the error is worth retrying: the database connection failed, not the work."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    return getattr(exc.__cause__, "pgcode", None) not in NON_TRANSIENT_SQLSTATES


def _stale_scope(task: Task, args, kwargs) -> tuple[int | None, datetime.date | None]:
    """The plan and earliest week a roll-up task was about, read from its arguments by name
    (plan_id; period_starts, first or as_of). Tasks without a plan are about the current year's plan.
    """
    try:
        arguments = inspect.signature(task.run).bind(*args, **kwargs).arguments
    except TypeError:
        return None, None
    plan_id = arguments.get("plan_id")
    if plan_id is None:
        plan_id = Plan.objects.filter(year=today().year).values_list("pk", flat=True).first()
    days = arguments.get("period_starts") or [arguments.get("first") or arguments.get("as_of")]
    days = [datetime.date.fromisoformat(d) for d in days if d]
    return plan_id, min(days, default=None)


class RollupTask(Task):
    """Base of the roll-up tasks: late acknowledgement, re-queued when the worker is lost, transient
    database errors retried on RETRY_COUNTDOWNS, and any failure for good recorded as a stale mark.
    """

    acks_late = True
    reject_on_worker_lost = True
    max_retries = len(RETRY_COUNTDOWNS)

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if not is_transient(exc) or self.request.retries >= self.max_retries:
                raise
            countdown = RETRY_COUNTDOWNS[self.request.retries]
            logger.warning("%s[%s]: database unavailable, retry %d in %d s: %s", self.name, self.request.id,
                           self.request.retries + 1, countdown, exc)
            raise self.retry(exc=exc, countdown=countdown) from exc

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        reason = f"{self.name.rpartition('.')[2]}: {type(exc).__name__}: {exc}".strip()
        plan_id = None
        try:
            plan_id, earliest = _stale_scope(self, args, kwargs)
            if plan_id is None:
                return
            stale_mark(plan=Plan(pk=plan_id), earliest=earliest, reason=reason)
        except Exception:  # noqa: BLE001 (the database may still be down; the sweep rolls recent saves up again anyway)
            logger.exception("%s[%s] failed and plan %s could not be marked stale", self.name, task_id, plan_id)
        else:
            logger.error("%s[%s] failed for good, plan %s marked stale from %s: %s", self.name, task_id, plan_id, earliest, exc)


def _summary(row) -> dict:
    return {
        "plan": row.plan_id,
        "week": row.week.isoformat(),
        "as_of": row.as_of.isoformat(),
        "figures": row.figure_count,
        "departments_reported": row.departments_reported,
        "departments_expected": row.departments_expected,
    }


@shared_task(base=RollupTask)
def rollup_plan(plan_id: int, as_of: str | None = None) -> dict:
    """Full recompute of one week of a plan (default: this week)."""
    plan = Plan.objects.get(pk=plan_id)
    day = datetime.date.fromisoformat(as_of) if as_of else None
    return _summary(rollup_plan_week(plan=plan, day=day))


@shared_task(base=RollupTask)
def rollup_plan_range(plan_id: int, first: str, last: str) -> int:
    """Full recompute of a range of weeks, in order. Returns how many weeks."""
    plan = Plan.objects.get(pk=plan_id)
    weeks = rollup_plan_weeks(plan=plan, first=datetime.date.fromisoformat(first), last=datetime.date.fromisoformat(last))
    return len(weeks)


@shared_task(base=RollupTask)
def rollup_indicators(plan_id: int, indicator_ids: list[int], period_starts: list[str], department_ids: list[int] | None = None) -> int:
    """Incremental: the indicators (and departments) a save touched, from the earliest period touched on."""
    plan = Plan.objects.get(pk=plan_id)
    return rollup_touched(
        plan=plan,
        indicator_ids=indicator_ids,
        period_starts=[datetime.date.fromisoformat(d) for d in period_starts],
        department_ids=department_ids,
    )


@shared_task(base=RollupTask)
def rollup_current_plan() -> dict | None:
    """The beat entry: the plan of the current year, this week and any week a missed roll-up left stale."""
    plan = Plan.objects.filter(year=today().year).first()
    return _summary(rollup_plan_catch_up(plan=plan)) if plan else None


@shared_task(base=RollupTask)
def close_previous_week() -> dict | None:
    """The beat entry for Monday morning: judge last week on its Sunday, now that it has ended."""
    plan = Plan.objects.filter(year=today().year).first()
    if not plan:
        return None
    return _summary(rollup_plan_week(plan=plan, day=today() - datetime.timedelta(days=7)))


# Not a RollupTask: a check that fails (the database down at night) marks nothing stale, since nothing is known
# to be wrong; acknowledged on receipt, so that a run longer than the broker's visibility timeout is not
# delivered twice (a lost one runs again the next night). A year at a million figures takes about 140 s.
@shared_task(acks_late=False, soft_time_limit=1800, time_limit=1900)
def verify_current_plan() -> dict | None:
    """Nightly: every week of the current plan so far recomputed from the figures and compared with what is
    stored; a week that differs is rolled up again with the weeks after it (and logged as an error)."""
    plan = Plan.objects.filter(year=today().year).first()
    if plan is None:
        return None
    differing = rollup_repair(plan=plan, first=datetime.date(plan.year, 1, 1), last=today())
    return {"plan": plan.pk, "differing": {week.isoformat(): n for week, n in differing.items()}}


@shared_task(base=RollupTask)
def rollup_stale() -> list[int]:
    """The sweep (every few minutes): catch up every plan marked stale, and roll up again the saves old
    enough that their own roll-up should have landed (it may have been lost). Returns the plans caught up.
    """
    return rollup_stale_plans(today=today())


def rollup_request(
    *, plan: Plan, indicator_ids: list[int], period_starts: list[datetime.date], department_ids: list[int] | None = None
) -> bool:
    """Queue the incremental roll-up of what a save touched. Call it from transaction.on_commit.

    A save must not fail once it has committed: if the roll-up cannot be queued for any reason (broker
    down, a broken install of its transport, an eager run that failed), the plan is marked stale instead
    (pages say so) and the sweep catches up from the earliest period touched. Returns whether it was queued.
    """
    try:
        rollup_indicators.delay(
            plan.pk,
            sorted(set(indicator_ids)),
            sorted({d.isoformat() for d in period_starts}),
            sorted(set(department_ids)) if department_ids is not None else None,
        )
    except Exception as exc:  # noqa: BLE001 (whatever the cause, the save stands and the mark records why)
        logger.warning("Roll-up of plan %s not queued, marked stale: %r", plan.pk, exc)
        try:
            stale_mark(plan=plan, earliest=min(period_starts, default=None), reason=f"{type(exc).__name__}: {exc}")
        except Exception:  # noqa: BLE001 (the database went too; the sweep rolls recent saves up again anyway)
            logger.exception("Plan %s could not be marked stale either", plan.pk)
        return False
    return True


# Notifications: idempotent by their delivery log (a message that went through is never sent twice), and
# muted by the current state (each service looks right before sending). Not RollupTasks: a failed message
# is logged in Delivery and tried again on the next run, it marks no plan stale.


@shared_task(acks_late=True)
def send_daily_digests(day: str | None = None) -> int:
    """The beat entry every morning: one 我的待办 digest per person (none for an empty inbox). Returns how many."""
    return len(digests_send(today=datetime.date.fromisoformat(day) if day else today()))


@shared_task(acks_late=True)
def send_deadline_reminders(day: str | None = None) -> int:
    """The beat entry on Thursday and Friday mornings: units whose weekly sheet is not submitted are told."""
    return len(deadline_reminders_send(today=datetime.date.fromisoformat(day) if day else today()))


@shared_task(acks_late=True)
def notify_sheet_returned(sheet_id: int) -> int:
    """The immediate message for a returned sheet (queued by reporting's sheet_returned signal)."""
    sheet = Sheet.objects.filter(pk=sheet_id).first()
    return len(sheet_returned_notify(sheet=sheet)) if sheet else 0


@shared_task(acks_late=True)
def notify_red_orders(order_ids: list[int]) -> int:
    """The immediate message for orders that turned red (queued on commit when the ladder raises them)."""
    return sum(len(notify_red_order(order)) for order in SupervisionOrder.objects.filter(pk__in=order_ids).order_by("pk"))


@shared_task(acks_late=True)
def deliver_reminder(reminder_id: int) -> int:
    """Send a recorded 催办 through the unit's channels (queued on commit by reminder_record)."""
    reminder = Reminder.objects.select_related("department").filter(pk=reminder_id).first()
    return len(reminder_deliver(reminder=reminder)) if reminder else 0


def reminder_delivery_request(reminder: Reminder) -> bool:
    """Queue a 催办's delivery; call it from transaction.on_commit. The record stands if it cannot be
    queued (the log then shows no delivery for it, and the office can remind again). Returns whether queued."""
    try:
        deliver_reminder.delay(reminder.pk)
    except Exception as exc:  # noqa: BLE001 (whatever the cause, the 催办 is recorded; the log says it was not sent)
        logger.warning("Delivery of reminder %s not queued: %r", reminder.pk, exc)
        return False
    return True
