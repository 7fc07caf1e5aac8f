"""The base table: django-tables2 reads each render method's signature once, not once per cell, and its body
is written in Python with the markup django-tables2's template writes."""

import datetime
import inspect
import re
from decimal import Decimal
from unittest import mock

import django_tables2 as tables
import pytest
from django.contrib.auth.models import AnonymousUser
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


class Mixed(BaseTable):
    """Cells of every kind the body writer must print as django-tables2's template does."""

    name = tables.Column(attrs={"td": {"class": lambda record: "late" if record["late"] else "on-time"}})
    amount = tables.Column(localize=True)
    plain = tables.Column(localize=False)
    day = tables.DateColumn()
    link = tables.Column(linkify=lambda record: f"/x/{record['amount']}/")
    markup = tables.Column()

    class Meta(BaseTable.Meta):
        fields = ["name", "amount", "plain", "day", "link", "markup"]
        row_attrs = {"data-late": lambda record: int(record["late"])}


def tbody(html: str) -> str:
    body = html[html.index("<tbody"): html.index("</tbody>")]
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", body)).strip()


@pytest.mark.django_db
class TableBodyTests:
    """templates/includes/table.html writes the body in Python (planboard_tables.table_rows): the same markup."""

    def rendered(self, template_name, data, settings):
        settings.USE_THOUSAND_SEPARATOR = True
        table = Mixed(data or [], template_name=template_name)
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        return table.as_html(request)

    def test_it_prints_what_django_tables2s_template_prints(self, settings):
        rows = [
            {"name": "<b>甲</b> & 乙", "amount": Decimal("12345.5"), "plain": 12345, "day": datetime.date(2022, 6, 30),
             "link": "详情", "markup": "a < b", "late": True},
            {"name": "丙", "amount": None, "plain": None, "day": None, "link": None, "markup": "", "late": False},
        ]
        ours = tbody(self.rendered(None, rows, settings))
        theirs = tbody(self.rendered("django_tables2/table.html", rows, settings))
        assert ours == theirs
        assert 'class="late"' in ours and 'data-late="1"' in ours and "&lt;b&gt;甲&lt;/b&gt; &amp; 乙" in ours

    def test_an_empty_table_says_so_as_django_tables2_does(self, settings):
        ours = tbody(self.rendered(None, [], settings))
        assert ours == tbody(self.rendered("django_tables2/table.html", [], settings))
        assert f'colspan="6">{Mixed([]).empty_text}<' in ours


@pytest.mark.django_db
class CellsTests:
    """planboard_tables._Column works out each cell as django-tables2's BoundRow.get_cell does: every table of
    every page of the demo, for an official and for a unit's staff (who see fewer notes), prints the same
    with django-tables2's own cells."""

    def pages(self, plan):
        from actions.models import Department, Indicator

        urls = ["/dashboards/rankings/", "/dashboards/rankings/?view=monthly", "/dashboards/rankings/?by=all",
                "/supervision/", "/supervision/orders/", "/notifications/deliveries/"]
        for number in range(1, 9):
            urls += [f"/dashboards/actions/{number}/", f"/dashboards/actions/{number}/?sort=-completion_pct&i-page=2",
                     f"/dashboards/actions/{number}/?week=2022-03-07"]
        urls += [f"/dashboards/indicators/{pk}/" for pk in Indicator.objects.filter(task__action__plan=plan)
                 .order_by("pk").values_list("pk", flat=True)[:12]]
        urls += [f"/dashboards/departments/{pk}/" for pk in Department.objects.order_by("pk").values_list("pk", flat=True)]
        return urls

    def test_every_pages_cells_are_django_tables2s(self, client, demo_plan, monkeypatch):
        from django.contrib.auth import get_user_model

        from planboard.templatetags import planboard_tables

        def html(url, status):
            response = client.get(url)
            assert response.status_code == status, url
            return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

        compared = 0
        for username in ("supervisor", "staff-industry"):
            client.force_login(get_user_model().objects.get(username=username))
            for url in self.pages(demo_plan):
                # The delivery log is the supervision office's: the staff member's answer is a 403 either way.
                status = 403 if username != "supervisor" and url.startswith("/notifications/") else 200
                ours = html(url, status)
                with monkeypatch.context() as patch:
                    patch.setattr(planboard_tables._Column, "cell", lambda self, row: row.get_cell(self.bound.name))
                    theirs = html(url, status)
                assert ours == theirs, url
                compared += ours.count("<td ")
        assert compared > 5000  # the pages had cells to compare
