import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metrics import formatting
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure
from planboard.tables import BaseTable, LightColumn, PctColumn


class AmountColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return formatting.amount(value)

    def value(self, value):
        return formatting.amount(value)


class DepartmentProgressTable(BaseTable):
    """An indicator's per-department breakdown (DepartmentIndicatorProgress)."""

    department = tables.Column(verbose_name=_("Department"), linkify=lambda record: reverse("metrics:department_detail", args=[record.department_id]))
    target = AmountColumn(verbose_name=_("Target (share)"))
    actual = AmountColumn(verbose_name=_("Actual"))
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    schedule_pct = PctColumn(verbose_name=_("Schedule %"))
    gap_pp = PctColumn(verbose_name=_("Gap (points)"))
    light = LightColumn()
    reports = tables.Column(verbose_name=_("Reports entered / due (on time)"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})

    class Meta(BaseTable.Meta):
        model = DepartmentIndicatorProgress
        fields = ["department", "target", "actual", "completion_pct", "schedule_pct", "gap_pp", "light", "reports"]
        sequence = fields
        orderable = False

    def render_reports(self, record):
        return f"{record.cells_entered} / {record.cells_due} ({record.cells_on_time})"


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


class DepartmentIndicatorTable(BaseTable):
    """A department's indicators (its share of each) at the as-of week."""

    indicator = tables.Column(verbose_name=_("Indicator"), accessor="indicator__name",
                              linkify=lambda record: reverse("metrics:indicator_detail", args=[record.indicator_id]))
    unit = tables.Column(verbose_name=_("Unit"), accessor="indicator__unit")
    target = AmountColumn(verbose_name=_("Target (share)"))
    actual = AmountColumn(verbose_name=_("Actual"))
    completion_pct = PctColumn(verbose_name=_("Completion %"))
    schedule_pct = PctColumn(verbose_name=_("Schedule %"))
    gap_pp = PctColumn(verbose_name=_("Gap (points)"))
    light = LightColumn()
    reports = tables.Column(verbose_name=_("Reports entered / due (on time)"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})

    class Meta(BaseTable.Meta):
        model = DepartmentIndicatorProgress
        fields = ["indicator", "unit", "target", "actual", "completion_pct", "schedule_pct", "gap_pp", "light", "reports"]
        sequence = fields
        orderable = False

    def render_reports(self, record):
        return f"{record.cells_entered} / {record.cells_due} ({record.cells_on_time})"


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

    department = tables.Column(verbose_name=_("Department"), linkify=lambda record: reverse("metrics:department_detail", args=[record.department_id]))

    class Meta(BaseTable.Meta):
        model = DepartmentScore
        fields = ["rank", "change", "department", "score", "attainment_pct", "milestone_pct", "timeliness_pct", "completeness_pct", "red"]
        sequence = fields
        orderable = False
