"""Cumulative entry (填报1至本月累计值): every path that derives a period amount from a typed cumulative.

The previous cumulative is a SUM over stored figures; SQLite hands it back with trailing zeros
(Decimal('41.7944000000000')), and a derived amount that inherits them fails the field's 4 places.
Each test runs on SQLite here and again on PostgreSQL (the `postgres` subclasses, run by .ci/run).
"""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from actions.models import Department, Indicator
from metrics.models import Figure, ReopenRequest
from metrics.reporting import excel
from metrics.reporting.selectors import cumulative_before
from tests.metrics.reporting import sheet_post, sheet_url

MARCH = datetime.date(2022, 3, 1)
APRIL = datetime.date(2022, 4, 1)


@pytest.fixture
def revenue(demo_plan):
    """工业营业收入 of 电子城 (entered as a cumulative), its staff and the supervisor, on 20 May 2022."""
    indicator = Indicator.objects.get(code="industrial-revenue", task__action__plan=demo_plan)
    department = Department.objects.get(code="electronics-city")
    staff = get_user_model().objects.get(username=f"staff-{department.code}")
    supervisor = get_user_model().objects.filter(groups__name="supervisor").first()
    # Amounts with four places, as staff type them: sums of these are where the trailing zeros come from.
    Figure.objects.filter(indicator=indicator, department=department, period_start__lt=MARCH).update(value=Decimal("20.8972"))
    return indicator, department, staff, supervisor


def reopen(client, staff, supervisor, department, period):
    client.force_login(staff)
    client.post(reverse("metrics:reopen_request"), {"department": department.code, "frequency": "monthly",
                                                     "period": period.isoformat(), "reason": "累计值填错"})
    request = ReopenRequest.objects.get(sheet__department=department, sheet__period_start=period)
    client.force_login(supervisor)
    client.post(reverse("metrics:reopen_decide", args=[request.pk]), {"decision": "grant"})
    client.force_login(staff)


@pytest.mark.django_db
class CumulativeEntryTests:
    def test_it_sums_the_previous_cumulative_to_the_fields_places(self, revenue):
        indicator, department, _staff, _supervisor = revenue
        total = cumulative_before(department=department, indicator_ids=[indicator.pk], frequency="monthly", year=2022, start=MARCH)
        assert total[indicator.pk] == Decimal("41.7944")
        assert total[indicator.pk].as_tuple().exponent == -4

    def test_it_saves_a_corrected_cumulative_of_a_reopened_month(self, client, revenue):
        indicator, department, staff, supervisor = revenue
        reopen(client, staff, supervisor, department, MARCH)
        figure = Figure.objects.get(indicator=indicator, department=department, period_start=MARCH)
        data = sheet_post(department, {indicator: {"value": "100.5", "version": figure.version}}, period=MARCH, frequency="monthly")
        response = client.post(sheet_url(department, period=MARCH, frequency="monthly"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Figure.objects.get(pk=figure.pk).value == Decimal("58.7056")
        page = client.get(sheet_url(department, period=MARCH, frequency="monthly")).content.decode()
        assert 'value="100.5"' in page

    def test_it_saves_the_open_months_cumulative(self, client, revenue):
        indicator, department, staff, _supervisor = revenue
        client.force_login(staff)
        may = datetime.date(2022, 5, 1)
        before = cumulative_before(department=department, indicator_ids=[indicator.pk], frequency="monthly", year=2022, start=may)[indicator.pk]
        typed = before + Decimal("12.3456")
        figure = Figure.objects.filter(indicator=indicator, department=department, period_start=may).first()
        data = sheet_post(department, {indicator: {"value": str(typed), "version": figure.version if figure else 0, "note": "核实"}},
                          period=may, frequency="monthly")
        response = client.post(sheet_url(department, period=may, frequency="monthly"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Figure.objects.get(indicator=indicator, department=department, period_start=may).value == Decimal("12.3456")

    def test_it_previews_an_uploaded_cumulative_of_a_reopened_month(self, client, revenue):
        indicator, department, staff, supervisor = revenue
        reopen(client, staff, supervisor, department, MARCH)
        workbook = client.get(reverse("metrics:xlsx_download") + f"?department={department.code}&frequency=monthly&period=2022-03-01")
        from openpyxl import load_workbook  # only this test reads a workbook

        book = load_workbook(BytesIO(workbook.content))
        data = book.worksheets[0]
        row = next(r for r in data.iter_rows(min_row=2) if r[excel.COL_ID - 1].value == indicator.pk)
        row[excel.COL_VALUE - 1].value = 100.5
        out = BytesIO()
        book.save(out)
        upload = SimpleUploadedFile("sheet.xlsx", out.getvalue())
        response = client.post(reverse("metrics:xlsx_upload"), {"department": department.code, "frequency": "monthly",
                                                                  "period": "2022-03-01", "workbook": upload})
        assert response.status_code == 200, response.content.decode()[:2000]
        assert "100.5" in response.content.decode()


@pytest.mark.postgres
class CumulativeEntryOnPostgresTests(CumulativeEntryTests):
    def test_it_runs_on_postgres(self, db):
        assert connection.vendor == "postgresql"
