"""The department page and the rankings (比武打擂)."""

import datetime

import pytest
from django.urls import reverse

from metrics.dashboards.selectors import month_end_weeks
from metrics.models import DepartmentScore
from tests.conftest import chart_data, count_queries


@pytest.fixture
def rolled(cast, settings):
    from metrics.rollup.services import rollup_plan_weeks

    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 4, 18), last=datetime.date(2022, 5, 20))
    return cast


@pytest.mark.django_db
class DepartmentPageTests:
    def test_it_shows_indicators_tasks_and_the_weeks(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:department_detail", args=[rolled.dept_a.pk]))
        assert response.status_code == 200
        assert len(response.context["indicators"].rows) == 8  # one indicator per action
        assert len(response.context["tasks"].rows) == 8  # dept-a leads every task of the small plan
        assert [r.record.week for r in response.context["weeks"].rows][0] == datetime.date(2022, 5, 16)
        assert len(response.context["weeks"].rows) == 5
        score = DepartmentScore.objects.get(department=rolled.dept_a, week=datetime.date(2022, 5, 16))
        assert f'data-field="score">{"—" if score.score is None else f"{score.score:.1f}"}<' in response.content.decode()

    def test_the_chart_data_follows_the_as_of_week(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:department_detail", args=[rolled.dept_b.pk]), {"week": "2022-05-02"})
        data = chart_data(response, "department-chart-data")
        assert data["labels"] == ["2022-04-18", "2022-04-25", "2022-05-02"]
        ranks = list(DepartmentScore.objects.filter(department=rolled.dept_b, week__lte="2022-05-02").order_by("week").values_list("rank", flat=True))
        assert data["rank"] == ranks

    def test_an_unknown_department_is_404(self, client, rolled):
        client.force_login(rolled.leader)
        assert client.get(reverse("metrics:department_detail", args=[9999])).status_code == 404


@pytest.mark.django_db
class RankingsTests:
    def test_it_shows_the_weekly_scoreboard_with_rank_changes(self, client, rolled):
        DepartmentScore.objects.filter(department=rolled.dept_a, week="2022-05-16").update(rank=1, previous_rank=2)
        DepartmentScore.objects.filter(department=rolled.dept_b, week="2022-05-16").update(rank=2, previous_rank=1)
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:rankings"))
        html = response.content.decode()
        assert [r.record.department.code for r in response.context["table"].rows] == ["dept-a", "dept-b"]
        assert "▲1" in html and "▼1" in html

    def test_the_monthly_view_takes_each_months_last_week(self, client, rolled):
        DepartmentScore.objects.filter(department=rolled.dept_a, week="2022-04-25").update(rank=2)
        DepartmentScore.objects.filter(department=rolled.dept_b, week="2022-04-25").update(rank=1)
        DepartmentScore.objects.filter(department=rolled.dept_a, week="2022-05-16").update(rank=1)
        DepartmentScore.objects.filter(department=rolled.dept_b, week="2022-05-16").update(rank=2)
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:rankings"), {"view": "monthly", "week": "2022-05-20"})
        assert response.context["shown_week"] == datetime.date(2022, 5, 16)
        rows = [r.record for r in response.context["table"].rows]
        assert [(r.department.code, r.rank_change) for r in rows] == [("dept-a", 1), ("dept-b", -1)]
        response = client.get(reverse("metrics:rankings"), {"view": "monthly", "week": "2022-04-18"})
        assert response.context["shown_week"] == datetime.date(2022, 4, 18)

    def test_month_end_weeks(self):
        weeks = [datetime.date(2022, 4, 18), datetime.date(2022, 4, 25), datetime.date(2022, 5, 2), datetime.date(2022, 5, 9)]
        assert month_end_weeks(weeks) == [datetime.date(2022, 5, 9), datetime.date(2022, 4, 25)]


@pytest.mark.django_db
class DepartmentAndRankingsAccessTests:
    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_every_role_reads_them(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        for url in [reverse("metrics:department_detail", args=[rolled.dept_a.pk]),
                    reverse("metrics:rankings"), reverse("metrics:rankings") + "?view=monthly"]:
            assert client.get(url).status_code == 200, url

    def test_anonymous_visitors_are_sent_to_log_in(self, client, rolled):
        for url in [reverse("metrics:department_detail", args=[rolled.dept_a.pk]), reverse("metrics:rankings")]:
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
class DepartmentAndRankingsQueryTests:
    def test_their_query_counts_are_the_same_with_the_small_plan_and_the_demo(self, client, two_plans, settings):
        from actions.models import Department

        client.force_login(two_plans.leader)
        small_dept = Department.objects.get(code="dept-a")
        demo_dept = Department.objects.get(code="industry")
        pairs = [
            (reverse("metrics:department_detail", args=[small_dept.pk]), reverse("metrics:department_detail", args=[demo_dept.pk])),
            (reverse("metrics:rankings"), reverse("metrics:rankings")),
            (reverse("metrics:rankings") + "?view=monthly", reverse("metrics:rankings") + "?view=monthly"),
        ]
        for small_url, demo_url in pairs:
            settings.PLANBOARD_TODAY = two_plans.small_today
            small = count_queries(client, small_url)
            settings.PLANBOARD_TODAY = two_plans.demo_today
            assert count_queries(client, demo_url) == small, demo_url
