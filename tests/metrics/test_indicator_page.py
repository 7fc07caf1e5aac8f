"""The indicator page: numbers as progress_report prints them, departments, pace, explanation, figures."""

import datetime

import pytest
from django.urls import reverse

from actions.models import Indicator
from metrics.dashboards.explanations import REASONS
from metrics.management.commands.progress_report import report_row
from metrics.models import Figure, IndicatorProgress
from metrics.rollup.services import rollup_plan_weeks
from tests.conftest import chart_data, count_queries


@pytest.fixture
def rolled(cast, settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    indicator = Indicator.objects.get(code="output-1")
    for week, value in [(datetime.date(2022, 5, 2), 10), (datetime.date(2022, 5, 9), 5)]:
        Figure.objects.create(indicator=indicator, department=cast.dept_a, period_start=week, value=value,
                              entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    cast.indicator = indicator
    return cast


def url(indicator, **query):
    return reverse("metrics:indicator_detail", args=[indicator.pk])


@pytest.mark.django_db
class IndicatorPageTests:
    def test_its_numbers_are_progress_reports(self, client, rolled):
        client.force_login(rolled.leader)
        for week in ["2022-05-09", "2022-05-16"]:
            progress = IndicatorProgress.objects.get(indicator=rolled.indicator, week=week)
            row = report_row(progress)
            html = client.get(url(rolled.indicator), {"week": week}).content.decode()
            for key in ["annual_target", "actual", "completion_pct", "schedule_pct", "gap_pp", "attainment_pct",
                        "recent_pace", "required_pace_half", "required_pace_year", "forecast_checkpoint"]:
                assert f'data-field="{key}">{row[key]}<' in html, (week, key, row[key])
        assert row["actual"] == "15"

    def test_it_breaks_down_by_department_and_lists_figures_with_history_links(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(url(rolled.indicator))
        html = response.content.decode()
        assert [r.record.department.code for r in response.context["departments"].rows] == ["dept-a", "dept-b"]
        first = response.context["departments"].rows[0].record
        assert f"{first.cells_entered} / {first.cells_due} ({first.cells_on_time})" in html
        assert ">60<" in html  # department A's share of the target
        for figure in Figure.objects.filter(indicator=rolled.indicator):
            assert reverse("metrics:figure_history", args=[figure.pk]) in html

    def test_it_explains_completion_and_light_for_its_kind(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(url(rolled.indicator))
        text = " ".join(response.context["explanation"])
        assert "15 ÷ 100 = 15.0%" in text
        assert "5 个百分点" in text or "5 points" in text

    def test_it_says_why_there_is_no_value(self, client, rolled):
        client.force_login(rolled.leader)
        other = Indicator.objects.get(code="output-2")  # no figures at all
        response = client.get(url(other))
        assert response.context["progress"].reason == "no_figures"
        assert str(REASONS["no_figures"]) in response.content.decode()

    def test_every_reason_code_has_a_chinese_explanation(self):
        from django.utils import translation

        for code, text in REASONS.items():
            with translation.override("en"):
                english = str(text)
            with translation.override("zh-hans"):
                assert str(text) != english, code

    def test_the_chart_data_runs_to_the_checkpoint(self, client, rolled):
        client.force_login(rolled.leader)
        data = chart_data(client.get(url(rolled.indicator), {"week": "2022-05-09"}), "indicator-chart-data")
        assert data["labels"][:2] == ["2022-05-02", "2022-05-09"] and data["labels"][-1] == "2022-06-27"
        assert data["actual"][:2] == [10.0, 15.0] and data["actual"][2] is None
        assert data["checkpoint"] == "2022-06-30"

    def test_an_indicator_of_another_plan_or_none_is_404(self, client, rolled):
        client.force_login(rolled.leader)
        assert client.get(reverse("metrics:indicator_detail", args=[99999])).status_code == 404


@pytest.mark.django_db
class IndicatorPageAccessTests:
    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_every_role_reads_it(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        assert client.get(url(rolled.indicator)).status_code == 200

    def test_anonymous_visitors_are_sent_to_log_in(self, client, rolled):
        for target in [url(rolled.indicator)]:
            response = client.get(target)
            assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
class IndicatorPageQueryTests:
    def test_its_query_count_is_the_same_with_the_small_plan_and_the_demo(self, client, two_plans, settings):
        client.force_login(two_plans.leader)
        settings.PLANBOARD_TODAY = two_plans.small_today
        small_indicator = Indicator.objects.filter(task__action__plan=two_plans.small).first()
        demo_indicator = Indicator.objects.filter(task__action__plan=two_plans.demo, kind="amount").first()
        small = count_queries(client, reverse("metrics:indicator_detail", args=[small_indicator.pk]))
        settings.PLANBOARD_TODAY = two_plans.demo_today
        assert count_queries(client, reverse("metrics:indicator_detail", args=[demo_indicator.pk])) == small
        # A rate with six departments, each with the period of its latest rate: still no query per row.
        demo_rate = Indicator.objects.get(task__action__plan=two_plans.demo, code="air-quality-good-days")
        assert demo_rate.assignments.count() == 6
        assert count_queries(client, reverse("metrics:indicator_detail", args=[demo_rate.pk])) == small
