"""The overview (home page): as-of week, key figures, action cards with trends, chart data."""

import datetime

import pytest
from django.urls import reverse

from metrics.models import IndicatorProgress, Rollup
from metrics.rollup.services import rollup_plan_weeks
from tests.conftest import chart_data, count_queries

TODAY = datetime.date(2022, 5, 20)


@pytest.fixture
def rolled(cast, settings):
    settings.PLANBOARD_TODAY = TODAY
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=TODAY)
    return cast


@pytest.mark.django_db
class AsOfTests:
    def test_it_defaults_to_the_latest_rolled_up_week(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:overview"))
        assert response.context["asof"].week == datetime.date(2022, 5, 16)
        assert [w.isoformat() for w in response.context["asof"].weeks] == ["2022-05-16", "2022-05-09", "2022-05-02"]
        assert 'name="week"' in response.content.decode()

    def test_it_normalises_any_day_to_its_monday(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:overview"), {"week": "2022-05-12"})
        assert response.context["asof"].week == datetime.date(2022, 5, 9)
        assert response.context["rollup"].week == datetime.date(2022, 5, 9)
        assert not response.context["asof"].error

    @pytest.mark.parametrize("value", ["yesterday", "2022-13-01", "2021-01-04", "x" * 500])
    def test_a_bad_week_gets_a_message_and_the_latest_week(self, client, rolled, value):
        client.force_login(rolled.leader)
        for url in [reverse("metrics:overview"), reverse("metrics:action_detail", args=[1])]:
            response = client.get(url, {"week": value})
            assert response.status_code == 200
        response = client.get(reverse("metrics:overview"), {"week": value})
        assert response.context["asof"].week == datetime.date(2022, 5, 16)
        assert response.context["asof"].error
        assert 'class="message warning asof-error"' in response.content.decode()


@pytest.mark.django_db
class OverviewTests:
    def test_it_shows_schedule_lights_countdown_and_eight_cards(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:overview"))
        html = response.content.decode()
        # 20 May is day 140 of 365: 序时进度 38.4 %.
        assert response.context["schedule_today"] == pytest.approx(140 * 100 / 365)
        assert 'data-kpi="schedule">38.4%' in html
        # The plan's stored roll-up row counts the lights (milestone-kind indicators count in their task's milestones).
        plan_row = Rollup.objects.get(level="plan", week=datetime.date(2022, 5, 16))
        green = IndicatorProgress.objects.filter(week=datetime.date(2022, 5, 16), light="green").count()
        assert plan_row.green == green and plan_row.indicator_count == 8
        assert f'data-kpi="on-schedule">{green} / 8' in html
        assert response.context["days_to_checkpoint"] == 41 and "41" in html
        assert html.count('class="card"') == 8
        assert html.count("data-sparkline=") == 8
        assert html.count('href="/dashboards/actions/') >= 8

    def test_it_shows_the_half_year_result_after_the_checkpoint(self, client, rolled, settings):
        settings.PLANBOARD_TODAY = datetime.date(2022, 7, 4)
        rollup_plan_weeks(plan=rolled.plan, first=datetime.date(2022, 6, 27), last=datetime.date(2022, 7, 4))
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:overview"), {"week": "2022-06-27"})
        plan_row = Rollup.objects.get(level="plan", week=datetime.date(2022, 6, 27))
        assert 'data-kpi="result"' in response.content.decode()
        assert 'data-kpi="countdown"' not in response.content.decode()
        assert f"{plan_row.half_met} of {plan_row.indicator_count}" in response.content.decode() or f"{plan_row.half_met}" in response.content.decode()
        assert response.context["days_to_checkpoint"] <= 0

    def test_the_card_numbers_are_the_action_rollup_formatted(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:overview"), {"week": "2022-05-09"})
        row = Rollup.objects.get(level="action", week=datetime.date(2022, 5, 9), action__number=3)
        card = next(c for c in response.context["actions"] if c.number == 3)
        assert card.rollup == row
        value = "—" if row.attainment_pct is None else f"{row.attainment_pct:.1f}"
        assert f"data-attainment>{value}%" in response.content.decode()

    def test_the_chart_data_is_in_the_page_and_follows_the_as_of_week(self, client, rolled):
        client.force_login(rolled.leader)
        data = chart_data(client.get(reverse("metrics:overview"), {"week": "2022-05-09"}), "overview-chart")
        assert data["week"] == "2022-05-09"
        assert len(data["actions"]) == 8
        first = data["actions"][0]
        assert first["labels"] == ["2022-05-02", "2022-05-09"]
        expected = Rollup.objects.filter(level="action", action__number=1, week__lte="2022-05-09").order_by("week")
        assert first["attainment"] == [None if r.attainment_pct is None else round(r.attainment_pct, 1) for r in expected]

    def test_it_says_when_nothing_is_rolled_up(self, client, cast):
        client.force_login(cast.leader)
        response = client.get(reverse("metrics:overview"))
        assert response.status_code == 200
        assert "尚未汇总" in response.content.decode()
        assert response.context["chart"]["actions"][0]["labels"] == []


@pytest.mark.django_db
class OverviewAccessTests:
    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_every_role_sees_the_overview_and_its_data(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        response = client.get(reverse("metrics:overview"))
        assert response.status_code == 200
        assert len(chart_data(response, "overview-chart")["actions"]) == 8

    def test_anonymous_visitors_are_sent_to_log_in(self, client, rolled):
        for url in [reverse("metrics:overview")]:
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
class OverviewQueryTests:
    def test_its_query_count_is_the_same_with_the_small_plan_and_the_demo(self, client, two_plans, settings):
        client.force_login(two_plans.leader)
        settings.PLANBOARD_TODAY = two_plans.small_today
        small = count_queries(client, reverse("metrics:overview"))
        settings.PLANBOARD_TODAY = two_plans.demo_today
        demo = count_queries(client, reverse("metrics:overview"))
        assert demo == small
