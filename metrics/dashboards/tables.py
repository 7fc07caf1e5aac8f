"""Tables of the dashboards: the ledger (台账), indicators and departments against schedule, scores and ranks."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actions.models import Task
from metrics.choices import Light
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, IndicatorProgress
from planboard import formatting
from planboard.tables import BaseTable, PctColumn, asof_link


class LightColumn(tables.Column):
    """亮灯: a coloured dot and the light's name; the name alone in exports."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", _("Light"))
        super().__init__(*args, **kwargs)

    def render(self, record, bound_column):
        value = self._raw(record, bound_column)
        label = Light(value).label if value in Light.values else value
        return format_html('<span class="light light-{}"><span class="dot {}"></span>{}</span>', value, value, label)

    def value(self, record, bound_column):
        value = self._raw(record, bound_column)
        return str(Light(value).label) if value in Light.values else value

    @staticmethod
    def _raw(record, bound_column):
        # Model fields with choices come to render() as their display text; the code is needed here.
        return bound_column.accessor.resolve(record)




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
    """Places gained (▲) or lost (▼) since the previous week or month; `change` names the record's property."""

    def __init__(self, *args, change: str = "rank_change", **kwargs):
        kwargs.setdefault("verbose_name", pgettext_lazy("rank", "Change"))
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "num"}})
        self.change = change
        super().__init__(*args, **kwargs)

    def render(self, record):
        change = getattr(record, self.change)
        if change is None:
            return formatting.DASH
        if change > 0:
            return format_html('<span class="up" title="{}">▲{}</span>', _("up"), change)
        if change < 0:
            return format_html('<span class="down" title="{}">▼{}</span>', _("down"), -change)
        return "="

    def value(self, record):
        change = getattr(record, self.change)
        return "" if change is None else f"{change:+d}"


class PenaltyColumn(tables.Column):
    """The points a red-light penalty takes off the score, printed as a deduction."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", _("Red-light penalty"))
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return f"−{formatting.pct(value)}" if value else "0"

    def value(self, value):
        return formatting.pct(-value) if value else "0"


SCORE_FIELDS = [
    "completeness_pct", "timeliness_pct", "attainment_pct", "led_tasks_pct", "milestone_pct", "red", "led_red", "red_penalty",
    "score", "rank", "change", "overall_rank", "overall_change",
]


class ScoreColumns(BaseTable):
    completeness_pct = PctColumn(verbose_name=_("Completeness %"))
    timeliness_pct = PctColumn(verbose_name=_("Timeliness %"))
    attainment_pct = PctColumn(verbose_name=_("Indicators against schedule %"))
    led_tasks_pct = PctColumn(verbose_name=_("Tasks led against schedule %"))
    milestone_pct = PctColumn(verbose_name=_("Milestones on time %"))
    red = tables.Column(verbose_name=_("Red lights"), attrs={"td": {"class": "num"}})
    led_red = tables.Column(verbose_name=_("Red lights in tasks led"), attrs={"td": {"class": "num"}})
    red_penalty = PenaltyColumn()
    score = PctColumn(verbose_name=_("Score"))
    rank = tables.Column(verbose_name=_("Rank in league"), attrs={"td": {"class": "num"}}, default=formatting.DASH)
    change = RankChangeColumn()
    overall_rank = tables.Column(verbose_name=_("Rank among all units"), attrs={"td": {"class": "num"}}, default=formatting.DASH)
    overall_change = RankChangeColumn(change="overall_rank_change")


class DepartmentWeekTable(ScoreColumns):
    """A department's reporting, score and ranks week by week."""

    week = tables.DateColumn(verbose_name=_("Week"), format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = DepartmentScore
        fields = ["week", *SCORE_FIELDS]
        sequence = fields
        orderable = False


class ScoreboardTable(ScoreColumns):
    """比武打擂: every unit's score and ranks (in its league and overall) with every part of the score.

    Rows are DepartmentScore (a week, or the open month's latest week) or MonthlyRanking (a closed month)."""

    department = tables.Column(verbose_name=_("Unit"), linkify=asof_link("metrics:department_detail", "department_id"))
    league = tables.Column(verbose_name=_("League"), accessor="department__get_kind_display", orderable=False)
    led_task_count = tables.Column(verbose_name=_("Tasks led"), attrs={"td": {"class": "num"}})

    LEAGUE_SEQUENCE = [
        "league", "rank", "change", "department", "overall_rank", "overall_change", "score", "attainment_pct",
        "led_tasks_pct", "led_task_count", "milestone_pct", "timeliness_pct", "completeness_pct", "red", "led_red", "red_penalty",
    ]
    OVERALL_SEQUENCE = [
        "overall_rank", "overall_change", "department", "league", "rank", "change", "score", "attainment_pct",
        "led_tasks_pct", "led_task_count", "milestone_pct", "timeliness_pct", "completeness_pct", "red", "led_red", "red_penalty",
    ]

    class Meta(BaseTable.Meta):
        orderable = False

    def __init__(self, *args, overall: bool = False, **kwargs):
        kwargs.setdefault("sequence", self.OVERALL_SEQUENCE if overall else self.LEAGUE_SEQUENCE)
        super().__init__(*args, **kwargs)


class LedgerTable(BaseTable):
    """The ledger (台账): one row per task, with its roll-up and its latest progress note."""

    number = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "num"}}, order_by=("outline_task", "outline_subtask"))
    title = tables.Column(verbose_name=pgettext_lazy("ledger column", "Task"))
    lead_leader = tables.Column(verbose_name=_("Lead leader"))
    departments = tables.Column(verbose_name=_("Responsible units"), accessor="lead_department", order_by=("lead_department__name",))
    deadline = tables.DateColumn(verbose_name=_("Deadline"), format="Y-m-d")
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    light = LightColumn()
    progress = tables.Column(verbose_name=_("Progress"), default="")
    problems = tables.Column(verbose_name=_("Problems"), default="")
    next_steps = tables.Column(verbose_name=_("Next steps"), default="")

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked"}
        model = Task
        fields = ["number", "title", "lead_leader", "departments", "deadline", "completion_pct", "light", "progress", "problems", "next_steps"]
        sequence = fields
        per_page = 25
        row_attrs = {"class": lambda record: "subtask" if record.parent_id else "", "data-task": lambda record: record.outline_number}

    def render_number(self, record):
        return record.outline_number

    def value_number(self, record):
        return record.outline_number

    def render_departments(self, record):
        return self.value_departments(record)

    def value_departments(self, record):
        co = [d.short_name or d.name for d in record.co_departments.all()]
        lead = record.lead_department.short_name or record.lead_department.name
        return lead + (f"（{'、'.join(co)}）" if co else "")


class ActionIndicatorTable(BaseTable):
    """The action's indicators against schedule: the chart's table fallback."""

    indicator = tables.Column(
        verbose_name=_("Indicator"), accessor="indicator__name",
        linkify=asof_link("metrics:indicator_detail", "indicator_id"),
    )
    unit = tables.Column(verbose_name=_("Unit"), accessor="indicator__unit")
    actual = tables.Column(verbose_name=_("Actual"), attrs={"td": {"class": "num"}})
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    schedule_pct = PctColumn(verbose_name=_("Schedule %"))
    gap_pp = PctColumn(verbose_name=_("Gap (points)"))
    light = LightColumn()

    class Meta(BaseTable.Meta):
        model = IndicatorProgress
        fields = ["indicator", "unit", "actual", "completion_pct", "schedule_pct", "gap_pp", "light"]
        sequence = fields
        orderable = False

    def render_actual(self, value):
        return formatting.amount(value)
