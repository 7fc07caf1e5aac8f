"""Tables of the supervision page: lagging indicators, overdue milestones, missing reports, each with 催办."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metrics.dashboards.tables import LightColumn, ProgressColumn, ReportedColumn
from metrics.models import Reminder
from metrics.supervision.orders import order_subject
from planboard.tables import BaseTable, asof_link

REMIND_FORM = """<form method="post" action="{% url 'metrics:remind' %}" class="remind-form">{% csrf_token %}
<input type="hidden" name="department" value="{{ DEPARTMENT }}"><input type="hidden" name="kind" value="KIND">
<input type="hidden" name="subject" value="{{ SUBJECT }}"><input type="hidden" name="week" value="{{ week|date:'Y-m-d' }}">
<button type="submit" class="button-small">{{ remind_label }}</button></form>"""


def remind_column(*, department: str, kind: str, subject: str):
    """A 催办 button per row (POST to metrics:remind); the view shows it to supervisors only."""
    code = REMIND_FORM.replace("DEPARTMENT", department).replace("KIND", kind).replace("SUBJECT", subject)
    return tables.TemplateColumn(
        template_code=code, verbose_name=_("Remind (催办)"), orderable=False, extra_context={"remind_label": _("Remind")}
    )


class SupervisionTable(BaseTable):
    """Supervision lists carry the as-of week for their 催办 buttons, which only supervisors get."""

    def __init__(self, *args, week=None, can_remind=False, **kwargs):
        if not can_remind:
            kwargs["exclude"] = ("remind",)
        super().__init__(*args, **kwargs)
        self.week = week
        if can_remind:
            # Each table has its own copy of its columns: the buttons post this table's as-of week.
            self.columns["remind"].column.extra_context["week"] = week


class LaggingTable(SupervisionTable):
    """Indicators with a red or yellow light."""

    indicator = tables.Column(verbose_name=_("Indicator"), accessor="indicator__name",
                              linkify=asof_link("metrics:indicator_detail", "indicator_id"))
    action = tables.Column(verbose_name=_("Action"), accessor="indicator__task__action__codename")
    lead = tables.Column(verbose_name=_("Lead department"), accessor="indicator__task__lead_department__short_name")
    light = LightColumn()
    progress = ProgressColumn()
    reported = ReportedColumn()
    remind = remind_column(department="record.indicator.task.lead_department_id", kind="{{ record.light }}", subject="record.indicator.name")

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked"}  # a card per row on a phone: the progress words need the width
        fields = ["indicator", "action", "lead", "light", "progress", "reported", "remind"]
        sequence = fields
        orderable = False
        per_page = 50


class OverdueMilestoneTable(SupervisionTable):
    task = tables.Column(verbose_name=pgettext_lazy("ledger column", "Task"), accessor="task__title")
    title = tables.Column(verbose_name=_("Milestone"))
    planned_date = tables.DateColumn(verbose_name=_("Planned date"), format="Y-m-d")
    lead = tables.Column(verbose_name=_("Lead department"), accessor="task__lead_department__short_name")
    remind = remind_column(department="record.task.lead_department_id", kind="overdue_milestone", subject="record.task.title")

    class Meta(BaseTable.Meta):
        fields = ["task", "title", "planned_date", "lead", "remind"]
        sequence = fields
        orderable = False
        per_page = 50


class MissingReportsTable(SupervisionTable):
    department = tables.Column(verbose_name=_("Department"), accessor="department__name",
                               linkify=asof_link("metrics:department_detail", "department_id"))
    due = tables.Column(verbose_name=_("Reports due this period"), attrs={"td": {"class": "num"}})
    entered = tables.Column(verbose_name=_("Reports entered this period"), attrs={"td": {"class": "num"}})
    missing = tables.Column(verbose_name=_("Missing"), attrs={"td": {"class": "num"}})
    remind = remind_column(department="record.department_id", kind="missing_report", subject="record.missing")

    class Meta(BaseTable.Meta):
        fields = ["department", "due", "entered", "missing", "remind"]
        sequence = fields
        orderable = False


class ReminderTable(BaseTable):
    reminded_at = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    department = tables.Column(verbose_name=_("Department"))
    kind = tables.Column(verbose_name=_("About"))
    subject = tables.Column(verbose_name=_("Subject"))
    week = tables.DateColumn(verbose_name=_("As-of week"), format="Y-m-d")
    reminded_by = tables.Column(verbose_name=_("Reminded by"))
    delivery = tables.Column(verbose_name=_("Sent"), accessor="pk", orderable=False)

    class Meta(BaseTable.Meta):
        model = Reminder
        fields = ["reminded_at", "department", "kind", "subject", "week", "reminded_by", "delivery"]
        sequence = fields
        orderable = False

    def render_reminded_by(self, value):
        return value.get_full_name() or value.username

    def render_delivery(self, record):
        """How the 催办 went out (the delivery log has each message): delivered and failed counts."""
        delivered, failed = getattr(record, "delivered", 0), getattr(record, "failed", 0)
        if not delivered and not failed:
            return _("Not sent (no channel)")
        text = _("%(n)s delivered") % {"n": delivered}
        if failed:
            return format_html('{} · <span class="delivery-failed">{}</span>', text, _("%(n)s failed") % {"n": failed})
        return text


class OrderLevelColumn(tables.Column):
    """督办单 level: a coloured badge and its name; the name alone in exports."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", _("Level"))
        super().__init__(*args, **kwargs)

    def render(self, record):
        return format_html('<span class="order-level order-{}">{}</span>', record.level, record.get_level_display())

    def value(self, record):
        return str(record.get_level_display())


class OrderTable(BaseTable):
    level = OrderLevelColumn(accessor="level")
    subject = tables.Column(verbose_name=_("Subject"), accessor="pk", linkify=lambda record: record.get_absolute_url())
    department = tables.Column(verbose_name=_("Unit"), accessor="department__short_name")
    reason = tables.Column(verbose_name=_("Reason"))
    issued_on = tables.DateColumn(verbose_name=_("Issued on"), format="Y-m-d")
    deadline = tables.Column(verbose_name=_("Reply due by"))
    status = tables.Column(verbose_name=_("Status"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked orders"}
        fields = ["level", "subject", "department", "reason", "issued_on", "deadline", "status"]
        sequence = fields
        orderable = False
        per_page = 50

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def render_subject(self, record):
        return order_subject(record)

    def render_deadline(self, record):
        late = record.is_open and record.status in ("awaiting_reply", "returned") and self.today and record.deadline < self.today
        if late:
            return format_html('<span class="late">{} · {}</span>', record.deadline.isoformat(), _("overdue"))
        return record.deadline.isoformat()

    def render_status(self, record):
        if record.closed_on:
            return format_html("{} {}", record.get_status_display(), record.closed_on.isoformat())
        return record.get_status_display()


class InterviewTable(BaseTable):
    department = tables.Column(verbose_name=_("Unit"), accessor="department__name")
    reason = tables.Column(verbose_name=_("Reason"))
    opened_on = tables.DateColumn(verbose_name=_("Opened on"), format="Y-m-d")
    status = tables.Column(verbose_name=_("Status"))
    scheduled_for = tables.DateTimeColumn(verbose_name=_("Scheduled for"), format="Y-m-d H:i")
    place = tables.Column(verbose_name=_("Place"))
    commitment = tables.Column(verbose_name=_("Rectification commitment (整改承诺)"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked"}
        fields = ["department", "reason", "opened_on", "status", "scheduled_for", "place", "commitment"]
        sequence = fields
        orderable = False

    def render_department(self, record):
        url = reverse("metrics:interview_detail", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, record.department.name)
