"""Reads of 销号 (close-off) and 延期 (extension): the objective test, the office's queue, a task's record.

`closeoff_check` is the one home of the objective test a task is judged by before it is closed off:
every indicator of the task and of its sub-tasks met in the stored roll-up of the latest rolled-up week
(amounts and counts at 100 % completion or more; rates at or above their target, at or below it when lower
is better; caps within their allowance), every milestone (节点) done, and evidence (佐证材料) present. Staff
may propose a task whose test fails; the page says which criteria fail and the office judges.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from actions.choices import Direction, IndicatorKind
from actions.models import Department, Indicator, Milestone, Plan, Task
from metrics.choices import CloseOffCriterion, CloseOffStatus, ExtensionStatus, RollupLevel
from metrics.models import CloseOffRequest, Evidence, ExtensionRequest, IndicatorProgress, Rollup
from planboard import formatting
from planboard.formatting import Measure

EPS = 1e-9  # float noise when comparing a stored completion % with 100


@dataclass(frozen=True)
class Criterion:
    """One criterion of the objective test: met or not, and what was found, in words."""

    code: CloseOffCriterion
    met: bool
    detail: str
    items: tuple[str, ...] = ()  # what falls short, one line each

    @property
    def label(self) -> str:
        return self.code.label

    def as_record(self) -> dict:
        return {"code": str(self.code), "met": self.met, "detail": self.detail, "items": list(self.items)}


@dataclass(frozen=True)
class CloseoffCheck:
    """The objective test of one task on a day: its criteria, and the roll-up week the indicators were read at."""

    task: Task
    week: datetime.date | None
    criteria: tuple[Criterion, ...]

    @property
    def all_met(self) -> bool:
        return all(c.met for c in self.criteria)

    @property
    def failed(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.met]

    def as_record(self) -> list[dict]:
        """What CloseOffRequest.test_result keeps: the test as staff saw it when proposing."""
        return [c.as_record() for c in self.criteria]


def task_family(task: Task) -> list[Task]:
    """The task and its sub-tasks: a task that groups sub-tasks answers for theirs too."""
    return [task, *Task.objects.filter(parent=task).order_by("number")]


def judged_week(*, plan: Plan, as_of: datetime.date) -> datetime.date | None:
    """The latest rolled-up as-of week of the plan up to `as_of`, or None before any roll-up."""
    return (
        Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN, week__lte=as_of)
        .order_by("-week").values_list("week", flat=True).first()
    )


def indicator_met(indicator: Indicator, row: IndicatorProgress | None) -> bool:
    """Whether an indicator counts as done for 销号, from its stored progress row."""
    if row is None or row.actual is None:
        return False
    if indicator.measure == Measure.AMOUNT:
        return row.completion_pct is not None and row.completion_pct >= 100 - EPS
    if row.target is None:
        return False
    # Rates against their target rate; caps (lower is better) within their allowance, zero caps included.
    if indicator.direction == Direction.LOWER:
        return row.actual <= row.target
    return row.actual >= row.target


def closeoff_check(task: Task, as_of: datetime.date, *, new_evidence: int = 0) -> CloseoffCheck:
    """The objective test of `task` on `as_of` (see the module docstring); a fixed number of queries.

    `new_evidence`: files about to be attached with a proposal, counted as present.
    """
    plan = task.action.plan
    family = task_family(task)
    week = judged_week(plan=plan, as_of=as_of)
    criteria = (
        _indicators_criterion(family, week),
        _milestones_criterion(family, as_of),
        _evidence_criterion(family, new_evidence),
    )
    return CloseoffCheck(task=task, week=week, criteria=criteria)


def _indicators_criterion(family: list[Task], week) -> Criterion:
    code = CloseOffCriterion.INDICATORS
    indicators = list(
        Indicator.objects.filter(task__in=family).exclude(kind=IndicatorKind.MILESTONE).order_by("task__number", "code")
    )
    if not indicators:
        return Criterion(code, True, _("The task has no indicators."))
    if week is None:
        return Criterion(code, False, _("No roll-up yet: the indicators cannot be judged."))
    rows = {r.indicator_id: r for r in IndicatorProgress.objects.filter(indicator__in=indicators, week=week)}
    short = []
    for indicator in indicators:
        row = rows.get(indicator.pk)
        if not indicator_met(indicator, row):
            words = formatting.progress(indicator.measure, row) if row else _("not rolled up")
            short.append(f"{indicator.name}（{indicator.unit}）: {words}")
    met = len(indicators) - len(short)
    detail = _("%(met)s of %(n)s indicators met in the roll-up of the week of %(week)s.") % {
        "met": met, "n": len(indicators), "week": week.isoformat(),
    }
    return Criterion(code, not short, detail, tuple(short))


def _milestones_criterion(family: list[Task], as_of: datetime.date) -> Criterion:
    code = CloseOffCriterion.MILESTONES
    milestones = list(Milestone.objects.filter(task__in=family).order_by("planned_date", "number"))
    if not milestones:
        return Criterion(code, True, _("The task has no milestones."))
    open_ = [m for m in milestones if m.done_date is None or m.done_date > as_of]
    detail = _("%(done)s of %(n)s milestones done.") % {"done": len(milestones) - len(open_), "n": len(milestones)}
    items = tuple(
        _("%(title)s (planned %(day)s) not done") % {"title": m.title, "day": m.planned_date.isoformat()} for m in open_
    )
    return Criterion(code, not open_, detail, items)


def _evidence_criterion(family: list[Task], new_evidence: int) -> Criterion:
    code = CloseOffCriterion.EVIDENCE
    count = Evidence.objects.filter(task__in=family).count() + new_evidence
    if not count:
        return Criterion(code, False, _("No evidence file yet: attach one with the proposal."))
    return Criterion(code, True, _("%(n)s evidence file(s).") % {"n": count})


def task_evidence(task: Task) -> QuerySet[Evidence]:
    """The evidence files of the task and its sub-tasks, newest first (staff pick those a proposal rests on)."""
    return Evidence.objects.filter(Q(task=task) | Q(task__parent=task)).select_related("task").order_by("-uploaded_at", "-pk")


def _closeoffs() -> QuerySet[CloseOffRequest]:
    return CloseOffRequest.objects.select_related(
        "task__action", "task__parent", "task__lead_department", "requested_by", "decided_by"
    ).prefetch_related("evidence")


def _extensions() -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.select_related(
        "task__action", "task__parent", "task__lead_department", "requested_by", "decided_by"
    )


def pending_closeoffs(plan: Plan) -> QuerySet[CloseOffRequest]:
    """The plan's 销号 proposals waiting for the supervision office, oldest first (for the queue and the inbox)."""
    return _closeoffs().filter(task__action__plan=plan, status=CloseOffStatus.PENDING).order_by("requested_at", "pk")


def pending_extensions(plan: Plan) -> QuerySet[ExtensionRequest]:
    """The plan's 延期 requests waiting for the supervision office, oldest first (for the queue and the inbox)."""
    return _extensions().filter(task__action__plan=plan, status=ExtensionStatus.PENDING).order_by("requested_at", "pk")


def decided_closeoffs(plan: Plan, *, limit: int = 20) -> QuerySet[CloseOffRequest]:
    """The plan's latest decided 销号 proposals, newest decision first."""
    return _closeoffs().filter(task__action__plan=plan).exclude(status=CloseOffStatus.PENDING).order_by("-decided_at", "-pk")[:limit]


def decided_extensions(plan: Plan, *, limit: int = 20) -> QuerySet[ExtensionRequest]:
    """The plan's latest decided 延期 requests, newest decision first."""
    return _extensions().filter(task__action__plan=plan).exclude(status=ExtensionStatus.PENDING).order_by("-decided_at", "-pk")[:limit]


@dataclass(frozen=True)
class Requests:
    """销号 proposals and 延期 requests, newest first."""

    closeoffs: QuerySet[CloseOffRequest]
    extensions: QuerySet[ExtensionRequest]


def requests_of(department: Department) -> Requests:
    """Every 销号 and 延期 request of the tasks a department leads, newest first (for its inbox)."""
    return Requests(
        closeoffs=_closeoffs().filter(task__lead_department=department),
        extensions=_extensions().filter(task__lead_department=department),
    )


def task_requests(task: Task) -> Requests:
    """A task's 销号 and 延期 record, newest first: every request with its decision."""
    return Requests(closeoffs=_closeoffs().filter(task=task), extensions=_extensions().filter(task=task))
