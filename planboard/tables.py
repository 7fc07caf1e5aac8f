"""The base of every table: one look, numbers printed through planboard.formatting."""

import weakref

import django_tables2 as tables
from django_tables2 import utils as tables_utils
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from planboard import formatting

_signature = tables_utils.signature
_signatures = weakref.WeakKeyDictionary()  # function → {bound?: (argument names, ** name)}


def cached_signature(fn):
    """django-tables2 reads a render or value method's signature (inspect.signature) for every cell it
    prints, 12 % of a large page's time; a function's signature never changes, so it is read once per
    function (and once more for its bound form, which drops `self`). Installed below for every table."""
    function = getattr(fn, "__func__", fn)
    try:
        known = _signatures.setdefault(function, {})
    except TypeError:  # neither hashable nor weakly referenced: read it each time, as django-tables2 does
        return _signature(fn)
    bound = function is not fn
    if bound not in known:
        known[bound] = _signature(fn)
    return known[bound]


tables_utils.signature = cached_signature  # call_with_appropriate looks the name up at each call


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
    """A percentage or points figure as planboard.formatting.pct prints it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return formatting.pct(value)

    def value(self, value):
        return formatting.pct(value)
