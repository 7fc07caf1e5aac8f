"""The department page and the rankings (比武打擂)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from metrics.dashboards.selectors import month_end_weeks
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, MonthlyRanking
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

    def test_its_indicators_are_paged_and_the_pages_keep_the_as_of_week(self, client, rolled, monkeypatch):
        from metrics.dashboards import views

        monkeypatch.setattr(views, "INDICATORS_PER_PAGE", 3)
        client.force_login(rolled.leader)
        url = reverse("metrics:department_detail", args=[rolled.dept_a.pk])
        first = client.get(url, {"week": "2022-05-09"})
        page = first.context["indicators"].page
        assert page.paginator.count == 8 and len(page.object_list) == 3
        assert "i-page=2" in first.content.decode() and "week=2022-05-09" in first.content.decode()
        last = client.get(url, {"week": "2022-05-09", "i-page": 3})
        rows = last.context["indicators"].page.object_list
        assert len(rows) == 2 and all(row.record.week == datetime.date(2022, 5, 9) for row in rows)
        seen = [r.record.indicator_id for p in (1, 2, 3)
                for r in client.get(url, {"week": "2022-05-09", "i-page": p}).context["indicators"].page.object_list]
        assert sorted(seen) == sorted(DepartmentIndicatorProgress.objects.filter(
            department=rolled.dept_a, week="2022-05-09").values_list("indicator_id", flat=True))

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
        # April closed when the week of 2 May was rolled up: its frozen ranks are what May is compared with.
        MonthlyRanking.objects.filter(department=rolled.dept_a, month="2022-04-01").update(rank=2)
        MonthlyRanking.objects.filter(department=rolled.dept_b, month="2022-04-01").update(rank=1)
        DepartmentScore.objects.filter(department=rolled.dept_a, week="2022-05-16").update(rank=1)
        DepartmentScore.objects.filter(department=rolled.dept_b, week="2022-05-16").update(rank=2)
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:rankings"), {"view": "monthly", "week": "2022-05-20"})
        assert response.context["shown_week"] == datetime.date(2022, 5, 16)
        rows = [r.record for r in response.context["table"].rows]
        assert [(r.department.code, r.rank_change) for r in rows] == [("dept-a", 1), ("dept-b", -1)]
        response = client.get(reverse("metrics:rankings"), {"view": "monthly", "week": "2022-04-18"})
        assert response.context["shown_week"] == datetime.date(2022, 4, 18)  # April was still open then
        assert not response.context["frozen"]

    def test_a_closed_month_shows_its_frozen_ranking_not_a_recomputed_one(self, client, rolled):
        from metrics.rollup.services import rollup_plan_weeks

        frozen = dict(MonthlyRanking.objects.filter(month="2022-04-01").values_list("department__code", "rank"))
        assert frozen == dict(DepartmentScore.objects.filter(week="2022-04-25").values_list("department__code", "rank"))
        assert MonthlyRanking.objects.get(department=rolled.dept_a, month="2022-04-01").week == datetime.date(2022, 4, 25)
        # A late edit changes April's last week when it is rolled up again; the published April does not change.
        DepartmentScore.objects.filter(week="2022-04-25").update(rank=None)
        MonthlyRanking.objects.filter(department=rolled.dept_a, month="2022-04-01").update(rank=7, score=12.5)
        rollup_plan_weeks(plan=rolled.plan, first=datetime.date(2022, 4, 25), last=datetime.date(2022, 5, 20))
        assert DepartmentScore.objects.get(department=rolled.dept_a, week="2022-04-25").rank is not None
        assert MonthlyRanking.objects.get(department=rolled.dept_a, month="2022-04-01").rank == 7
        client.force_login(rolled.leader)
        response = client.get(reverse("metrics:rankings"), {"view": "monthly", "week": "2022-04-25"})
        assert response.context["frozen"] and response.context["shown_week"] == datetime.date(2022, 4, 25)
        row = next(r.record for r in response.context["table"].rows if r.record.department_id == rolled.dept_a.pk)
        assert (row.rank, row.score) == (7, 12.5)
        assert 'data-frozen="1"' in response.content.decode()

    def test_units_are_ranked_in_their_league_and_overall(self, client, rolled):
        from actions.models import Department

        Department.objects.filter(pk=rolled.dept_b.pk).update(kind="park")
        from metrics.rollup.services import rollup_plan_weeks

        rollup_plan_weeks(plan=rolled.plan, first=datetime.date(2022, 5, 16), last=datetime.date(2022, 5, 20))
        rows = {s.department.code: s for s in DepartmentScore.objects.filter(week="2022-05-16").select_related("department")}
        assert rows["dept-a"].rank == 1 and rows["dept-b"].rank == 1  # each leads its own league
        a, b = rows["dept-a"], rows["dept-b"]
        assert a.overall_rank == 1 + (b.score > a.score) and b.overall_rank == 1 + (a.score > b.score)
        client.force_login(rolled.leader)
        html = client.get(reverse("metrics:rankings")).content.decode()
        assert "园区" in html and "部门" in html
        response = client.get(reverse("metrics:rankings"), {"by": "all"})
        overall = [r.record.overall_rank for r in response.context["table"].rows]
        assert overall == sorted(overall) == sorted([a.overall_rank, b.overall_rank])

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


@pytest.mark.django_db
class LeadUnitOnTheDemoTests:
    """The demo at 20 May: 工信局 (industry) leads 轰鸣 and now answers for it in the ranking."""

    def test_industry_answers_for_the_tasks_of_hongming_it_leads(self, demo_plan, client):
        from metrics.models import Rollup

        week = datetime.date(2022, 5, 16)
        score = DepartmentScore.objects.get(plan=demo_plan, week=week, department__code="industry")
        groups = Rollup.objects.filter(
            plan=demo_plan, week=week, level="task", task__action__number=1, task__parent=None, task__lead_department__code="industry"
        )
        assert score.led_task_count == groups.count() == 3  # 企业军团, 项目引擎, 一号发展工程: each once
        expected = sum(min(r.attainment_pct, 100) for r in groups) / 3
        assert abs(score.led_tasks_pct - expected) < 1e-6 and score.led_tasks_pct < 100
        hongming = Rollup.objects.get(plan=demo_plan, week=week, level="action", action__number=1)
        assert score.led_red == sum(r.red for r in groups) == hongming.red > 0
        assert score.red_penalty == float(demo_plan.score_red_penalty) * (score.red + score.led_red)
        assert score.rank > 1  # no longer first of the departments on three shares of its own
        client.force_login(get_user_model().objects.get(username="leader"))
        html = client.get(reverse("metrics:rankings")).content.decode()
        assert "牵头任务对照序时" in html and "红灯扣分" in html
