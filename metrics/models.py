"""What departments report (figures) and what is computed from it (roll-ups)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from actions.choices import Frequency
from actions.models import Department, Indicator, Plan, Task, TimestampedModel
from metrics.choices import FigureState, ReopenStatus, SheetStatus


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
        indexes = [models.Index(fields=["department", "period_start"], name="figure_department_period")]

    def __str__(self):
        return f"{self.indicator.name} · {self.department} · {self.period_start}"

    def get_absolute_url(self):
        return reverse("metrics:figure_history", args=[self.pk])


class PlanRollup(models.Model):
    """What the latest roll-up of a plan found as of a date: its freshness and reporting coverage.

    One row per (plan, as_of); a roll-up run upserts it, so running it twice leaves one row.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="rollups")
    as_of = models.DateField(_("as of"))
    computed_at = models.DateTimeField(_("rolled up at"))
    figure_count = models.PositiveIntegerField(_("figures"))
    departments_expected = models.PositiveIntegerField(_("departments expected"))
    departments_reported = models.PositiveIntegerField(_("departments reported"))

    class Meta:
        ordering = ["plan", "-as_of"]
        verbose_name = _("plan roll-up")
        verbose_name_plural = _("plan roll-ups")
        constraints = [models.UniqueConstraint(fields=["plan", "as_of"], name="plan_rollup_unique")]

    def __str__(self):
        return f"{self.plan.year} @ {self.as_of}"


class StaleRollup(models.Model):
    """A plan whose roll-up missed an update (the broker was down when figures were saved).

    Pages say so; the next full roll-up of the plan catches up and deletes the row.
    """

    plan = models.OneToOneField(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="stale_rollup")
    since = models.DateTimeField(_("stale since"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["since"]
        verbose_name = _("stale roll-up")
        verbose_name_plural = _("stale roll-ups")

    def __str__(self):
        return f"{self.plan.year} since {self.since:%Y-%m-%d %H:%M}"


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


class ReopenRequest(TimestampedModel):
    """Staff ask the supervision office to reopen a locked or approved sheet, with a reason."""

    sheet = models.ForeignKey(Sheet, verbose_name=_("report sheet"), on_delete=models.CASCADE, related_name="reopen_requests")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ReopenStatus.choices, default=ReopenStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-created"]
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

    class Meta:
        ordering = ["task", "-created"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("metrics:evidence_download", args=[self.pk])
