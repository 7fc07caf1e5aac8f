"""Correcting an indicator entered as a cumulative: the typed cumulative stays the figure of record.

The whole path goes through the pages: staff enter January to April as each month's report falls due,
ask to reopen March, the supervision office grants, staff correct March.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from actions.models import Indicator, IndicatorDepartment
from metrics.models import DepartmentIndicatorProgress, Figure, ReopenRequest
from tests.metrics.reporting import TODAY, indicators, sheet_post, sheet_url

MONTHS = [datetime.date(2022, m, 1) for m in (1, 2, 3, 4)]
MARCH = MONTHS[2]


@pytest.fixture
def cumulative(cast, client, settings):
    """Indicator entered as a monthly cumulative; dept A typed 10, 25, 45, 70 as each month was due."""
    ind = indicators(cast.plan)[0]
    Indicator.objects.filter(pk=ind.pk).update(frequency="monthly", entry_mode="cumulative")
    # A target of 100 for dept A, so that 70 (or 80) is plausible and only the cumulative rule speaks.
    IndicatorDepartment.objects.filter(indicator=ind, department=cast.dept_a).update(target_share=100)
    client.force_login(cast.staff_a)
    for month, typed in zip(MONTHS, ["10", "25", "45", "70"]):
        settings.PLANBOARD_TODAY = (month + datetime.timedelta(days=32)).replace(day=3)
        response = client.post(sheet_url(cast.dept_a, month, "monthly"), sheet_post(cast.dept_a, {ind: typed}, period=month, frequency="monthly"))
        assert response.status_code == 302, response.content.decode()
    settings.PLANBOARD_TODAY = TODAY
    return ind


def amounts(ind, department):
    return [f.value for f in Figure.objects.filter(indicator=ind, department=department).order_by("period_start")]


def reopen_march(client, cast):
    client.force_login(cast.staff_a)
    url = reverse("metrics:reopen_request")
    data = {"department": cast.dept_a.code, "frequency": "monthly", "period": MARCH.isoformat(), "reason": "统计局反馈3月数据有误"}
    assert client.post(url, data).status_code == 302
    request = ReopenRequest.objects.get()
    client.force_login(cast.supervisor)
    assert client.post(reverse("metrics:reopen_decide", args=[request.pk]), {"decision": "grant"}).status_code == 302
    client.force_login(cast.staff_a)


def correct_march(client, cast, ind, typed):
    version = Figure.objects.get(indicator=ind, department=cast.dept_a, period_start=MARCH).version
    return client.post(
        sheet_url(cast.dept_a, MARCH, "monthly"),
        sheet_post(cast.dept_a, {ind: {"value": typed, "version": version}}, period=MARCH, frequency="monthly"),
    )


def field_error(html: str, indicator) -> str:
    match = re.search(rf'<p class="field-error" id="err-{indicator.pk}" role="alert">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def check_the_correction_keeps_the_latest_cumulative(client, cast, ind, django_capture_on_commit_callbacks):
    assert amounts(ind, cast.dept_a) == [10, 15, 20, 25]
    reopen_march(client, cast)
    with django_capture_on_commit_callbacks(execute=True):
        response = correct_march(client, cast, ind, "50")
    assert response.status_code == 302
    assert amounts(ind, cast.dept_a) == [10, 15, 25, 20]
    assert sum(amounts(ind, cast.dept_a)) == Decimal("70")  # the latest typed cumulative
    april = Figure.objects.get(indicator=ind, department=cast.dept_a, period_start=MONTHS[3])
    assert april.version == 2
    records = list(april.history.order_by("history_date", "history_id"))
    assert [r.value for r in records] == [25, 20]
    assert records[-1].history_user == cast.staff_a and "2022-03" in records[-1].history_change_reason
    # The sheets still show what staff typed.
    html = client.get(sheet_url(cast.dept_a, MONTHS[3], "monthly")).content.decode()
    assert f'name="v-{ind.pk}" id="v-{ind.pk}" value="70"' in html
    # Rolled up from the earliest period touched: the week judging March, and this week.
    week_of_april_4 = DepartmentIndicatorProgress.objects.get(indicator=ind, department=cast.dept_a, week=datetime.date(2022, 4, 4))
    this_week = DepartmentIndicatorProgress.objects.get(indicator=ind, department=cast.dept_a, week=datetime.date(2022, 5, 16))
    assert week_of_april_4.actual == 50 and this_week.actual == 70


@pytest.mark.django_db
class CumulativeCorrectionTests:
    def test_it_rederives_the_later_amounts_so_the_actual_is_the_latest_typed_cumulative(
        self, client, cast, cumulative, django_capture_on_commit_callbacks
    ):
        check_the_correction_keeps_the_latest_cumulative(client, cast, cumulative, django_capture_on_commit_callbacks)

    def test_it_refuses_a_correction_above_a_later_cumulative_naming_that_period(self, client, cast, cumulative):
        reopen_march(client, cast)
        response = correct_march(client, cast, cumulative, "80")
        assert response.status_code == 400
        message = field_error(response.content.decode(), cumulative)
        assert "2022-04" in message and "70" in message
        assert amounts(cumulative, cast.dept_a) == [10, 15, 20, 25]

    def test_a_correction_to_not_applicable_moves_the_amount_to_the_next_reported_period(self, client, cast, cumulative):
        reopen_march(client, cast)
        version = Figure.objects.get(indicator=cumulative, period_start=MARCH).version
        response = client.post(
            sheet_url(cast.dept_a, MARCH, "monthly"),
            sheet_post(cast.dept_a, {cumulative: {"na": True, "note": "3月停产", "version": version}}, period=MARCH, frequency="monthly"),
        )
        assert response.status_code == 302
        assert [f.value for f in Figure.objects.filter(indicator=cumulative).order_by("period_start")] == [10, 15, None, 45]

    def test_a_period_entry_indicator_is_left_as_it_is(self, client, cast, cumulative):
        Indicator.objects.filter(pk=cumulative.pk).update(entry_mode="period")
        reopen_march(client, cast)
        assert correct_march(client, cast, cumulative, "30").status_code == 302
        assert amounts(cumulative, cast.dept_a) == [10, 15, 30, 25]


@pytest.mark.postgres
@pytest.mark.django_db
class CumulativeCorrectionPostgresTests:
    """The same path on PostgreSQL, whose figure update is one UPDATE … FROM (VALUES …) with its history rows."""

    def test_it_rederives_the_later_amounts_on_postgresql(self, client, cast, cumulative, django_capture_on_commit_callbacks):
        assert connection.vendor == "postgresql"
        check_the_correction_keeps_the_latest_cumulative(client, cast, cumulative, django_capture_on_commit_callbacks)
