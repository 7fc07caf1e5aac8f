"""The plan: one per year, eight actions, their tasks, milestones and indicators, and the departments."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.choices import (
    RATE_KINDS,
    SUMMED_KINDS,
    DepartmentKind,
    Direction,
    EntryMode,
    Frequency,
    IndicatorKind,
    TaskStatus,
    Weekday,
)
from planboard.formatting import Measure


class TimestampedModel(models.Model):
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Plan(TimestampedModel):
    """A year's work plan (工作计划), judged at the half-year checkpoint (双过半) and at year end."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    checkpoint = models.DateField(
        _("half-year checkpoint"),
        blank=True,
        help_text=_("The date 双过半 is judged on; 30 June unless the plan says otherwise."),
    )
    # Light thresholds (亮灯). No national rule fixes them, so each plan sets its own.
    yellow_gap_pp = models.DecimalField(
        _("yellow up to (points behind schedule)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    growth_yellow_pp = models.DecimalField(
        _("growth rates: yellow up to (points below target)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    deadline_warning_days = models.PositiveSmallIntegerField(_("yellow when a deadline is within (days)"), default=3)
    # Reporting cadence (周调度、月通报): when reports are due, and how long they stay open after that.
    report_weekday = models.PositiveSmallIntegerField(
        _("weekly reports due on"), choices=Weekday.choices, default=Weekday.FRIDAY
    )
    report_due_time = models.TimeField(_("reports due at"), default=datetime.time(17, 0))
    monthly_report_day = models.PositiveSmallIntegerField(
        _("monthly reports due on day"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Day of the following month."),
    )
    lock_after_days = models.PositiveSmallIntegerField(
        _("period locks (days after due)"), default=3, help_text=_("After this, changes need a granted reopen request.")
    )
    pace_alert_multiple = models.DecimalField(
        _("pace alert when the required pace exceeds the recent pace by (times)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    # Plausibility (合理性校验): a figure beyond this is not refused, but needs a confirming note.
    plausible_multiple = models.DecimalField(
        _("a note is asked when a cumulative passes the annual target by (times)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("1"))],
        help_text=_("A cumulative reaching more than this multiple of a department's annual target needs a confirming note; "
                    "so does one period above the whole annual target."),
    )
    # The unit score for the ranking (比武打擂): weighted parts out of their sum (100 by default), minus
    # red-light penalties. A lead unit answers for the tasks it leads, not only for its own figures.
    score_weight_indicators = models.PositiveSmallIntegerField(_("score weight: indicators against schedule"), default=40)
    score_weight_led = models.PositiveSmallIntegerField(_("score weight: tasks led against schedule"), default=30)
    score_weight_milestones = models.PositiveSmallIntegerField(_("score weight: milestones on time"), default=15)
    score_weight_timeliness = models.PositiveSmallIntegerField(_("score weight: reports on time"), default=15)
    score_red_penalty = models.DecimalField(
        _("score penalty per red light"), max_digits=5, decimal_places=2, default=Decimal("2"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    # The supervision ladder (督办单, metrics.supervision.orders): when the rules issue, escalate and close orders,
    # when a 约谈 opens, and what open orders and interviews cost in the ranking score.
    order_reply_days = models.PositiveSmallIntegerField(
        _("orders: days to reply (办理时限)"), default=3, validators=[MinValueValidator(1)],
        help_text=_("An order left without a reply past this climbs one level."),
    )
    order_due_soon_days = models.PositiveSmallIntegerField(
        _("orders: blue when a milestone falls due within (days)"), default=7
    )
    order_red_weeks = models.PositiveSmallIntegerField(
        _("orders: red after this many red weeks running"), default=3, validators=[MinValueValidator(1)]
    )
    interview_red_orders = models.PositiveSmallIntegerField(
        _("约谈 after this many red orders of one unit"), default=3, validators=[MinValueValidator(1)]
    )
    interview_window_days = models.PositiveSmallIntegerField(
        _("… within (days)"), default=30, validators=[MinValueValidator(1)]
    )
    score_order_penalty_blue = models.DecimalField(
        _("score penalty per open blue order"), max_digits=5, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    score_order_penalty_yellow = models.DecimalField(
        _("score penalty per open yellow order"), max_digits=5, decimal_places=2, default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    score_order_penalty_red = models.DecimalField(
        _("score penalty per open red order"), max_digits=5, decimal_places=2, default=Decimal("3"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    score_interview_penalty = models.DecimalField(
        _("score penalty per open 约谈"), max_digits=5, decimal_places=2, default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self):
        return f"{self.year} {self.title}"

    def save(self, *args, **kwargs):
        if self.checkpoint is None and self.year:
            self.checkpoint = datetime.date(self.year, 6, 30)
        super().save(*args, **kwargs)

    def clean(self):
        if self.checkpoint and self.year and self.checkpoint.year != self.year:
            raise ValidationError({"checkpoint": _("The checkpoint must fall within the plan's year.")})


class Department(TimestampedModel):
    """A unit that leads or reports on tasks: a government department, a park or a street/town."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices, default=DepartmentKind.DEPARTMENT)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff members"),
        related_name="departments",
        blank=True,
        help_text=_("Staff who enter this department's figures."),
    )

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.short_name


class Action(TimestampedModel):
    """One of the plan's eight actions (行动), such as 轰鸣 for industry."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="actions")
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1), MaxValueValidator(8)])
    codename = models.CharField(_("codename"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    lead_leader = models.CharField(_("lead leader"), max_length=100, blank=True)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="led_actions"
    )

    class Meta:
        ordering = ["plan", "number"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="action_unique_number"),
            models.UniqueConstraint(fields=["plan", "codename"], name="action_unique_codename"),
            models.CheckConstraint(condition=Q(number__gte=1, number__lte=8), name="action_number_1_to_8"),
        ]

    def __str__(self):
        return f"{self.number}. {self.codename}"


class Task(TimestampedModel):
    """A key task (重点任务) of an action: one row of the ledger (台账).

    The speech has two levels: a task may be a group of sub-tasks (持续壮大“企业军团” holds 大象起舞,
    靠大联强, 入规入统). A sub-task has a `parent` in the same action and no sub-tasks of its own; it is
    numbered within its parent (1.1.2), and its parent's roll-up aggregates it.
    """

    action = models.ForeignKey(Action, verbose_name=_("action"), on_delete=models.CASCADE, related_name="tasks")
    parent = models.ForeignKey(
        "self", verbose_name=_("part of task"), on_delete=models.CASCADE, related_name="subtasks", null=True, blank=True
    )
    number = models.PositiveSmallIntegerField(_("number"), help_text=_("Within the action, or within the parent task."))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    lead_leader = models.CharField(_("lead leader"), max_length=100, blank=True)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="led_tasks"
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name=_("co-departments"), related_name="co_tasks", blank=True
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED)

    class Meta:
        ordering = ["action", "number"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            # NULLs are distinct in a unique index, so top-level tasks and sub-tasks each get their own.
            models.UniqueConstraint(fields=["action", "number"], condition=Q(parent__isnull=True), name="task_unique_number"),
            models.UniqueConstraint(fields=["parent", "number"], condition=Q(parent__isnull=False), name="subtask_unique_number"),
        ]

    def __str__(self):
        return f"{self.outline_number} {self.title}"

    @property
    def outline_number(self) -> str:
        """1.2 for the second task of action 1, 1.2.3 for the third sub-task of that task.

        Reads `action` and `parent`: select_related them where many tasks are shown."""
        if self.parent_id is None:
            return f"{self.action.number}.{self.number}"
        return f"{self.action.number}.{self.parent.number}.{self.number}"

    def clean(self):
        if self.parent_id is None:
            return
        if self.parent.parent_id is not None:
            raise ValidationError({"parent": _("A sub-task cannot have sub-tasks of its own: the plan has two levels.")})
        if self.parent.action_id != self.action_id:
            raise ValidationError({"parent": _("A sub-task belongs to the action of its parent task.")})


class Milestone(TimestampedModel):
    """A dated node (节点) of a qualitative task; done on time when done_date <= planned_date."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="milestones")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    planned_date = models.DateField(_("planned date"))
    done_date = models.DateField(_("done date"), null=True, blank=True)

    class Meta:
        ordering = ["task", "number"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [models.UniqueConstraint(fields=["task", "number"], name="milestone_unique_number")]

    def __str__(self):
        return self.title


class Indicator(TimestampedModel):
    """A quantitative target of a task, reported weekly or monthly by its responsible departments."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20, choices=IndicatorKind.choices)
    annual_target = models.DecimalField(
        _("annual target"),
        max_digits=16,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("For growth rates and ratios: the target rate in percent."),
    )
    monthly_targets = models.JSONField(
        _("phased monthly targets"),
        null=True,
        blank=True,
        help_text=_("Optional: twelve cumulative targets, one for the end of each month; the last equals the annual target."),
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    entry_mode = models.CharField(
        _("staff enter"), max_length=12, choices=EntryMode.choices, default=EntryMode.PERIOD
    )
    frequency = models.CharField(_("reporting frequency"), max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    # For a growth rate or ratio: the one department whose rate is the district's (e.g. the statistics
    # bureau's); without it the indicator's rate is the mean of its departments' latest rates.
    rate_department = models.ForeignKey(
        Department, verbose_name=_("department whose rate is the district's"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    departments = models.ManyToManyField(
        Department,
        verbose_name=_("responsible departments"),
        through="IndicatorDepartment",
        related_name="indicators",
    )

    class Meta:
        ordering = ["task", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["task", "code"], name="indicator_unique_code"),
            models.CheckConstraint(
                condition=Q(annual_target__isnull=True) | Q(annual_target__gte=0), name="indicator_target_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.unit}）"

    @property
    def is_summed(self) -> bool:
        return self.kind in SUMMED_KINDS

    @property
    def is_rate(self) -> bool:
        return self.kind in RATE_KINDS

    @property
    def measure(self) -> Measure:
        """How its progress is read: completion against 序时进度, allowance used, actual rate against target, or nodes."""
        if self.kind == IndicatorKind.MILESTONE:
            return Measure.MILESTONE
        if self.is_rate:
            return Measure.RATE
        return Measure.CAP if self.direction == Direction.LOWER else Measure.AMOUNT

    def clean(self):
        errors = {}
        if self.kind != IndicatorKind.MILESTONE and self.annual_target is None:
            errors["annual_target"] = _("An indicator of this kind needs an annual target.")
        if self.monthly_targets is not None:
            problem = monthly_targets_problem(self.monthly_targets, self.annual_target, self.kind)
            if problem:
                errors["monthly_targets"] = problem
        if errors:
            raise ValidationError(errors)


def monthly_targets_problem(values, annual_target, kind) -> str | None:
    """Why a list of phased monthly targets is unusable, or None when it is fine."""
    if kind not in SUMMED_KINDS:
        return str(_("Only amounts and counts can have phased monthly targets."))
    if not isinstance(values, list) or len(values) != 12:
        return str(_("Phased targets must be a list of twelve cumulative values."))
    try:
        numbers = [Decimal(str(v)) for v in values]
    except ArithmeticError:
        return str(_("Phased targets must be numbers."))
    if any(n < 0 for n in numbers):
        return str(_("Phased targets cannot be negative."))
    if any(b < a for a, b in zip(numbers, numbers[1:])):
        return str(_("Phased targets are cumulative and cannot go down from one month to the next."))
    if annual_target is not None and numbers[-1] != Decimal(annual_target):
        return str(_("The December phased target must equal the annual target."))
    return None


class IndicatorDepartment(models.Model):
    """A department responsible for an indicator, with its share of the target where the target is split."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="assignments")
    target_share = models.DecimalField(
        _("share of the target"),
        max_digits=16,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["indicator", "department"]
        verbose_name = _("responsible department")
        verbose_name_plural = _("responsible departments")
        constraints = [models.UniqueConstraint(fields=["indicator", "department"], name="assignment_unique")]

    def __str__(self):
        return f"{self.indicator} · {self.department}"
