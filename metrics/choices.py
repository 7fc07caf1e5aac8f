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
    ORDER = "order", _("Supervision order")


class OrderSubject(models.TextChoices):
    """What a supervision order (督办单) is about."""

    INDICATOR = "indicator", _("Indicator")
    MILESTONE = "milestone", _("Milestone")
    MISSING_REPORT = "missing_report", _("Missing reports")


class OrderLevel(models.TextChoices):
    """The ladder of a supervision order: blue (提示) → yellow (警示) → red (督办). Ordered by `ORDER_LEVELS`."""

    BLUE = "blue", pgettext_lazy("order level", "Blue")
    YELLOW = "yellow", pgettext_lazy("order level", "Yellow")
    RED = "red", pgettext_lazy("order level", "Red")


ORDER_LEVELS = [OrderLevel.BLUE, OrderLevel.YELLOW, OrderLevel.RED]


class OrderStatus(models.TextChoices):
    """Where an open order's answer stands; CLOSED once the shortfall is made up or the office closes it."""

    AWAITING_REPLY = "awaiting_reply", _("Awaiting the unit's reply")
    REPLIED = "replied", _("Replied, awaiting verification")
    ACCEPTED = "accepted", _("Reply accepted, shortfall still open")
    RETURNED = "returned", _("Reply sent back")
    CLOSED = "closed", _("Closed")


class OrderEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ESCALATED = "escalated", _("Escalated")
    STEPPED_DOWN = "stepped_down", _("Stepped down")
    REPLIED = "replied", _("Replied")
    ACCEPTED = "accepted", _("Reply accepted")
    RETURNED = "returned", _("Reply sent back")
    CLOSED = "closed", _("Closed")
    REMINDED = "reminded", _("Reminded (催办)")


class InterviewStatus(models.TextChoices):
    """A 约谈: opened by the rules, scheduled by the office, closed with the unit head's commitment."""

    TO_SCHEDULE = "to_schedule", _("To be scheduled")
    SCHEDULED = "scheduled", _("Scheduled")
    CLOSED = "closed", _("Closed")


class ChannelKind(models.TextChoices):
    """How a message is delivered: a person's e-mail, or a department group's robot webhook."""

    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom group robot (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk group robot (钉钉)")


ROBOT_KINDS = [ChannelKind.WECOM, ChannelKind.DINGTALK]


class DeliveryAbout(models.TextChoices):
    """What a delivered message is about (with Delivery.object_key, which one)."""

    DIGEST = "digest", _("Daily digest")
    DEADLINE = "deadline", _("Weekly report due")
    SHEET_RETURNED = "sheet_returned", _("Sheet returned")
    RED_ORDER = "red_order", _("Red supervision order")
    REMINDER = "reminder", _("Reminder (催办)")


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
