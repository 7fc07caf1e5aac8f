"""The supervision ladder (督办单): the rules that issue, escalate, step down and close orders after a roll-up.

Run after every full roll-up of a week (the roll-up's `week_rolled_up` signal, connected in
metrics.apps) and by `manage.py issue_orders`. The rules read only the stored roll-up of the week (the
same rows every page shows), so an order's reason says exactly what the pages say.

For each subject the rules find a level, or that the subject is clear, or nothing new (`HOLD`):

* Indicator (amounts, counts, rates; milestones are their own subjects), answered by the task's lead unit:
  red light for `order_red_weeks` weeks running → red; red light, or a pace alert (the pace needed
  exceeds the plan's multiple of the recent pace) → yellow; yellow light → yellow while an order is open
  (it steps down from red, it does not open one); green → clear. 未报, no light, or no value (the roll-up
  names a reason: no period closed yet, no figures…) → HOLD: missing reports are chased as missing
  reports, and no number is no evidence of recovery.
* Milestone, answered by the task's lead unit: due and not done → red; due within `order_due_soon_days`
  → blue; done (or no longer due soon) → clear.
* Missing reports, answered by the unit: reports of the week's period missing → blue; all in → clear.
* Any open order whose reply deadline (办理时限) has passed without a reply climbs one level (blue →
  yellow → red) and gets a new deadline.

One open order per subject (`subject_key`): a finding above its level escalates it (a new reply is due);
it steps down only when the numbers call for less than they did the run before (a level reached because
no reply came stays until they do); a clear subject closes it. A reply alone never closes an order, and
an order the office issued by hand is closed by the office only. Tasks closed off
(已销号) leave the ladder: their orders close. `interview_red_orders` orders that reached red within
`interview_window_days` open a 约谈 for the unit (one open at a time).

Orders move forward in time only: a roll-up of a week before the last one judged (a late edit to an old
week) changes nothing; the same week judged again (the hourly run) changes only what changed.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from actions.choices import IndicatorKind, TaskStatus
from actions.models import Milestone, Plan
from metrics.choices import ORDER_LEVELS, Light, OrderEventKind, OrderLevel, OrderStatus, OrderSubject
from metrics.models import IndicatorProgress, Interview, OrderEvent, OrderRun, SupervisionOrder
from metrics.rollup.engine import Week, rescore_week
from metrics.supervision.selectors import missing_reports
from planboard import clock
from planboard.formatting import Measure, pace, pct, progress, signed_pct
from planboard.periods import Frequency

logger = logging.getLogger(__name__)

# Sent once per run, inside its transaction, with the orders issued at red or climbed to red (`orders`): the
# notifications send their immediate messages. A receiver defers what leaves the database (e-mail, webhooks)
# to transaction.on_commit, so that a rolled-back run tells nobody.
order_turned_red = Signal()

HOLD = "hold"
UNANSWERED = (OrderStatus.AWAITING_REPLY, OrderStatus.RETURNED)


@dataclass(frozen=True)
class Finding:
    """What the rules find for one subject at the week: a level (None: clear; HOLD: nothing new) and why."""

    key: str
    kind: str
    department_id: int
    level: str | None
    reason: str
    indicator_id: int | None = None
    milestone_id: int | None = None


def rank(level: str) -> int:
    return ORDER_LEVELS.index(level)


def higher(level: str) -> str:
    return ORDER_LEVELS[min(rank(level) + 1, len(ORDER_LEVELS) - 1)]


# ---------------------------------------------------------------------------------------------------
# The reasons, in words, from the stored roll-up.


def indicator_reason(row: IndicatorProgress, *, red_weeks: int = 0) -> str:
    """Why an indicator is on the ladder: how far behind, and for amounts what the recent pace leads to."""
    indicator = row.indicator
    measure = indicator.measure
    if measure == Measure.AMOUNT and row.gap_pp is not None:
        if row.gap_pp < 0:
            parts = [_("behind schedule by %(gap)s points") % {"gap": pct(-row.gap_pp)}]
        else:
            parts = [_("on schedule (%(gap)s points)") % {"gap": signed_pct(row.gap_pp)}]
        if row.forecast_checkpoint is not None and row.target and not row.checkpoint_passed:
            parts.append(
                _("at the last four periods' pace %(pct)s%% done by %(day)s") % {
                    "pct": pct(row.forecast_checkpoint / float(row.target) * 100), "day": indicator.task.action.plan.checkpoint.strftime("%m-%d"),
                }
            )
        need = row.required_pace_half if not row.checkpoint_passed else row.required_pace_year
        if need:
            per = _("a week") if indicator.frequency == Frequency.WEEKLY else _("a month")
            parts.append(_("needs %(need)s %(unit)s %(per)s") % {"need": pace(need), "unit": indicator.unit, "per": per})
    else:
        parts = [progress(measure, row)]
    if row.pace_alert and row.recent_pace is not None:
        parts.append(_("recent pace %(pace)s") % {"pace": pace(row.recent_pace)})
    if red_weeks:
        parts.append(_("red for %(n)s weeks running") % {"n": red_weeks})
    return "；".join(parts)


def milestone_reason(milestone: Milestone, as_of: datetime.date) -> str:
    if milestone.planned_date <= as_of:
        return _("milestone “%(title)s” was due on %(day)s and is %(days)s days overdue") % {
            "title": milestone.title, "day": milestone.planned_date.isoformat(), "days": (as_of - milestone.planned_date).days,
        }
    return _("milestone “%(title)s” falls due on %(day)s, in %(days)s days") % {
        "title": milestone.title, "day": milestone.planned_date.isoformat(), "days": (milestone.planned_date - as_of).days,
    }


def missing_reason(*, due: int, entered: int, week: datetime.date) -> str:
    return _("%(missing)s of %(due)s reports due for the week of %(week)s are missing") % {
        "missing": due - entered, "due": due, "week": week.isoformat(),
    }


def order_subject(order) -> str:
    """What an order is about, in words (the same on the list, the detail and in messages)."""
    if order.indicator_id:
        return str(_("Indicator: %(name)s") % {"name": order.indicator.name})
    if order.milestone_id:
        return str(_("Milestone: %(name)s") % {"name": order.milestone.title})
    return str(_("Missing reports: %(unit)s") % {"unit": order.department.short_name or order.department.name})



# ---------------------------------------------------------------------------------------------------
# The findings.


def _red_runs(plan: Plan, week: datetime.date, weeks: int) -> set[int]:
    """The indicators red in each of the `weeks` stored weeks up to `week`."""
    first = week - datetime.timedelta(days=7 * (weeks - 1))
    red_now = IndicatorProgress.objects.filter(plan=plan, week=week, light=Light.RED).values("indicator_id")
    return set(
        IndicatorProgress.objects.filter(plan=plan, week__gte=first, week__lte=week, light=Light.RED, indicator_id__in=red_now)
        .values("indicator_id").annotate(n=Count("week")).filter(n__gte=weeks).values_list("indicator_id", flat=True)
    )


def indicator_findings(plan: Plan, week: datetime.date, open_keys: set[str]) -> list[Finding]:
    # Only the rows that can open or move an order: red lights, pace alerts, and the subjects of open orders
    # (a plan of thousands of indicators is mostly on schedule; the others are not read at all).
    open_ids = [int(k.split(":")[1]) for k in open_keys if k.startswith("indicator:")]
    rows = (
        IndicatorProgress.objects.filter(plan=plan, week=week)
        .filter(Q(light=Light.RED) | Q(pace_alert=True) | Q(indicator_id__in=open_ids))
        .exclude(indicator__kind=IndicatorKind.MILESTONE)
        .exclude(indicator__task__status=TaskStatus.CLOSED)
        .select_related("indicator__task__action__plan", "indicator__task__lead_department")
    )
    red_run = _red_runs(plan, week, plan.order_red_weeks)
    findings = []
    for row in rows:
        key = f"indicator:{row.indicator_id}"
        if row.reason:
            # No value (no period closed yet, no target, no figures…): nothing to judge, no evidence of recovery.
            level, reason = HOLD, ""
        elif row.light == Light.RED:
            running = row.indicator_id in red_run
            level = OrderLevel.RED if running else OrderLevel.YELLOW
            reason = indicator_reason(row, red_weeks=plan.order_red_weeks if running else 0)
        elif row.pace_alert:
            level, reason = OrderLevel.YELLOW, indicator_reason(row)
        elif row.light == Light.YELLOW:
            level = OrderLevel.YELLOW if key in open_keys else None
            reason = indicator_reason(row)
        elif row.light == Light.GREEN:
            level, reason = None, _("on schedule again: %(progress)s") % {"progress": progress(row.indicator.measure, row)}
        else:
            level, reason = HOLD, ""
        if level is None and key not in open_keys:
            continue
        findings.append(Finding(key, OrderSubject.INDICATOR, row.indicator.task.lead_department_id, level, reason,
                                indicator_id=row.indicator_id))
    return findings


def milestone_findings(plan: Plan, as_of: datetime.date, open_keys: set[str]) -> list[Finding]:
    soon = as_of + datetime.timedelta(days=plan.order_due_soon_days)
    milestones = (
        Milestone.objects.filter(task__action__plan=plan).exclude(task__status=TaskStatus.CLOSED)
        .filter(Q(planned_date__lte=soon) | Q(pk__in=[int(k.split(":")[1]) for k in open_keys if k.startswith("milestone:")]))
        .select_related("task")
    )
    findings = []
    for milestone in milestones:
        key = f"milestone:{milestone.pk}"
        done = milestone.done_date is not None and milestone.done_date <= as_of
        if done:
            level, reason = None, _("milestone “%(title)s” done on %(day)s") % {"title": milestone.title, "day": milestone.done_date.isoformat()}
        elif milestone.planned_date <= as_of:
            level, reason = OrderLevel.RED, milestone_reason(milestone, as_of)
        elif milestone.planned_date <= soon:
            level, reason = OrderLevel.BLUE, milestone_reason(milestone, as_of)
        else:
            level, reason = None, _("milestone “%(title)s” now falls due on %(day)s") % {"title": milestone.title, "day": milestone.planned_date.isoformat()}
        if level is None and key not in open_keys:
            continue
        findings.append(Finding(key, OrderSubject.MILESTONE, milestone.task.lead_department_id, level, reason, milestone_id=milestone.pk))
    return findings


def missing_findings(plan: Plan, week: datetime.date, open_keys: set[str]) -> list[Finding]:
    missing = {row["department_id"]: row for row in missing_reports(plan=plan, week=week)}
    findings = [
        Finding(f"missing:{department_id}", OrderSubject.MISSING_REPORT, department_id, OrderLevel.BLUE,
                missing_reason(due=row["due"], entered=row["entered"], week=week))
        for department_id, row in missing.items()
    ]
    for key in open_keys:
        if key.startswith("missing:") and int(key.split(":")[1]) not in missing:
            findings.append(Finding(key, OrderSubject.MISSING_REPORT, int(key.split(":")[1]), None,
                                    _("every report due for the week of %(week)s is in") % {"week": week.isoformat()}))
    return findings


# ---------------------------------------------------------------------------------------------------
# The steps.


@dataclass
class Outcome:
    issued: int = 0
    escalated: int = 0
    stepped_down: int = 0
    closed: int = 0
    interviews: int = 0
    skipped: bool = False
    red: list = field(default_factory=list)  # the orders that turned red in this run
    new: list = field(default_factory=list)  # orders issued, not yet written
    followed: list = field(default_factory=list)  # open orders whose reason follows the roll-up, not yet written

    @property
    def changed(self) -> int:
        return self.issued + self.escalated + self.stepped_down + self.closed + self.interviews


def order_step(order: SupervisionOrder, kind: str, *, day: datetime.date, week: datetime.date | None, text: str, by=None, reply=None) -> OrderEvent:
    """Record a step of an order's history, with the level and status it has after the step (rules and hands alike)."""
    return OrderEvent.objects.create(
        order=order, kind=kind, level=order.level, status=order.status, day=day, week=week, text=text, by=by, reply=reply
    )




def _apply(plan: Plan, week: Week, finding: Finding, order: SupervisionOrder | None, outcome: Outcome) -> None:
    as_of = week.as_of
    deadline = as_of + datetime.timedelta(days=plan.order_reply_days)
    overdue = order is not None and order.status in UNANSWERED and order.deadline < as_of
    if finding.level is None and order is not None and order.issued_by_id is not None:
        # Issued by the office's hand, for a reason the numbers may not show: only the office closes it.
        finding = Finding(finding.key, finding.kind, finding.department_id, HOLD, "")
    if finding.level is None:
        if order is not None:
            order.status, order.closed_on, order.close_reason = OrderStatus.CLOSED, as_of, finding.reason
            order.week = week.start
            order.save()
            order_step(order, OrderEventKind.CLOSED, day=as_of, week=week.start, text=finding.reason)
            outcome.closed += 1
        return
    if order is None:
        if finding.level == HOLD:
            return
        # Written in one statement with the others after the loop (a plan's first run issues hundreds).
        outcome.new.append(SupervisionOrder(
            plan=plan, subject_kind=finding.kind, subject_key=finding.key, indicator_id=finding.indicator_id,
            milestone_id=finding.milestone_id, department_id=finding.department_id, level=finding.level, found_level=finding.level,
            reason=finding.reason, week=week.start, issued_on=as_of, deadline=deadline,
        ))
        outcome.issued += 1
        return
    found = order.found_level if finding.level == HOLD else finding.level
    reason = finding.reason or order.reason  # the subject's state; the step's own words go to its event
    # Up to what the numbers call for; down only when they call for less than last time (they recovered):
    # a level reached because no reply came stays until the numbers improve.
    level = max(order.level, found, key=rank) if rank(found) >= rank(order.found_level) else found
    why = reason
    if overdue and rank(higher(order.level)) > rank(level):
        level = higher(order.level)
        why = _("no reply by the deadline %(day)s") % {"day": order.deadline.isoformat()} + "；" + reason
    changed = order.found_level != found or order.reason != reason or order.week != week.start
    order.found_level, order.reason, order.week = found, reason, week.start
    if rank(level) > rank(order.level):
        order.level, order.status, order.deadline = level, OrderStatus.AWAITING_REPLY, deadline
        order.save()
        order_step(order, OrderEventKind.ESCALATED, day=as_of, week=week.start, text=why)
        outcome.escalated += 1
        if level == OrderLevel.RED:
            outcome.red.append(order)
    elif rank(level) < rank(order.level):
        order.level = level
        order.save()
        order_step(order, OrderEventKind.STEPPED_DOWN, day=as_of, week=week.start, text=reason)
        outcome.stepped_down += 1
    elif changed:
        # Same level: the reason follows the latest roll-up (not a step of its own); written after the loop.
        outcome.followed.append(order)


def _write_batched(week: Week, outcome: Outcome) -> None:
    """The orders issued and the reasons that followed the roll-up, in a few statements."""
    if outcome.new:
        created = SupervisionOrder.objects.bulk_create(outcome.new)
        if any(order.pk is None for order in created):  # a backend that cannot return the new ids
            keys = [order.subject_key for order in created]
            created = list(SupervisionOrder.objects.filter(plan=week.plan, subject_key__in=keys, closed_on__isnull=True))
        OrderEvent.objects.bulk_create([
            OrderEvent(order=order, kind=OrderEventKind.ISSUED, level=order.level, status=order.status, day=week.as_of,
                       week=week.start, text=order.reason)
            for order in created
        ])
        outcome.red.extend(order for order in created if order.level == OrderLevel.RED)
        outcome.new = []
    if outcome.followed:
        now = timezone.now()
        for order in outcome.followed:
            order.updated = now
        SupervisionOrder.objects.bulk_update(outcome.followed, ["found_level", "reason", "week", "updated"], batch_size=500)
        outcome.followed = []


def _close_closed_off(plan: Plan, week: Week, outcome: Outcome) -> None:
    """Orders on tasks closed off (已销号) leave the ladder."""
    closed_off = SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True).filter(
        Q(indicator__task__status=TaskStatus.CLOSED) | Q(milestone__task__status=TaskStatus.CLOSED)
    )
    for order in closed_off:
        _apply(plan, week, Finding(order.subject_key, order.subject_kind, order.department_id, None, _("the task was closed off (已销号)")), order, outcome)


def _interviews(plan: Plan, as_of: datetime.date, outcome: Outcome) -> None:
    """Open a 约谈 for each unit with the plan's number of orders that reached red within its window."""
    since = as_of - datetime.timedelta(days=plan.interview_window_days)
    reds = defaultdict(set)
    for order_id, department_id in (
        OrderEvent.objects.filter(order__plan=plan, level=OrderLevel.RED, kind__in=[OrderEventKind.ISSUED, OrderEventKind.ESCALATED],
                                  day__gt=since, day__lte=as_of)
        .values_list("order_id", "order__department_id")
    ):
        reds[department_id].add(order_id)
    open_units = set(Interview.objects.filter(plan=plan, closed_on__isnull=True).values_list("department_id", flat=True))
    for department_id, order_ids in sorted(reds.items()):
        if len(order_ids) < plan.interview_red_orders or department_id in open_units:
            continue
        interview = Interview.objects.create(
            plan=plan, department_id=department_id, opened_on=as_of,
            reason=_("%(n)s red orders within %(days)s days (from %(first)s to %(last)s)") % {
                "n": len(order_ids), "days": plan.interview_window_days, "first": (since + datetime.timedelta(days=1)).isoformat(),
                "last": as_of.isoformat(),
            },
        )
        interview.orders.set(sorted(order_ids))
        outcome.interviews += 1


@transaction.atomic
def issue_orders(week: Week) -> Outcome:
    """Judge every subject of the plan at the stored roll-up of `week` and move the orders (see the module)."""
    plan = week.plan
    run = OrderRun.objects.select_for_update().filter(plan=plan).first()
    if run is not None and (week.start, week.as_of) < (run.week, run.as_of):
        return Outcome(skipped=True)
    outcome = Outcome()
    orders = {o.subject_key: o for o in SupervisionOrder.objects.select_for_update().filter(plan=plan, closed_on__isnull=True)}
    open_keys = set(orders)
    findings = [
        *indicator_findings(plan, week.start, open_keys),
        *milestone_findings(plan, week.as_of, open_keys),
        *missing_findings(plan, week.start, open_keys),
    ]
    seen = set()
    for finding in findings:
        seen.add(finding.key)
        _apply(plan, week, finding, orders.get(finding.key), outcome)
    for key, order in orders.items():
        if key not in seen and order.status in UNANSWERED and order.deadline < week.as_of:
            # Nothing new about the subject this week, but the reply is late: it climbs all the same.
            _apply(plan, week, Finding(key, order.subject_kind, order.department_id, HOLD, ""), order, outcome)
    _write_batched(week, outcome)
    _close_closed_off(plan, week, outcome)
    _interviews(plan, week.as_of, outcome)
    OrderRun.objects.update_or_create(plan=plan, defaults={"week": week.start, "as_of": week.as_of, "at": clock.now()})
    if outcome.changed:
        rescore_week(week)  # the ranking's deductions read the orders as they now stand
    if outcome.red:
        order_turned_red.send(sender=SupervisionOrder, orders=outcome.red)
    logger.info("Orders of plan %s as of %s: %d issued, %d escalated, %d stepped down, %d closed, %d interviews opened",
                plan.pk, week.as_of, outcome.issued, outcome.escalated, outcome.stepped_down, outcome.closed, outcome.interviews)
    return outcome


@transaction.atomic
def orders_close_for_tasks(*, plan: Plan, task_ids: list[int]) -> int:
    """Close the open orders on tasks just closed off (已销号), on the day, without waiting for a roll-up."""
    today = clock.today()
    outcome = Outcome()
    open_orders = SupervisionOrder.objects.select_for_update(of=("self",)).filter(plan=plan, closed_on__isnull=True).filter(
        Q(indicator__task_id__in=task_ids) | Q(milestone__task_id__in=task_ids)
    )
    week = Week.of(plan, today, today)
    for order in open_orders:
        _apply(plan, week, Finding(order.subject_key, order.subject_kind, order.department_id, None, _("the task was closed off (已销号)")),
               order, outcome)
    if outcome.closed:
        rescore_week(week)
    return outcome.closed


def on_tasks_closed_off(sender, plan: Plan, task_ids: list[int], **kwargs) -> None:
    orders_close_for_tasks(plan=plan, task_ids=task_ids)


def on_week_rolled_up(sender, week: Week, **kwargs) -> None:
    """Each full roll-up of a week runs the ladder (connected in metrics.apps)."""
    issue_orders(week)
