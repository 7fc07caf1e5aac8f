"""The body of every table, written in Python: django-tables2's template, cell for cell, without its cost.

django-tables2 renders each cell through its template (`{% for column, cell in row.items %}<td {{
column.attrs.td.as_html }}>{{ cell }}</td>`): a template loop, a dozen variable lookups and a fresh
attribute dict per cell, about half of a dashboard page's server CPU. `table_rows` writes the same
markup — the row's attributes, each cell's `td` attributes and its content, localised and escaped as the
template does, the empty text — in one pass. A column's `td` attributes are computed once per table
unless they are callables (which receive the record, as in django-tables2).

Each cell's content is what django-tables2's `BoundRow.get_cell` (3.0.1, pinned) returns, worked out by
`_Column`: what `get_cell` looks up for every cell — the bound column by name (a scan of the columns), the
accessor's model field (for a `get_FOO_display`), the render method's arguments — is looked up once per
column (the field once per record class). tests/test_tables.py compares the two on every dashboard page.
"""

from django import template
from django.db import models
from django_tables2 import utils as tables_utils
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

register = template.Library()


def _has_callables(attrs) -> bool:
    return any(callable(v) or (isinstance(v, dict) and _has_callables(v)) for v in attrs.values())


def _printed(value, localize, context) -> str:
    """{{ cell }}, {{ cell|localize }} or {{ cell|unlocalize }} as the template prints it."""
    value = template_localtime(value, use_tz=context.use_tz)
    if localize is None:
        value = formats.localize(value, use_l10n=context.use_l10n)
    else:
        value = formats.localize(value, use_l10n=bool(localize))
    return conditional_escape(value)


_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")


class _Column:
    """One bound column's cells, as `BoundRow.get_cell` renders them, with its per-cell lookups done once."""

    def __init__(self, bound):
        self.bound = bound
        self.column = bound.column
        self.accessor = tables_utils.Accessor(bound.accessor)
        path, _, self.remainder = self.accessor.rpartition(self.accessor.SEPARATOR)
        self.head = tables_utils.Accessor(path)
        self.render = bound.render
        self.link = bound.link
        self.default = bound.default
        self.many = isinstance(self.column, ManyToManyColumn)
        self.text_link = isinstance(self.column, BaseLinkColumn) and self.column.text is not None
        names, catch_all = tables_utils.signature(self.render)
        # call_with_appropriate: all the arguments to a **kwargs render, else exactly those it names; a
        # render naming one it cannot be given is not called (None).
        self.wanted = None if catch_all else names
        self.callable = catch_all is not None or all(name in _ARGUMENTS for name in names)
        self.fields = {}  # record class → the accessor's model field (get_field follows the classes only)

    def cell(self, row):
        record = row.record
        value = None
        penultimate, remainder = self.head.resolve(record, quiet=True), self.remainder
        if isinstance(penultimate, models.Model):
            kind = type(record)
            if kind not in self.fields:
                self.fields[kind] = self.accessor.get_field(record)
            display = getattr(penultimate, f"get_{remainder}_display", None)
            if getattr(self.fields[kind], "choices", ()) and display:
                value = display()
                remainder = None
        if remainder:
            try:
                value = self.accessor.resolve(record)
            except Exception:
                if self.text_link:
                    return self._rendered(row, None)
        if value in self.column.empty_values or (self.many and not value.exists()):
            return self.default
        return self._rendered(row, value)

    def _rendered(self, row, value):
        given = {"value": value, "record": row.record, "column": self.column, "bound_column": self.bound,
                 "bound_row": row, "table": row.table}
        if not self.callable:
            content = None
        elif self.wanted is None:
            content = self.render(**given)
        else:
            content = self.render(**{name: given[name] for name in self.wanted})
        return self.link(content, **given) if self.link else content


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    columns = [_Column(column) for column in table.columns]
    static_td = {}
    for column in columns:
        raw = {**table.attrs, **column.column.attrs}
        if not _has_callables(raw):
            static_td[column.bound.name] = column.bound.attrs["td"].as_html()
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column in columns:
            bound = column.bound
            cell = column.cell(row)
            td = static_td.get(bound.name)
            if td is None:  # callable attributes receive the record and the cell, as in BoundRow.items
                bound.current_value, bound.current_record = cell, row.record
                td = bound.attrs["td"].as_html()
            cells.append(format_html("<td {}>{}</td>", td, _printed(cell, bound.localize, context)))
        rows.append(format_html("<tr {}>{}</tr>", row.attrs.as_html(), mark_safe("".join(cells))))
    if not rows and table.empty_text:
        rows.append(format_html('<tr><td colspan="{}">{}</td></tr>', len(columns), table.empty_text))
    return mark_safe("\n".join(rows))
