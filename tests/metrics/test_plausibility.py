"""Implausible values against the target need a confirming note, on the sheet and in the Excel preview."""

import datetime
import re
from decimal import Decimal

import pytest

from actions.models import IndicatorDepartment, Plan
from actions.plan_file import PlanFileError, validate_plan
from metrics.models import Figure
from metrics.reporting.parsers import outlier_bounds
from tests.factories import small_plan_data
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url
from tests.metrics.test_excel import download, upload


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


def field_error(html: str, indicator) -> str:
    match = re.search(rf'<p class="field-error" id="err-{indicator.pk}" role="alert">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def add_history(cast, indicator, values):
    for weeks_back, value in enumerate(values, start=1):
        Figure.objects.create(indicator=indicator, department=cast.dept_a, period_start=WEEK - datetime.timedelta(weeks=weeks_back),
                              value=value, entered_at=datetime.datetime(2022, 5, 1, tzinfo=datetime.UTC))


@pytest.fixture
def rectification(cast):
    """督察反馈问题整改销号: a count whose annual target for dept A is 6."""
    ind = indicators(cast.plan)[0]
    type(ind).objects.filter(pk=ind.pk).update(kind="count", name="督察反馈问题整改销号", unit="个")
    IndicatorDepartment.objects.filter(indicator=ind, department=cast.dept_a).update(target_share=6)
    return ind


@pytest.mark.django_db
class PlausibilityTests:
    def test_one_period_above_the_whole_annual_target_asks_for_a_confirming_note(self, client, cast, rectification):
        add_history(cast, rectification, [0, 0, 0, 0, 0, 0])  # all alike: the outlier check sees nothing
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {rectification: "500"}))
        assert response.status_code == 400
        message = field_error(response.content.decode(), rectification)
        assert "500" in message and "全年目标 6" in message and "8333.3" in message and "请填写说明予以确认" in message
        assert not Figure.objects.filter(period_start=WEEK).exists()
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {rectification: ("500", "含历年积案集中销号")}))
        assert response.status_code == 302
        assert Figure.objects.get(period_start=WEEK).value == 500

    def test_a_cumulative_passing_the_plans_multiple_of_the_target_asks_once(self, client, cast):
        ind = indicators(cast.plan)[0]  # dept A's share of the target: 60
        add_history(cast, ind, [12, 12, 13, 13])  # 50 so far
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "20"}))
        assert response.status_code == 400
        message = field_error(response.content.decode(), ind)
        assert "累计将达到 70" in message and "116.7" in message
        # A plan that allows up to 1.5 × the target asks nothing.
        Plan.objects.filter(pk=cast.plan.pk).update(plausible_multiple=Decimal("1.5"))
        assert client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "20"})).status_code == 302

    def test_once_past_the_target_a_usual_period_needs_no_note(self, client, cast):
        ind = indicators(cast.plan)[0]
        add_history(cast, ind, [20, 20, 15, 15])  # 70 of 60 already
        client.force_login(cast.staff_a)
        assert client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "16"})).status_code == 302

    def test_the_excel_preview_remarks_a_jump_past_the_annual_target(self, client, cast):
        ind = indicators(cast.plan)[0]
        add_history(cast, ind, [5, 5, 5])  # too little history for the outlier check
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a)
        book.worksheets[0]["G2"] = 55  # 70 of 60: 116.7 %
        response = upload(client, cast.dept_a, book)
        assert response.status_code == 400
        assert "116.7" in field_error(response.content.decode(), ind)
        book.worksheets[0]["I2"] = "大项目一次性到账"
        response = upload(client, cast.dept_a, book)
        assert response.status_code == 200 and "确认后才会保存" in response.content.decode()

    def test_the_range_shown_never_starts_below_zero_for_an_amount(self, client, cast):
        ind = indicators(cast.plan)[0]
        add_history(cast, ind, [10, 11, 9, 10, 12, 10])
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "30"}))
        assert "（0 至 22.5）" in field_error(response.content.decode(), ind)
        low, _high = outlier_bounds([Decimal(v) for v in ("10", "11", "9", "10", "12", "10")])
        assert low < 0  # a growth rate's range may start below zero


class PlanFilePlausibleMultipleTests:
    def test_the_plan_file_sets_the_multiple_and_refuses_one_below_the_target(self):
        data = small_plan_data()
        data["plan"]["thresholds"]["plausible_multiple"] = 1.5
        assert validate_plan(data)["plan"]["plausible_multiple"] == Decimal("1.5")
        data["plan"]["thresholds"]["plausible_multiple"] = 0.5
        with pytest.raises(PlanFileError) as caught:
            validate_plan(data)
        assert any("plan.thresholds.plausible_multiple" in p for p in caught.value.problems)
