import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metrics import formatting
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, Reminder
from planboard.tables import BaseTable, LightColumn, PctColumn, asof_link


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return formatting.amount(value)

    def value(self, value):
        return formatting.amount(value)


class DepartmentProgressColumns(BaseTable):
    """The columns of a DepartmentIndicatorProgress row that both tables below show."""

    target = AmountColumn(verbose_name=_("Target (share)"))
    actual = AmountColumn(verbose_name=_("Actual"))
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    schedule_pct = PctColumn(verbose_name=_("Schedule %"))
    gap_pp = PctColumn(verbose_name=_("Gap (points)"))
    light = LightColumn()
    reports = tables.Column(verbose_name=_("Reports entered / due (on time)"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})

    def render_reports(self, record):
        return f"{record.cells_entered} / {record.cells_due} ({record.cells_on_time})"


class DepartmentProgressTable(DepartmentProgressColumns):
    """An indicator's per-department breakdown (DepartmentIndicatorProgress)."""

    department = tables.Column(verbose_name=_("Department"), linkify=asof_link("metrics:department_detail", "department_id"))

    class Meta(BaseTable.Meta):
        model = DepartmentIndicatorProgress
        fields = ["department", "target", "actual", "completion_pct", "schedule_pct", "gap_pp", "light", "reports"]
        sequence = fields
        orderable = False


class FigureTable(BaseTable):
    """The figures behind an indicator, each linked to its history."""

    period_start = tables.DateColumn(verbose_name=_("Period"), format="Y-m-d")
    department = tables.Column(verbose_name=_("Department"))
    value = tables.Column(verbose_name=_("Value"), attrs={"td": {"class": "num"}})
    entered_at = tables.DateTimeColumn(verbose_name=_("Entered at"), format="Y-m-d H:i")
    history = tables.Column(verbose_name=_("History"), empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = Figure
        fields = ["period_start", "department", "value", "entered_at", "history"]
        sequence = fields
        orderable = False
        per_page = 20

    def render_value(self, record):
        if record.state != "reported":
            return _("Not applicable")
        return formatting.amount(record.value)

    def render_history(self, record):
        return format_html('<a href="{}">{}</a>', reverse("metrics:figure_history", args=[record.pk]), _("History"))


class DepartmentIndicatorTable(DepartmentProgressColumns):
    """A department's indicators (its share of each) at the as-of week."""

    indicator = tables.Column(verbose_name=_("Indicator"), accessor="indicator__name",
                              linkify=asof_link("metrics:indicator_detail", "indicator_id"))
    unit = tables.Column(verbose_name=_("Unit"), accessor="indicator__unit")

    class Meta(BaseTable.Meta):
        model = DepartmentIndicatorProgress
        fields = ["indicator", "unit", "target", "actual", "completion_pct", "schedule_pct", "gap_pp", "light", "reports"]
        sequence = fields
        orderable = False


class RankChangeColumn(tables.Column):
    """Places gained (▲) or lost (▼) since the previous week."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", pgettext_lazy("rank", "Change"))
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, record):
        change = record.rank_change
        if change is None:
            return formatting.DASH
        if change > 0:
            return format_html('<span class="up" title="{}">▲{}</span>', _("up"), change)
        if change < 0:
            return format_html('<span class="down" title="{}">▼{}</span>', _("down"), -change)
        return "="

    def value(self, record):
        change = record.rank_change
        return "" if change is None else f"{change:+d}"


SCORE_FIELDS = ["completeness_pct", "timeliness_pct", "attainment_pct", "milestone_pct", "red", "score", "rank", "change"]


class ScoreColumns(BaseTable):
    completeness_pct = PctColumn(verbose_name=_("Completeness %"))
    timeliness_pct = PctColumn(verbose_name=_("Timeliness %"))
    attainment_pct = PctColumn(verbose_name=_("Indicators against schedule %"))
    milestone_pct = PctColumn(verbose_name=_("Milestones on time %"))
    red = tables.Column(verbose_name=_("Red lights"), attrs={"td": {"class": "num"}})
    score = PctColumn(verbose_name=_("Score"))
    rank = tables.Column(verbose_name=_("Rank"), attrs={"td": {"class": "num"}}, default=formatting.DASH)
    change = RankChangeColumn()


class DepartmentWeekTable(ScoreColumns):
    """A department's reporting, score and rank week by week."""

    week = tables.DateColumn(verbose_name=_("Week"), format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = DepartmentScore
        fields = ["week", *SCORE_FIELDS]
        sequence = fields
        orderable = False


class ScoreboardTable(ScoreColumns):
    """比武打擂: every department's score and rank of one week, with the score's parts."""

    department = tables.Column(verbose_name=_("Department"), linkify=asof_link("metrics:department_detail", "department_id"))

    class Meta(BaseTable.Meta):
        model = DepartmentScore
        fields = ["rank", "change", "department", "score", "attainment_pct", "milestone_pct", "timeliness_pct", "completeness_pct", "red"]
        sequence = fields
        orderable = False


REMIND_FORM = """<form method="post" action="{% url 'metrics:remind' %}" class="remind-form">{% csrf_token %}
<input type="hidden" name="department" value="{{ DEPARTMENT }}"><input type="hidden" name="kind" value="KIND">
<input type="hidden" name="subject" value="{{ SUBJECT }}"><input type="hidden" name="week" value="{{ table.week|date:'Y-m-d' }}">
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


class LaggingTable(SupervisionTable):
    """Indicators with a red or yellow light."""

    indicator = tables.Column(verbose_name=_("Indicator"), accessor="indicator__name",
                              linkify=asof_link("metrics:indicator_detail", "indicator_id"))
    action = tables.Column(verbose_name=_("Action"), accessor="indicator__task__action__codename")
    lead = tables.Column(verbose_name=_("Lead department"), accessor="indicator__task__lead_department__short_name")
    light = LightColumn()
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    schedule_pct = PctColumn(verbose_name=_("Schedule %"))
    gap_pp = PctColumn(verbose_name=_("Gap (points)"))
    remind = remind_column(department="record.indicator.task.lead_department_id", kind="{{ record.light }}", subject="record.indicator.name")

    class Meta(BaseTable.Meta):
        fields = ["indicator", "action", "lead", "light", "completion_pct", "schedule_pct", "gap_pp", "remind"]
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
    created = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    department = tables.Column(verbose_name=_("Department"))
    kind = tables.Column(verbose_name=_("About"))
    subject = tables.Column(verbose_name=_("Subject"))
    week = tables.DateColumn(verbose_name=_("As-of week"), format="Y-m-d")
    reminded_by = tables.Column(verbose_name=_("Reminded by"))

    class Meta(BaseTable.Meta):
        model = Reminder
        fields = ["created", "department", "kind", "subject", "week", "reminded_by"]
        sequence = fields
        orderable = False

    def render_reminded_by(self, value):
        return value.get_full_name() or value.username
