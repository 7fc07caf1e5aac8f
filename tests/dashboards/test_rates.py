"""Rates read as rates: actual rate, target rate, gap in points on every table, card, export and chart;
the period of each department's latest rate on the indicator page (numbers an official can act on, item 7)."""

import datetime

import pytest
from django.urls import reverse

from actions.models import Indicator
from metrics.dashboards.tables import (
    ActionIndicatorTable,
    DepartmentIndicatorTable,
    DepartmentProgressTable,
    ProgressColumn,
)
from metrics.management.commands.progress_report import report_row
from metrics.models import Figure, IndicatorProgress
from metrics.rollup.services import rollup_plan_weeks
from metrics.supervision.tables import LaggingTable
from planboard.roles import Role
from tests.conftest import chart_data
from tests.factories import load_small_plan, make_user, small_plan_data

ENTERED = datetime.datetime(2022, 5, 3, tzinfo=datetime.UTC)
RATE_TEXT = "实际 8.7%，目标 10.0%，差 -1.3 个百分点"  # the mean of 9.4 (April) and 8.0 (January)


@pytest.fixture
def rates(db, settings):
    """The small plan with action 1's indicator a monthly growth rate (target 10 %) of departments A
    and B; A reported March and April, B only January. As of 20 May the period due is April."""
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    data = small_plan_data()
    data["actions"][0]["tasks"][0]["indicators"][0].update(
        {"code": "growth", "name": "增加值增速", "unit": "%", "kind": "growth_rate", "annual_target": 10,
         "frequency": "monthly", "departments": [{"department": "dept-a"}, {"department": "dept-b"}]}
    )
    plan = load_small_plan(data)
    indicator = Indicator.objects.get(code="growth")
    for department, month, value in [("dept-a", 3, 9.0), ("dept-a", 4, 9.4), ("dept-b", 1, 8.0)]:
        Figure.objects.create(indicator=indicator, department=indicator.departments.get(code=department),
                              period_start=datetime.date(2022, month, 1), value=value, entered_at=ENTERED)
    rollup_plan_weeks(plan=plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    make_user("leader", role=Role.LEADER)
    make_user("supervisor", role=Role.SUPERVISOR)
    return indicator


def get(client, url, username="leader"):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client.get(url)


@pytest.mark.django_db
class RateProgressTests:
    def test_the_rollup_reads_the_rate_as_the_mean_of_the_latest_rates(self, rates):
        progress = IndicatorProgress.objects.get(indicator=rates, week=datetime.date(2022, 5, 16))
        assert float(progress.actual) == pytest.approx(8.7) and progress.gap_pp == pytest.approx(-1.3)
        # B has not reported April, the period due: behind while a report is missing is 未报, not red.
        assert progress.light == "missing" and not progress.data_complete

    def test_the_supervision_list_prints_actual_target_and_gap_never_completion_beside_schedule(self, client, rates):
        # Once B reports April (8.0, the same mean) the rate is complete and red, so the supervision list shows it.
        Figure.objects.create(indicator=rates, department=rates.departments.get(code="dept-b"),
                              period_start=datetime.date(2022, 4, 1), value=8.0, entered_at=ENTERED)
        rollup_plan_weeks(plan=rates.task.action.plan, first=datetime.date(2022, 5, 16), last=datetime.date(2022, 5, 20))
        html = get(client, reverse("metrics:supervision"), "supervisor").content.decode()
        assert RATE_TEXT in html
        assert "完成 87.0%" not in html and "序时 33.3%" not in html

    def test_the_action_department_and_indicator_tables_print_the_rate_as_a_rate(self, client, rates):
        html = get(client, reverse("metrics:action_detail", args=[1])).content.decode()
        assert RATE_TEXT in html
        dept_a = rates.departments.get(code="dept-a")
        html = get(client, reverse("metrics:department_detail", args=[dept_a.pk])).content.decode()
        assert "实际 9.4%，目标 10.0%，差 -0.6 个百分点" in html
        html = get(client, reverse("metrics:indicator_detail", args=[rates.pk])).content.decode()
        assert "实际 8.0%，目标 10.0%，差 -2.0 个百分点" in html  # department B's row
        assert 'data-field="actual">8.7%<' in html and 'data-field="target">10.0%<' in html
        assert 'data-field="gap_pp">-1.3<' in html
        assert 'data-field="completion_pct"' not in html

    def test_the_indicator_page_shows_each_rates_period_and_flags_the_old_one(self, client, rates):
        response = get(client, reverse("metrics:indicator_detail", args=[rates.pk]))
        rows = {r.record.department.code: r.record for r in response.context["departments"].rows}
        assert rows["dept-a"].latest_period == datetime.date(2022, 4, 1) and not rows["dept-a"].latest_is_old
        assert rows["dept-b"].latest_period == datetime.date(2022, 1, 1) and rows["dept-b"].latest_is_old
        html = response.content.decode()
        assert "2022-01，早于应报期（2022-04）" in html
        assert "2 个单位中有 1 个的最新比率早于应报期（2022-04）" in html

    def test_an_amount_page_has_no_period_column(self, client, cast, settings):
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
        rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 16), last=datetime.date(2022, 5, 20))
        client.force_login(cast.leader)
        indicator = Indicator.objects.get(code="output-1")
        table = client.get(reverse("metrics:indicator_detail", args=[indicator.pk])).context["departments"]
        assert "latest_period" not in [c.name for c in table.columns]

    def test_the_chart_data_of_a_rate_has_its_target_rate_and_no_schedule(self, client, rates):
        data = chart_data(get(client, reverse("metrics:indicator_detail", args=[rates.pk])), "indicator-chart-data")
        assert data["measure"] == "rate"
        assert data["target_to_date"][:3] == [10.0, 10.0, 10.0] and data["actual"][2] == 8.7
        assert set(data["completion"]) == {None} and set(data["schedule"]) == {None}

    def test_the_exports_of_the_tables_print_the_same_words(self, rates):
        rows = IndicatorProgress.objects.filter(indicator=rates, week=datetime.date(2022, 5, 16)).select_related("indicator__task__action", "indicator__task__lead_department")
        header, row = list(LaggingTable(rows).as_values())
        assert row[header.index("进度")] == RATE_TEXT
        assert report_row(rows[0])["progress"] == RATE_TEXT  # progress_report's CSV and JSON


class OneProgressCellTests:
    @pytest.mark.parametrize("table", [LaggingTable, ActionIndicatorTable, DepartmentIndicatorTable, DepartmentProgressTable])
    def test_every_table_of_indicator_progress_uses_the_one_progress_column(self, table):
        columns = table.base_columns
        assert isinstance(columns["progress"], ProgressColumn)
        assert not {"completion_pct", "schedule_pct", "gap_pp"} & set(table._meta.fields)
