from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FigureState(models.TextChoices):
    """The explicit states of a cell. A missing Figure row is the third state: not reported."""

    REPORTED = "reported", _("Reported")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Light(models.TextChoices):
    """亮灯. MISSING (未报): behind only because reports of the latest due period are missing — chased as
    missing, never counted red. NONE: no light can be given (no target, no figures, schedule not started);
    `reason` says why."""

    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")
    MISSING = "missing", _("Not reported")
    NONE = "none", _("No light")


class Reason(models.TextChoices):
    """Why a computed value is empty (metrics.dashboards.explanations says each in words)."""

    NONE = "", _("Has a value")
    NO_TARGET = "no_target", _("No target")
    ZERO_TARGET = "zero_target", _("Zero target")
    NO_SHARE = "no_share", _("No share of the target")
    NO_FIGURES = "no_figures", _("No figures")
    NOT_APPLICABLE = "not_applicable", _("All not applicable")
    NO_PERIOD_CLOSED = "no_period_closed", _("No period closed yet")
    SCHEDULE_NOT_STARTED = "schedule_not_started", _("Schedule not started")
    NO_MILESTONE_DUE = "no_milestone_due", _("No milestone due")


class HalfYearStatus(models.TextChoices):
    """双过半 at the plan's checkpoint."""

    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    PENDING = "pending", pgettext_lazy("双过半", "Pending")
    NONE = "none", _("Cannot be judged")


class RollupLevel(models.TextChoices):
    TASK = "task", _("Task")
    ACTION = "action", _("Action")
    PLAN = "plan", _("Plan")


class SheetStatus(models.TextChoices):
    """Where a department's report sheet is in its review."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


class ReopenStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ReminderKind(models.TextChoices):
    """What a 催办 (reminder) is about."""

    MISSING_REPORT = "missing_report", _("Missing reports")
    RED = "red", _("Red light")
    YELLOW = "yellow", _("Yellow light")
    OVERDUE_MILESTONE = "overdue_milestone", _("Overdue milestone")


class CloseOffStatus(models.TextChoices):
    """Where a proposal to close a task off (销号) is: waiting, accepted by the office (已销号) or sent back."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted (closed off)")
    RETURNED = "returned", _("Returned")


class ExtensionStatus(models.TextChoices):
    """Where a request to extend a task's deadline (延期申请) is."""

    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class CloseOffCriterion(models.TextChoices):
    """The criteria of the objective test a task is judged by before 销号 (metrics.closeoff.selectors.closeoff_check)."""

    INDICATORS = "indicators", _("Every indicator met (100 % or more in the stored roll-up)")
    MILESTONES = "milestones", _("Every milestone (节点) done")
    EVIDENCE = "evidence", _("Evidence (佐证材料) present")
