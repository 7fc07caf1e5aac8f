"""What departments report (figures) and what is computed from it (roll-ups)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from actions.choices import Frequency
from actions.models import Action, Department, Indicator, Milestone, Plan, Task, TimestampedModel
from metrics.choices import (
    ROBOT_KINDS,
    ChannelKind,
    CloseOffCriterion,
    CloseOffStatus,
    DeliveryAbout,
    ExtensionStatus,
    FigureState,
    HalfYearStatus,
    InterviewStatus,
    Light,
    OrderEventKind,
    OrderLevel,
    OrderStatus,
    OrderSubject,
    Reason,
    ReminderKind,
    ReopenStatus,
    RollupLevel,
    SheetStatus,
)
from planboard import clock


class Figure(TimestampedModel):
    """One department's reported value of one indicator for one period.

    The period is identified by its first day: the Monday of an ISO week for weekly indicators, the
    first of the month for monthly ones. For amounts and counts the value is the period's own amount
    (cumulative totals are sums); for growth rates and ratios it is the year-to-date rate in percent.
    No row means "not reported"; a row is either reported (with a value) or not applicable (with a note).
    """

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="figures")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="figures")
    period_start = models.DateField(_("period start"))
    state = models.CharField(_("state"), max_length=20, choices=FigureState.choices, default=FigureState.REPORTED)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="entered_figures",
        null=True,
        blank=True,
    )
    entered_at = models.DateTimeField(_("entered at"))
    # Optimistic concurrency: a save names the version it was based on; a mismatch is a conflict.
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords(verbose_name=_("figure history"))

    class Meta:
        ordering = ["indicator", "department", "period_start"]
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "department", "period_start"], name="figure_unique_period"),
            models.CheckConstraint(
                condition=(Q(state=FigureState.REPORTED, value__isnull=False) | Q(state=FigureState.NOT_APPLICABLE, value__isnull=True)),
                name="figure_value_matches_state",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "period_start"], name="figure_department_period"),
            # Running sums read a week's few latest periods of every indicator (metrics.rollup.engine).
            models.Index(fields=["period_start"], name="figure_period"),
        ]

    def __str__(self):
        return f"{self.indicator.name} · {self.department} · {self.period_start}"

    @classmethod
    def quantize(cls, value: Decimal) -> Decimal:
        """A derived amount (a sum, a difference of cumulatives) at the value field's places.

        Some backends return sums with trailing zeros (SQLite: Decimal('41.7944000000000')); a value
        derived from them would fail the field's decimal_places check.
        """
        return value.quantize(Decimal(1).scaleb(-cls._meta.get_field("value").decimal_places))

    def get_absolute_url(self):
        return reverse("metrics:figure_history", args=[self.pk])


class Progress(models.Model):
    """What a roll-up computes for one subject and as-of week; see metrics.rollup.engine for every rule.

    Rows are keyed by (week, subject) and written by upserts, so a roll-up run twice leaves the same
    rows. `as_of` is the day the figures were judged on: the week's Sunday for past weeks, today for the
    week in progress, the checkpoint for the checkpoint week once it has passed.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("as-of week"), help_text=_("Monday of the ISO week."))
    as_of = models.DateField(_("as of"))
    computed_at = models.DateTimeField(_("rolled up at"))

    class Meta:
        abstract = True


class MeasureColumns(models.Model):
    """The columns of an indicator's progress, for one department or for all of them."""

    target = models.DecimalField(_("target"), max_digits=20, decimal_places=4, null=True)
    target_to_date = models.FloatField(_("target to date"), null=True)
    actual = models.DecimalField(_("actual"), max_digits=20, decimal_places=4, null=True)
    checkpoint_actual = models.DecimalField(_("actual at the checkpoint"), max_digits=20, decimal_places=4, null=True)
    recent_total = models.DecimalField(_("last four periods"), max_digits=20, decimal_places=4, null=True)
    figure_count = models.PositiveIntegerField(_("figures"), default=0)
    na_count = models.PositiveIntegerField(_("not applicable"), default=0)
    completion_pct = models.FloatField(_("completion %"), null=True)
    schedule_pct = models.FloatField(_("schedule %"), null=True)
    gap_pp = models.FloatField(_("gap (points)"), null=True)
    attainment_pct = models.FloatField(_("against schedule %"), null=True)
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.NONE)
    half_year_status = models.CharField(_("双过半"), max_length=8, choices=HalfYearStatus.choices, default=HalfYearStatus.NONE)
    recent_pace = models.FloatField(_("recent pace per period"), null=True)
    required_pace_half = models.FloatField(_("pace needed for 50% by the checkpoint"), null=True)
    required_pace_year = models.FloatField(_("pace needed for 100% by year end"), null=True)
    forecast_checkpoint = models.FloatField(_("forecast at the checkpoint"), null=True)
    pace_alert = models.BooleanField(_("pace alert"), default=False)
    reason = models.CharField(_("why there is no value"), max_length=40, blank=True, choices=Reason.choices)

    class Meta:
        abstract = True


class IndicatorProgress(Progress, MeasureColumns):
    """An indicator's progress over all its departments, with the schedule inputs every row used."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="progress")
    # Inputs computed once per indicator and week (the explanation shows them).
    cutoff = models.DateField(_("figures counted up to period"), null=True)
    checkpoint_cutoff = models.DateField(_("figures counted at the checkpoint up to period"), null=True)
    recent_from = models.DateField(_("recent pace from period"), null=True)
    recent_periods = models.PositiveSmallIntegerField(_("recent periods"), default=0)
    periods_left_half = models.PositiveSmallIntegerField(_("periods left to the checkpoint"), default=0)
    periods_left_year = models.PositiveSmallIntegerField(_("periods left in the year"), default=0)
    schedule_share = models.FloatField(_("share of the year's target due"))
    checkpoint_passed = models.BooleanField(_("checkpoint passed"), default=False)
    latest_due = models.DateField(_("latest period due"), null=True)
    departments_expected = models.PositiveIntegerField(_("departments expected"), default=0)
    # Of the departments expected, those who reported the latest period due (`latest_due`); the total is
    # 数据不全 (incomplete) until every one has.
    departments_reported = models.PositiveIntegerField(_("departments that reported the latest period due"), default=0)
    data_complete = models.BooleanField(_("every department reported the latest period due"), default=True)

    class Meta:
        ordering = ["plan", "-week", "indicator"]
        verbose_name = _("indicator progress")
        verbose_name_plural = _("indicator progress")
        constraints = [models.UniqueConstraint(fields=["week", "indicator"], name="indicator_progress_unique")]
        indexes = [models.Index(fields=["plan", "week"], name="indicator_progress_plan_week")]

    def __str__(self):
        return f"{self.indicator} @ {self.week}"


class DepartmentIndicatorProgress(Progress, MeasureColumns):
    """One department's progress on one indicator, against its share of the target."""

    # No index of their own: every read is of a week (the unique constraint and the plan-week index, which
    # leads with the plan, serve it), and each index is one more entry written for each of a week's 20,000
    # rows (only deleting an indicator, a unit or a plan looks rows up by it alone, rarely).
    # Only the indicator is checked by the database. A row is written for a unit assigned to the indicator
    # (an assignment, like a figure, protects its unit from deletion), and its plan is the indicator's;
    # checking plan and unit too cost 220 ms of a fresh week's 1.3 s at 1 M figures (40,000 lookups at
    # commit), 11 s of a year's catch-up. Deleting a plan or a unit through Django still deletes their rows
    # (on_delete; tested).
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="+", db_index=False)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+", db_index=False,
        db_constraint=False,
    )
    # Reporting: cells (periods) due by as_of, entered, entered by their deadline; and the period now due.
    cells_due = models.PositiveIntegerField(_("reports due so far"), default=0)
    cells_entered = models.PositiveIntegerField(_("reports entered"), default=0)
    cells_on_time = models.PositiveIntegerField(_("reports on time"), default=0)
    period_due = models.PositiveSmallIntegerField(_("reports due this period"), default=0)
    period_entered = models.PositiveSmallIntegerField(_("reports entered this period"), default=0)
    latest_reported = models.BooleanField(_("reported the latest period due"), default=True)

    class Meta:
        ordering = ["plan", "-week", "indicator", "department"]
        verbose_name = _("department progress on an indicator")
        verbose_name_plural = _("department progress on indicators")
        constraints = [
            models.UniqueConstraint(fields=["week", "indicator", "department"], name="department_indicator_progress_unique")
        ]
        indexes = [models.Index(fields=["plan", "week", "department"], name="dept_progress_plan_week")]

    def __str__(self):
        return f"{self.indicator} · {self.department} @ {self.week}"


class Rollup(Progress):
    """A task, action or the whole plan for one week: its indicators' lights and weighted progress.

    `subject` is "task:<id>", "action:<id>" or "plan:<id>"; the matching foreign key is set too.
    """

    level = models.CharField(_("level"), max_length=8, choices=RollupLevel.choices)
    subject = models.CharField(_("subject"), max_length=30)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, related_name="rollups")  # the ledger joins it
    action = models.ForeignKey(Action, on_delete=models.CASCADE, null=True, related_name="+")
    indicator_count = models.PositiveIntegerField(_("indicators"), default=0)
    green = models.PositiveIntegerField(_("green"), default=0)
    yellow = models.PositiveIntegerField(_("yellow"), default=0)
    red = models.PositiveIntegerField(_("red"), default=0)
    no_light = models.PositiveIntegerField(_("no light"), default=0)
    missing = models.PositiveIntegerField(_("not reported (未报)"), default=0)
    # The aggregate's own light, by the one rule of metrics.rollup.engine.aggregate_light_sql.
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.NONE)
    attainment_pct = models.FloatField(_("against schedule % (weighted)"), null=True)
    completion_pct = models.FloatField(_("completion % (weighted)"), null=True)
    schedule_pct = models.FloatField(_("schedule % (weighted)"), null=True)
    half_met = models.PositiveIntegerField(_("双过半 met"), default=0)
    half_not_met = models.PositiveIntegerField(_("双过半 not met"), default=0)
    milestones_due = models.PositiveIntegerField(_("milestones due"), default=0)
    milestones_on_time = models.PositiveIntegerField(_("milestones done on time"), default=0)
    milestones_overdue = models.PositiveIntegerField(_("milestones overdue"), default=0)
    figure_count = models.PositiveIntegerField(_("figures"), default=0)
    departments_expected = models.PositiveIntegerField(_("departments expected"), default=0)
    departments_reported = models.PositiveIntegerField(_("departments reported"), default=0)
    # Each weighted mean's numerator (Σ weight × value) and denominator (Σ weight) over the parts where the
    # value is known, exact decimals: the plan's row is summed from its actions' rows with them.
    attainment_num = models.DecimalField(max_digits=40, decimal_places=20, null=True)
    attainment_den = models.DecimalField(max_digits=40, decimal_places=20, null=True)
    completion_num = models.DecimalField(max_digits=40, decimal_places=20, null=True)
    completion_den = models.DecimalField(max_digits=40, decimal_places=20, null=True)
    schedule_num = models.DecimalField(max_digits=40, decimal_places=20, null=True)
    schedule_den = models.DecimalField(max_digits=40, decimal_places=20, null=True)

    class Meta:
        ordering = ["plan", "-week", "level", "subject"]
        verbose_name = _("roll-up")
        verbose_name_plural = _("roll-ups")
        constraints = [models.UniqueConstraint(fields=["plan", "week", "subject"], name="rollup_unique_subject")]

    def __str__(self):
        return f"{self.subject} @ {self.week}"


class ScoreColumns(models.Model):
    """A unit's score (比武打擂) and its parts, and its ranks: in its league (its kind) and among all units."""

    cells_due = models.PositiveIntegerField(_("reports due so far"), default=0)
    cells_entered = models.PositiveIntegerField(_("reports entered"), default=0)
    cells_on_time = models.PositiveIntegerField(_("reports on time"), default=0)
    period_due = models.PositiveIntegerField(_("reports due this period"), default=0)
    period_entered = models.PositiveIntegerField(_("reports entered this period"), default=0)
    completeness_pct = models.FloatField(_("completeness %"), null=True)
    timeliness_pct = models.FloatField(_("timeliness %"), null=True)
    indicator_count = models.PositiveIntegerField(_("indicators"), default=0)
    attainment_pct = models.FloatField(_("indicators against schedule %"), null=True)
    led_task_count = models.PositiveIntegerField(_("tasks led"), default=0)
    led_tasks_pct = models.FloatField(_("tasks led against schedule %"), null=True)
    red = models.PositiveIntegerField(_("red lights"), default=0)
    led_red = models.PositiveIntegerField(
        _("red lights in tasks led"), default=0, help_text=_("Red indicators of the tasks the unit leads (牵头).")
    )
    red_penalty = models.FloatField(_("red-light penalty (points)"), default=0)
    order_penalty = models.FloatField(_("supervision penalty (points)"), default=0, help_text=_("Open 督办单 and 约谈 as of the week, at the plan's points each."))
    milestones_due = models.PositiveIntegerField(_("milestones due"), default=0)
    milestones_on_time = models.PositiveIntegerField(_("milestones done on time"), default=0)
    milestone_pct = models.FloatField(_("milestones on time %"), null=True)
    score = models.FloatField(_("score"), null=True)
    rank = models.PositiveIntegerField(_("rank in the league"), null=True, help_text=_("Among the units of the same kind."))
    previous_rank = models.PositiveIntegerField(_("previous rank in the league"), null=True)
    overall_rank = models.PositiveIntegerField(_("rank among all units"), null=True)
    previous_overall_rank = models.PositiveIntegerField(_("previous rank among all units"), null=True)

    class Meta:
        abstract = True

    @property
    def rank_change(self) -> int | None:
        """Places gained in the league since the previous week or month (positive is better)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def overall_rank_change(self) -> int | None:
        """Places gained among all units since the previous week or month (positive is better)."""
        if self.overall_rank is None or self.previous_overall_rank is None:
            return None
        return self.previous_overall_rank - self.overall_rank


class DepartmentScore(Progress, ScoreColumns):
    """A unit's reporting and results for one week, its score and its ranks (比武打擂).

    Recomputed whenever the week is rolled up again; previous ranks are the week before's."""

    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["plan", "-week", "rank"]
        verbose_name = _("department score")
        verbose_name_plural = _("department scores")
        constraints = [models.UniqueConstraint(fields=["plan", "week", "department"], name="department_score_unique")]

    def __str__(self):
        return f"{self.department} @ {self.week}: {self.score}"


class MonthlyRanking(ScoreColumns):
    """A month's ranking (月通报) as it stood when the month closed: frozen, never recomputed.

    Copied from the DepartmentScore rows of the month's last rolled-up week (by its Monday) when the
    first week of the next month is rolled up, and never rewritten after, so that a published
    bulletin keeps its ranks whatever late edits change. Previous ranks are the month before's frozen ones.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    week = models.DateField(_("as-of week"), help_text=_("Monday of the month's last week that was rolled up."))
    as_of = models.DateField(_("as of"))
    frozen_at = models.DateTimeField(_("frozen at"))
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["plan", "-month", "rank"]
        verbose_name = _("monthly ranking")
        verbose_name_plural = _("monthly rankings")
        constraints = [models.UniqueConstraint(fields=["plan", "month", "department"], name="monthly_ranking_unique")]

    def __str__(self):
        return f"{self.department} @ {self.month:%Y-%m}: {self.rank}"


class StaleRollup(models.Model):
    """A plan whose roll-up missed an update (the broker was down when figures were saved).

    Pages say so; the next full roll-up of the plan catches up and deletes the row.
    """

    plan = models.OneToOneField(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="stale_rollup")
    since = models.DateTimeField(_("stale since"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    earliest_period = models.DateField(_("earliest period touched"), null=True)

    class Meta:
        ordering = ["since"]
        verbose_name = _("stale roll-up")
        verbose_name_plural = _("stale roll-ups")

    def __str__(self):
        return f"{self.plan.year} since {self.since:%Y-%m-%d %H:%M}"


class InputChange(models.Model):
    """A write to what a week's running sums read, logged in the writing transaction by PostgreSQL triggers
    (migration 0017, whatever wrote it: a sheet, the admin, a shell): a figure's amount, period or time of
    entry (`indicator_id`, `period_start`), or a plan's structure (`plan_id`, every week: an indicator's
    kind or frequency, an assignment, a task or an action moved, the plan's period settings). A roll-up run
    that covers a change deletes it (metrics.rollup.inputs); while a change before a week is left, that
    week's run adds up its figures instead of carrying the week before's sums.
    """

    xact = models.BigIntegerField(_("writing transaction"))  # pg_current_xact_id()
    plan_id = models.BigIntegerField(_("plan"), null=True)  # plain ids: a log must not hold back a delete
    indicator_id = models.BigIntegerField(_("indicator"), null=True)
    period_start = models.DateField(_("period start"), null=True, help_text=_("Empty: every week."))

    class Meta:
        verbose_name = _("roll-up input change")
        verbose_name_plural = _("roll-up input changes")

    def __str__(self):
        return f"{self.indicator_id or self.plan_id or 'all'} @ {self.period_start or 'every week'}"


class RollupCorrection(models.Model):
    """What the nightly check (metrics.rollup.services.rollup_repair) found and put right: stored weeks of a
    plan that differed from their figures, rolled up again from them. The pages of those weeks say so."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="rollup_corrections")
    found_at = models.DateTimeField(_("found and corrected at"))
    differing = models.JSONField(_("rows that differed, per week"))  # {"2022-03-07": 12, …}: ISO Monday → rows

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("roll-up correction")
        verbose_name_plural = _("roll-up corrections")

    def __str__(self):
        return f"{self.plan.year} corrected at {self.found_at:%Y-%m-%d %H:%M}"


class Sheet(TimestampedModel):
    """A department's report for one period (a week's or a month's figures), and its review state.

    Created when the sheet is first saved. draft → submitted → approved, or returned with a comment.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="sheets")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="sheets")
    frequency = models.CharField(_("reporting frequency"), max_length=10, choices=Frequency.choices)
    period_start = models.DateField(_("period start"))
    status = models.CharField(_("status"), max_length=20, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    reopened_until = models.DateField(_("reopened until"), null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "department"]
        verbose_name = _("report sheet")
        verbose_name_plural = _("report sheets")
        constraints = [
            models.UniqueConstraint(fields=["plan", "department", "frequency", "period_start"], name="sheet_unique_period"),
        ]

    def __str__(self):
        return f"{self.department} · {self.get_frequency_display()} · {self.period_start}"

    @property
    def is_submitted(self) -> bool:
        return self.status == SheetStatus.SUBMITTED

    @property
    def is_returned(self) -> bool:
        return self.status == SheetStatus.RETURNED


class ReopenRequest(TimestampedModel):
    """Staff ask the supervision office to reopen a locked or approved sheet, with a reason."""

    sheet = models.ForeignKey(Sheet, verbose_name=_("report sheet"), on_delete=models.CASCADE, related_name="reopen_requests")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # Business time, from the app's clock (pinned in demos); `created` stays the real write time.
    requested_at = models.DateTimeField(_("requested at"), default=clock.now)
    status = models.CharField(_("status"), max_length=20, choices=ReopenStatus.choices, default=ReopenStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("reopen request")
        verbose_name_plural = _("reopen requests")

    def __str__(self):
        return f"{self.sheet} · {self.get_status_display()}"


class ProgressNote(TimestampedModel):
    """A lead department's weekly progress on a task (进展情况, 存在问题, 下步计划), one per task and week."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="progress_notes")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="progress_notes")
    period_start = models.DateField(_("period start"))
    progress = models.TextField(_("progress"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords(verbose_name=_("progress note history"))

    class Meta:
        ordering = ["task", "-period_start"]
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        constraints = [
            models.UniqueConstraint(fields=["task", "department", "period_start"], name="progress_note_unique_period"),
        ]

    def __str__(self):
        return f"{self.task} · {self.period_start}"

    def get_absolute_url(self):
        return reverse("metrics:note_history", args=[self.pk])


def evidence_path(instance, filename):
    return f"evidence/{instance.period_start:%Y}/{instance.department.code}/{filename}"


class Evidence(TimestampedModel):
    """A supporting document (佐证材料) for a task: PDF, image or Office file, checked on upload."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="evidence")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="evidence")
    period_start = models.DateField(_("period start"))
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    # Business time, from the app's clock (pinned in demos); `created` stays the real write time.
    uploaded_at = models.DateTimeField(_("uploaded at"), default=clock.now)

    class Meta:
        ordering = ["task", "-uploaded_at"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("metrics:evidence_download", args=[self.pk])


class Reminder(TimestampedModel):
    """A 催办: the supervision office reminded a department of something, at a time, about an as-of week."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="reminders")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(_("about"), max_length=20, choices=ReminderKind.choices)
    subject = models.CharField(_("subject"), max_length=300, help_text=_("What the department is reminded of, in words."))
    week = models.DateField(_("as-of week"), help_text=_("Monday of the ISO week."))
    note = models.TextField(_("note"), blank=True)
    reminded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reminded by"), on_delete=models.PROTECT, related_name="+"
    )
    # Business time, from the app's clock (pinned in demos); `created` stays the real write time.
    reminded_at = models.DateTimeField(_("reminded at"), default=clock.now)

    class Meta:
        ordering = ["-reminded_at"]
        verbose_name = _("reminder (催办)")
        verbose_name_plural = _("reminders (催办)")
        indexes = [models.Index(fields=["plan", "-reminded_at"], name="reminder_plan_reminded")]

    def __str__(self):
        return f"{self.department} · {self.subject}"


class SupervisionOrder(TimestampedModel):
    """A 督办单: the supervision office's written demand to one unit about one subject (an indicator behind
    schedule, an overdue or imminent milestone, missing reports), on the ladder blue → yellow → red.

    Issued and moved by the rules after each roll-up (metrics.supervision.orders); one open order per
    subject (`subject_key`), which escalates or steps down and never duplicates. It closes when the
    shortfall is made up, or by the office's hand with a reason; a reply alone never closes it.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="orders")
    subject_kind = models.CharField(_("about"), max_length=20, choices=OrderSubject.choices)
    subject_key = models.CharField(_("subject key"), max_length=40, help_text=_("indicator:<id>, milestone:<id> or missing:<department id>"))
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    milestone = models.ForeignKey(Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    department = models.ForeignKey(Department, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="orders")
    level = models.CharField(_("level"), max_length=8, choices=OrderLevel.choices)
    found_level = models.CharField(
        _("level the numbers call for"), max_length=8, choices=OrderLevel.choices,
        help_text=_("What the rules last found from the roll-up; the order steps down only when this falls (the numbers recover), "
                    "never because a late unit replied."),
    )
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.AWAITING_REPLY)
    reason = models.TextField(_("reason"), help_text=_("In words, from the stored roll-up of `week`."))
    week = models.DateField(_("as-of week"), help_text=_("The roll-up week the order was last judged on."))
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Empty when the rules issued it."),
    )
    deadline = models.DateField(_("reply due by (办理时限)"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.TextField(_("why closed"), blank=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("supervision order (督办单)")
        verbose_name_plural = _("supervision orders (督办单)")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "subject_key"], condition=Q(closed_on__isnull=True), name="order_one_open_per_subject"
            ),
        ]
        indexes = [models.Index(fields=["plan", "department", "closed_on"], name="order_plan_department")]

    def __str__(self):
        return f"{self.get_level_display()} · {self.department} · {self.subject_key}"

    def get_absolute_url(self):
        return reverse("metrics:order_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


def order_reply_path(instance, filename):
    return f"orders/{instance.order.issued_on:%Y}/{instance.order.department.code}/{filename}"


class OrderReply(TimestampedModel):
    """A unit's answer to an order: its measures, when it expects to have made up the shortfall, and evidence;
    verified by the office (accepted, or sent back with a comment)."""

    order = models.ForeignKey(SupervisionOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="replies")
    measures = models.TextField(_("measures taken"))
    expected_date = models.DateField(_("shortfall made up by"))
    file = models.FileField(_("evidence"), upload_to=order_reply_path, max_length=300, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("replied by"), on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(_("replied at"), default=clock.now)
    verdict = models.CharField(_("verification"), max_length=20, choices=ReopenStatus.choices, default=ReopenStatus.PENDING)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("verified by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    comment = models.TextField(_("office's comment"), blank=True)

    class Meta:
        ordering = ["order", "-replied_at"]
        verbose_name = _("reply to an order")
        verbose_name_plural = _("replies to orders")

    def __str__(self):
        return f"{self.order} · {self.replied_at:%Y-%m-%d}"


class OrderEvent(models.Model):
    """One step in an order's history: issued, escalated, stepped down, replied, verified, reminded, closed.

    `level` and `status` are the order's after the step; `day` is the business day (the roll-up's as-of day
    for the rules' steps), which the ranking's deductions read (an order counts at the level it had then).
    """

    order = models.ForeignKey(SupervisionOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("step"), max_length=20, choices=OrderEventKind.choices)
    level = models.CharField(_("level"), max_length=8, choices=OrderLevel.choices)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)
    day = models.DateField(_("on"))
    at = models.DateTimeField(_("at"), default=clock.now)
    week = models.DateField(_("as-of week"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("done by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Empty for the rules' steps."),
    )
    text = models.TextField(_("what was said"), blank=True)
    reply = models.ForeignKey(OrderReply, verbose_name=_("reply"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["order", "at", "pk"]
        verbose_name = _("order step")
        verbose_name_plural = _("order steps")
        indexes = [models.Index(fields=["order", "day"], name="order_event_day")]

    def __str__(self):
        return f"{self.order_id} · {self.kind} · {self.day}"


class OrderRun(models.Model):
    """The rules' last run for a plan: the as-of week and day they judged. A run for an earlier week (a
    late roll-up of a past week) changes nothing: orders move forward in time only."""

    plan = models.OneToOneField(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="order_run")
    week = models.DateField(_("as-of week"))
    as_of = models.DateField(_("as of"))
    at = models.DateTimeField(_("run at"))

    class Meta:
        verbose_name = _("order run")
        verbose_name_plural = _("order runs")


class Interview(TimestampedModel):
    """A 约谈: opened when a unit collects the plan's number of red orders within its window; scheduled by
    the office and closed with the unit head's written 整改 (rectification) commitment."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="interviews")
    department = models.ForeignKey(Department, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="interviews")
    status = models.CharField(_("status"), max_length=20, choices=InterviewStatus.choices, default=InterviewStatus.TO_SCHEDULE)
    reason = models.TextField(_("reason"))
    orders = models.ManyToManyField(SupervisionOrder, verbose_name=_("red orders"), related_name="interviews", blank=True)
    opened_on = models.DateField(_("opened on"))
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    unit_head = models.CharField(_("unit head interviewed"), max_length=100, blank=True)
    commitment = models.TextField(_("rectification commitment (整改承诺)"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(verbose_name=_("interview history"))

    class Meta:
        ordering = ["-opened_on", "-pk"]
        verbose_name = _("interview (约谈)")
        verbose_name_plural = _("interviews (约谈)")
        constraints = [
            models.UniqueConstraint(fields=["plan", "department"], condition=Q(closed_on__isnull=True), name="interview_one_open_per_unit"),
        ]

    def __str__(self):
        return f"{self.department} · {self.opened_on}"


class DepartmentChannel(TimestampedModel):
    """A department's group robot (企业微信 or 钉钉 webhook) that hears its reminders, returned sheets and red
    orders. Kept by the supervision office in the admin; an inactive channel is kept but not used."""

    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=[(k.value, k.label) for k in ROBOT_KINDS])
    webhook_url = models.URLField(
        _("webhook URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The group robot's address, from the group's robot settings (it carries the robot's key: keep it private)."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["department", "kind", "pk"]
        verbose_name = _("department channel")
        verbose_name_plural = _("department channels")
        constraints = [models.UniqueConstraint(fields=["department", "webhook_url"], name="channel_unique_webhook")]

    def __str__(self):
        return f"{self.department} · {self.get_kind_display()}"


class Delivery(models.Model):
    """One message sent (or tried) through one channel: the delivery log, which is also the 催办 record.

    Who was told (a person by e-mail, or a department's group robot), what (subject and body), about what
    (`about` and `object_key`, e.g. digest:2022-05-20, sheet:12, order:5, reminder:3), when (business time,
    planboard.clock) and whether it went through (`ok`, else `error` says why). A message that went
    through is never sent again for the same key; one that failed is tried again on the next run.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(
        DepartmentChannel, verbose_name=_("department channel"), on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text=_("The department the message is for (its channel's, or the recipient's)."),
    )
    kind = models.CharField(_("channel"), max_length=20, choices=ChannelKind.choices)
    address = models.CharField(_("address"), max_length=254, blank=True, help_text=_("The e-mail address, or the robot's host (never its key)."))
    about = models.CharField(_("about"), max_length=20, choices=DeliveryAbout.choices)
    object_key = models.CharField(_("object"), max_length=80)
    reminder = models.ForeignKey(
        Reminder, verbose_name=_("reminder (催办)"), on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"))
    # Business time, from the app's clock (pinned in demos); the day keys the once-a-day messages.
    sent_at = models.DateTimeField(_("sent at"), default=clock.now)
    ok = models.BooleanField(_("delivered"), default=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["about", "object_key"], name="delivery_about_object"),
            models.Index(fields=["department", "-sent_at"], name="delivery_department_sent"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.address or self.department} · {self.subject}"

    @property
    def recipient_name(self) -> str:
        if self.recipient_id:
            return self.recipient.get_full_name() or self.recipient.username
        return str(self.channel or self.department or "")
class CloseOffRequest(TimestampedModel):
    """The lead unit's staff propose a task done (销号), with evidence; the supervision office verifies it.

    Accepted, the task (and its sub-tasks) is closed off (TaskStatus.CLOSED, 已销号) and leaves the red lists;
    returned, it stays open with the office's note. It keeps the objective test as staff saw it when
    proposing (`test_result`, from metrics.closeoff.selectors.closeoff_check). One pending proposal per task.
    """

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="closeoff_requests")
    note = models.TextField(_("note"), blank=True)
    evidence = models.ManyToManyField(Evidence, verbose_name=_("evidence files"), related_name="closeoff_requests", blank=True)
    test_result = models.JSONField(_("objective test when proposed"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # Business time, from the app's clock (pinned in demos); `created` stays the real write time.
    requested_at = models.DateTimeField(_("requested at"), default=clock.now)
    status = models.CharField(_("status"), max_length=20, choices=CloseOffStatus.choices, default=CloseOffStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    history = HistoricalRecords(verbose_name=_("close-off request history"))

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("close-off request (销号)")
        verbose_name_plural = _("close-off requests (销号)")
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(status=CloseOffStatus.PENDING), name="closeoff_one_pending_per_task"
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == CloseOffStatus.PENDING

    @property
    def test_summary(self) -> list[tuple[str, bool]]:
        """The objective test as proposed: each criterion's name (in the reader's language) and whether it was met."""
        return [(CloseOffCriterion(c["code"]).label, c["met"]) for c in self.test_result if c.get("code") in CloseOffCriterion.values]


class ExtensionRequest(TimestampedModel):
    """The lead unit's staff ask to extend a task's deadline (延期申请); the supervision office grants or refuses.

    Granted, the task's deadline becomes `new_deadline`; `current_deadline` keeps the one it replaced. The new
    date is after the current deadline and within the plan year. One pending request per task.
    """

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="extension_requests")
    reason = models.TextField(_("reason"))
    current_deadline = models.DateField(_("deadline when asked"))
    new_deadline = models.DateField(_("new deadline asked for"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # Business time, from the app's clock (pinned in demos); `created` stays the real write time.
    requested_at = models.DateTimeField(_("requested at"), default=clock.now)
    status = models.CharField(_("status"), max_length=20, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    history = HistoricalRecords(verbose_name=_("extension request history"))

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("extension request (延期申请)")
        verbose_name_plural = _("extension requests (延期申请)")
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(status=ExtensionStatus.PENDING), name="extension_one_pending_per_task"
            ),
            models.CheckConstraint(
                condition=Q(new_deadline__gt=models.F("current_deadline")), name="extension_new_deadline_later"
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.current_deadline} → {self.new_deadline} · {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == ExtensionStatus.PENDING
