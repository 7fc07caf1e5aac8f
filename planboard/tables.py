"""The base of every dashboard table: one look, numbers printed through metrics.formatting."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from metrics import formatting
from metrics.choices import Light


class BaseTable(tables.Table):
    """Every cell carries its column's name (data-label), so a table with the class "stacked" can show
    each row as a card on a phone."""

    def __init__(self, *args, asof_query: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.asof_query = asof_query  # links to other dashboard pages keep the as-of week
        for bound in self.columns:
            td = dict(bound.column.attrs.get("td", {}))
            td["data-label"] = str(bound.header)
            bound.column.attrs = {**bound.column.attrs, "td": td}

    class Meta:
        attrs = {"class": "data-table"}
        template_name = "includes/table.html"
        empty_text = _("Nothing to show.")


def asof_link(viewname: str, key: str):
    """A linkify callable: the dashboard page of the record's `key` (an id), at the table's as-of week."""

    def url(record, table):
        pk = record[key] if isinstance(record, dict) else getattr(record, key)
        target = reverse(viewname, args=[pk])
        return f"{target}?{table.asof_query}" if table.asof_query else target

    return url


class PctColumn(tables.Column):
    """A percentage or points figure as metrics.formatting.pct prints it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return formatting.pct(value)

    def value(self, value):
        return formatting.pct(value)


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
