import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from metrics import formatting
from metrics.models import DepartmentIndicatorProgress, Figure
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

    department = tables.Column(verbose_name=_("Department"))
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
