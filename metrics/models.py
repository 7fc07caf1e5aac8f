"""What departments report (figures) and what is computed from it (roll-ups)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.models import Department, Indicator, Plan, TimestampedModel
from metrics.choices import FigureState


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
