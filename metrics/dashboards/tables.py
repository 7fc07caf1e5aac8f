"""Tables of the dashboards: the ledger (台账), indicators and departments against schedule, scores and ranks."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actions.choices import IndicatorKind, TaskStatus
from actions.models import Task
from metrics.choices import CloseOffStatus, ExtensionStatus, Light
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




class ReportedColumn(tables.Column):
    """单位已报: of the departments expected, how many reported the latest period due; 数据不全 until all have."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", _("Latest period"))
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, record):
        progress = record
        text = self.value(record)
        if progress.data_complete:
            return text
        return format_html('{} <span class="badge incomplete">{}</span>', text, _("incomplete"))

    def value(self, record):
        progress = record
        if progress.indicator.kind == IndicatorKind.MILESTONE:
            return formatting.DASH
        return _("%(reported)s / %(expected)s reported") % {
            "reported": progress.departments_reported, "expected": progress.departments_expected,
        }


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return formatting.amount(value)

    def value(self, value):
        return formatting.amount(value)


class ValueColumn(AmountColumn):
    """An actual or target of a progress row: an amount as entered, a rate as a percentage (12.0%), so
    that a rate never reads as a cumulative amount. The record needs its `indicator` loaded."""

    def render(self, value, record):
        return self.value(value, record)

    def value(self, value, record):
        if record.indicator.is_rate:
            return formatting.DASH if value is None else f"{formatting.pct(float(value))}%"
        return formatting.amount(value)


class ProgressColumn(tables.Column):
    """进度: an indicator's (or one department's) stored progress read for the indicator's measure, the
    one cell of every table that shows an indicator's progress, on the page and in exports.

    Amounts and counts: "完成 x%，序时 y%，差 ±g 个百分点"; rates: "实际 a%，目标 t%，差 ±g 个百分点" (never a
    completion % beside 序时); caps and milestones in their own words (planboard.formatting.progress).
    The record needs its `indicator` loaded (select_related).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", pgettext_lazy("indicator progress", "Progress"))
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        super().__init__(*args, **kwargs)

    def render(self, record):
        return format_html('<span class="progress" data-measure="{}">{}</span>', record.indicator.measure, self.value(record))

    def value(self, record):
        return formatting.progress(record.indicator.measure, record)


class LatestPeriodColumn(tables.Column):
    """The period of a department's latest reported figure (a rate's year-to-date period), flagged when
    it is older than the period due (selectors.with_latest_period annotates both)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("verbose_name", _("Latest figure for"))
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        super().__init__(*args, **kwargs)

    def value(self, record):
        frequency = record.indicator.frequency
        if record.latest_period is None:
            return _("Not reported")
        text = formatting.period(record.latest_period, frequency)
        if record.latest_is_old:
            return _("%(period)s, older than the period due (%(due)s)") % {
                "period": text, "due": formatting.period(record.due_period, frequency),
            }
        return text

    def render(self, record):
        if record.latest_period is None or record.latest_is_old:
            return format_html('<span class="stale-period">{}</span>', self.value(record))
        return self.value(record)


class DepartmentProgressColumns(BaseTable):
    """The columns of a DepartmentIndicatorProgress row that both tables below show."""

    target = ValueColumn(verbose_name=_("Target (share or rate)"))
    actual = ValueColumn(verbose_name=pgettext_lazy("indicator value", "Actual"))
    progress = ProgressColumn()
    light = LightColumn()
    reports = tables.Column(verbose_name=_("Reports entered / due (on time)"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})

    def render_reports(self, record):
        counts = f"{record.cells_entered} / {record.cells_due} ({record.cells_on_time})"
        if record.latest_reported:
            return counts
        return format_html('{} <span class="badge incomplete">{}</span>', counts, _("latest period not reported"))

    def value_reports(self, record):
        counts = f"{record.cells_entered} / {record.cells_due} ({record.cells_on_time})"
        return counts if record.latest_reported else f"{counts} {_('latest period not reported')}"


class DepartmentProgressTable(DepartmentProgressColumns):
    """An indicator's per-department breakdown (DepartmentIndicatorProgress); for a rate, the period of
    each department's latest rate, since the indicator-wide rate is their mean however old."""

    department = tables.Column(verbose_name=_("Department"), linkify=asof_link("metrics:department_detail", "department_id"))
    latest_period = LatestPeriodColumn()

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked"}  # a card per row on a phone: the progress words need the width
        model = DepartmentIndicatorProgress
        fields = ["department", "target", "actual", "latest_period", "progress", "light", "reports"]
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
        attrs = {"class": "data-table stacked"}  # a card per row on a phone: the progress words need the width
        model = DepartmentIndicatorProgress
        fields = ["indicator", "unit", "target", "actual", "progress", "light", "reports"]
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
    """The points a penalty (red lights, supervision orders) takes off the score, printed as a deduction."""

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
    "order_penalty", "score", "rank", "change", "overall_rank", "overall_change",
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
    order_penalty = PenaltyColumn(verbose_name=_("Supervision penalty (督办单, 约谈)"))
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
        "order_penalty",
    ]
    OVERALL_SEQUENCE = [
        "overall_rank", "overall_change", "department", "league", "rank", "change", "score", "attainment_pct",
        "led_tasks_pct", "led_task_count", "milestone_pct", "timeliness_pct", "completeness_pct", "red", "led_red", "red_penalty",
        "order_penalty",
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
    closeoff = tables.Column(verbose_name=_("Close-off / extension"), empty_values=(), orderable=False)
    # The task's weighted progress against schedule, the number its stored light is given from (a
    # weighted completion % would mix amounts with rates and milestones).
    attainment_pct = PctColumn(verbose_name=_("Done against schedule %"))
    light = LightColumn()
    progress = tables.Column(verbose_name=_("Progress"), default="")
    problems = tables.Column(verbose_name=_("Problems"), default="")
    next_steps = tables.Column(verbose_name=_("Next steps"), default="")

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked ledger"}
        model = Task
        fields = [
            "number", "title", "lead_leader", "departments", "deadline", "attainment_pct", "light", "closeoff", "progress", "problems",
            "next_steps",
        ]
        sequence = fields
        per_page = 25
        row_attrs = {"class": lambda record: "subtask" if record.parent_id else "", "data-task": lambda record: record.outline_number}

    def render_number(self, record):
        return record.outline_number

    def value_number(self, record):
        return record.outline_number

    def render_departments(self, record):
        return self.value_departments(record)

    def render_deadline(self, value, record):
        # Exports keep the date itself; the deadline it was extended from is in the 销号/延期 column's value.
        if record.extended_from:
            return _("%(day)s (extended from %(old)s)") % {"day": value.isoformat(), "old": record.extended_from.isoformat()}
        return value.isoformat()

    def value_deadline(self, value):
        return value.isoformat()

    def render_closeoff(self, record):
        states = self.closeoff_states(record)
        badges = format_html_join(" ", '<span class="badge closeoff-{}">{}</span>', states)
        link = format_html('<a href="{}" class="closeoff-link">{}</a>', reverse("metrics:task_closeoff", args=[record.pk]), _("close-off / extension"))
        return format_html("{} {}", badges, link) if states else link

    def value_closeoff(self, record):
        texts = [str(text) for _code, text in self.closeoff_states(record)]
        if record.extended_from:
            texts.append(str(_("extended from %(old)s") % {"old": record.extended_from.isoformat()}))
        return "、".join(texts)

    @staticmethod
    def closeoff_states(record) -> list[tuple[str, str]]:
        """The task's 销号 and 延期 state in words, (css code, text): 已销号, 销号待核, 销号退回, 延期待批, 延期未批."""
        states = []
        if record.status == TaskStatus.CLOSED:
            states.append(("closed", _("Closed off (已销号)")))
        elif record.closeoff_status == CloseOffStatus.PENDING:
            states.append(("pending", _("Close-off pending")))
        elif record.closeoff_status == CloseOffStatus.RETURNED:
            states.append(("returned", _("Close-off sent back")))
        if record.extension_status == ExtensionStatus.PENDING:
            states.append(("pending", _("Extension pending")))
        elif record.extension_status == ExtensionStatus.REFUSED:
            states.append(("refused", _("Extension refused")))
        return states

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
    actual = ValueColumn(verbose_name=pgettext_lazy("indicator value", "Actual"))
    progress = ProgressColumn()
    light = LightColumn()
    reported = ReportedColumn()

    class Meta(BaseTable.Meta):
        attrs = {"class": "data-table stacked"}  # a card per row on a phone: the progress words need the width
        model = IndicatorProgress
        fields = ["indicator", "unit", "actual", "progress", "light", "reported"]
        sequence = fields
        orderable = False
