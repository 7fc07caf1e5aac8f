import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actions.models import Task
from metrics import formatting
from metrics.models import IndicatorProgress
from planboard.tables import BaseTable, LightColumn, PctColumn, asof_link


class LedgerTable(BaseTable):
    """The ledger (台账): one row per task, with its roll-up and its latest progress note."""

    number = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "num"}})
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
