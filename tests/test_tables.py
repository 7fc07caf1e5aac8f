"""The base table: django-tables2 reads each render method's signature once, not once per cell."""

import inspect
from unittest import mock

import django_tables2 as tables
from django.test import RequestFactory
from django_tables2 import utils as tables_utils

from planboard.tables import BaseTable, _signature, cached_signature


class Numbers(BaseTable):
    number = tables.Column()
    double = tables.Column(empty_values=())

    def render_double(self, record):
        return record["number"] * 2

    class Meta(BaseTable.Meta):
        fields = ["number", "double"]


def render(table):
    table.request = RequestFactory().get("/")
    return [[cell for cell in row] for row in table.rows]


class CachedSignatureTests:
    def test_it_is_what_call_with_appropriate_uses(self):
        assert tables_utils.signature is cached_signature

    def test_it_says_what_inspect_says(self):
        class Column:
            def render(self, value, record):
                pass

            def value(self, **kwargs):
                pass

            def __call__(self, table, *args):
                pass

        column = Column()
        for fn in (column.render, Column.render, column.value, column, lambda record: None, print):
            assert cached_signature(fn) == _signature(fn)
            assert cached_signature(fn) == _signature(fn)  # and again, from the cache

    def test_it_reads_each_signature_once_whatever_the_number_of_cells(self):
        rows = [{"number": n} for n in range(50)]
        with mock.patch("inspect.signature", wraps=inspect.signature) as spy:
            assert render(Numbers(rows))[:2] == [[0, 0], [1, 2]]
            first = spy.call_count
            render(Numbers(rows))
        assert first <= 4  # one per render method met, not one per cell (100 cells)
        assert spy.call_count == first  # a second table of the same class asks nothing
