"""Numbers an official can act on: the checkpoint day, missing reports (未报, 数据不全), zero caps, and a
row that either has a value or says why not. Expectations are computed here by hand from shared/DOMAIN.md."""

import datetime
import io
import json

import pytest
from django.core.management import call_command

from actions.models import Department, Indicator
from metrics.choices import Light
from metrics.models import DepartmentIndicatorProgress, IndicatorProgress, Rollup
from metrics.rollup.engine import Week, rollup_week
from tests.metrics.test_rollup_math import MONTHS, D, close, figures, indicator, plan, run  # noqa: F401 (fixtures)

CHECKPOINT_WEEK = D(2022, 6, 27)  # Monday 27 June to Sunday 3 July 2022 holds 30 June


@pytest.mark.django_db
class CheckpointDayTests:
    @pytest.mark.parametrize("rolled_on", [D(2022, 6, 30), D(2022, 7, 1), D(2022, 7, 3), D(2022, 7, 7)])
    def test_the_checkpoint_week_is_judged_on_30_june_whenever_it_is_rolled_up(self, plan, rolled_on):
        weekly = indicator(plan, "w", kind="count", frequency="weekly", target=365)
        phased = indicator(plan, "p", kind="count", frequency="weekly", target=40,
                           monthly=[0, 1, 3, 6, 10, 15, 19, 23, 28, 33, 37, 40])
        figures(weekly, {CHECKPOINT_WEEK: 1})
        figures(phased, {CHECKPOINT_WEEK: 1})
        rollup_week(Week.of(plan, CHECKPOINT_WEEK, rolled_on))
        rows = {p.indicator.code: p for p in IndicatorProgress.objects.filter(week=CHECKPOINT_WEEK).select_related("indicator")}
        assert rows["w"].as_of == D(2022, 6, 30)
        assert close(rows["w"].schedule_pct, 181 / 365 * 100)  # 49.6 %, not 184/365 = 50.4 %
        assert close(rows["p"].schedule_pct, 15 / 40 * 100)  # June's phased target, 37.5 %, nothing of July's
        assert rows["w"].checkpoint_passed and rows["w"].half_year_status in {"met", "not_met"}

    def test_before_the_checkpoint_the_week_is_judged_on_today(self, plan):
        weekly = indicator(plan, "w", kind="count", frequency="weekly", target=365)
        figures(weekly, {CHECKPOINT_WEEK: 1})
        rollup_week(Week.of(plan, CHECKPOINT_WEEK, D(2022, 6, 29)))
        row = IndicatorProgress.objects.get(week=CHECKPOINT_WEEK)
        assert row.as_of == D(2022, 6, 29) and not row.checkpoint_passed and row.half_year_status == "pending"

    def test_the_weekly_schedule_counts_days_of_the_calendar_year_the_judged_day_included(self, plan):
        indicator(plan, "w", kind="count", frequency="weekly", target=365)
        rollup_week(Week.of(plan, D(2022, 1, 3), D(2022, 1, 9)))  # ISO week 1 of 2022: 3 to 9 January
        assert close(IndicatorProgress.objects.get().schedule_pct, 9 / 365 * 100)

    def test_progress_report_of_the_checkpoint_prints_30_june(self, demo_plan, settings):
        settings.PLANBOARD_TODAY = D(2022, 7, 7)
        out = io.StringIO()
        call_command("progress_report", "--as-of", "2022-06-30", "--format", "json", stdout=out, stderr=io.StringIO())
        rows = json.loads(out.getvalue())
        assert {r["as_of"] for r in rows} == {"2022-06-30"}
        weekly = next(r for r in rows if Indicator.objects.get(pk=r["indicator_id"]).frequency == "weekly"
                      and not Indicator.objects.get(pk=r["indicator_id"]).monthly_targets)
        assert weekly["schedule_pct"] == "49.6"
        phased = next(r for r in rows if Indicator.objects.get(pk=r["indicator_id"]).code == "high-tech-firms")
        assert phased["schedule_pct"] == "37.5"  # June's phased target 15 of 40


@pytest.mark.django_db
class MissingReportsTests:
    def test_a_department_that_has_not_reported_the_latest_month_is_not_red_but_missing(self, plan):
        ind = indicator(plan, "x", shares={"a": 80, "b": 40})
        figures(ind, {MONTHS[0]: 30, MONTHS[1]: 10, MONTHS[3]: 0}, dept="a")
        figures(ind, {MONTHS[0]: 5}, dept="b")  # b has not reported April, the latest month due
        run(plan)
        rows = {r.department.code: r for r in DepartmentIndicatorProgress.objects.select_related("department")}
        assert rows["a"].latest_reported and rows["a"].light == Light.GREEN
        assert not rows["b"].latest_reported and rows["b"].light == Light.MISSING
        assert not rows["b"].pace_alert
        total = IndicatorProgress.objects.get()
        assert (total.departments_expected, total.departments_reported, total.data_complete) == (2, 1, False)
        assert total.latest_due == MONTHS[3]
        assert total.light == Light.GREEN  # 45 of 120 = 37.5 % is ahead of 33.3 % even without b's April

    def test_an_indicator_behind_with_every_report_in_is_red(self, plan):
        ind = indicator(plan, "x", shares={"a": 80, "b": 40})
        figures(ind, {MONTHS[0]: 1, MONTHS[3]: 0}, dept="a")
        figures(ind, {MONTHS[0]: 1, MONTHS[3]: 0}, dept="b")
        row = run(plan)["x"]
        assert row.data_complete and row.departments_reported == 2 and row.light == Light.RED

    def test_missing_indicators_are_counted_not_averaged_into_their_task(self, plan):
        done = indicator(plan, "done", target=12)
        figures(done, {m: 1 for m in MONTHS[:4]})  # exactly on schedule: 4 of 12 by the end of April
        late = indicator(plan, "late", target=12)
        figures(late, {MONTHS[0]: 1})  # behind, and April not reported
        rows = run(plan)
        assert rows["late"].light == Light.MISSING
        task = Rollup.objects.get(level="task")
        assert task.missing == 1 and task.red == 0
        assert close(task.attainment_pct, 100) and task.light == Light.GREEN


@pytest.mark.django_db
class ZeroCapTests:
    def test_a_zero_cap_is_met_while_nothing_happens(self, plan):
        cap = indicator(plan, "accidents", kind="count", target=0, direction="lower")
        figures(cap, {m: 0 for m in MONTHS[:4]})
        row = run(plan)["accidents"]
        assert row.light == Light.GREEN and row.reason == "" and close(row.attainment_pct, 100)

    def test_a_zero_cap_is_broken_by_the_first_occurrence(self, plan):
        cap = indicator(plan, "accidents", kind="count", target=0, direction="lower")
        figures(cap, {MONTHS[0]: 0, MONTHS[1]: 1, MONTHS[2]: 0, MONTHS[3]: 0})
        row = run(plan)["accidents"]
        assert row.light == Light.RED and row.reason == "" and close(row.attainment_pct, 0)
        run(plan, today=D(2022, 8, 10))
        assert IndicatorProgress.objects.get(week=D(2022, 8, 8)).half_year_status == "not_met"

    def test_a_zero_cap_met_at_the_checkpoint(self, plan):
        cap = indicator(plan, "accidents", kind="count", target=0, direction="lower")
        figures(cap, {m: 0 for m in MONTHS[:7]})
        run(plan, today=D(2022, 8, 10))
        assert IndicatorProgress.objects.get(week=D(2022, 8, 8)).half_year_status == "met"


@pytest.mark.django_db
class ValueOrReasonTests:
    def test_figures_before_the_phased_schedule_starts_are_ahead_not_unexplained(self, plan):
        permits = indicator(plan, "permits", kind="count", target=20, monthly=[0, 0, 0, 0, 0, 5, 8, 10, 12, 15, 18, 20])
        figures(permits, {MONTHS[3]: 5})
        row = run(plan)["permits"]
        assert row.reason == "" and row.light == Light.GREEN and close(row.completion_pct, 25)

    def test_nothing_done_before_the_schedule_starts_has_no_light_and_says_why(self, plan):
        permits = indicator(plan, "permits", kind="count", target=20, monthly=[0, 0, 0, 0, 0, 5, 8, 10, 12, 15, 18, 20])
        figures(permits, {MONTHS[3]: 0})
        row = run(plan)["permits"]
        assert row.reason == "schedule_not_started" and row.light == Light.NONE and row.gap_pp is None

    @pytest.mark.parametrize("day", [D(2022, 3, 31), D(2022, 5, 20)])
    def test_no_stored_row_of_the_demo_has_both_a_light_and_a_reason(self, demo_plan, settings, day):
        settings.PLANBOARD_TODAY = day
        rollup_week(Week.of(demo_plan, day, day))
        for model in (IndicatorProgress, DepartmentIndicatorProgress):
            both = model.objects.exclude(reason="").exclude(light=Light.NONE).values_list("indicator__code", "reason", "light")
            assert list(both) == []


@pytest.fixture
def after_deadline(demo_plan, settings):
    """The demo's Friday at 18:00, after the week's 17:00 deadline: its reports still missing are late."""
    settings.PLANBOARD_TODAY = datetime.datetime(2022, 5, 20, 18, 0)
    rollup_week(Week.of(demo_plan, D(2022, 5, 16), D(2022, 5, 20)))
    return demo_plan


@pytest.mark.django_db
class DemoMissingReportsTests:
    def test_a_report_is_missing_only_once_its_deadline_has_passed(self, demo_plan, settings):
        week = D(2022, 5, 16)
        settings.PLANBOARD_TODAY = datetime.datetime(2022, 5, 20, 10, 0)  # the week's report is due at 17:00
        rollup_week(Week.of(demo_plan, week, D(2022, 5, 20)))
        at_ten = IndicatorProgress.objects.get(week=week, indicator__code="high-tech-firms")
        assert at_ten.latest_due == D(2022, 5, 9)
        settings.PLANBOARD_TODAY = datetime.datetime(2022, 5, 20, 18, 0)
        rollup_week(Week.of(demo_plan, week, D(2022, 5, 20)))
        at_six = IndicatorProgress.objects.get(week=week, indicator__code="high-tech-firms")
        assert at_six.latest_due == week
        missing = DepartmentIndicatorProgress.objects.filter(week=week, latest_reported=False)
        assert missing.exists() and not missing.filter(light__in=[Light.RED, Light.YELLOW]).exists()

    def test_at_20_may_missing_reports_are_missing_not_red(self, after_deadline):
        demo_plan = after_deadline
        week = D(2022, 5, 16)
        rows = DepartmentIndicatorProgress.objects.filter(plan=demo_plan, week=week)
        assert rows.filter(latest_reported=False).exists()
        assert not rows.filter(latest_reported=False, light__in=[Light.RED, Light.YELLOW]).exists()
        totals = IndicatorProgress.objects.filter(plan=demo_plan, week=week)
        for total in totals.exclude(indicator__kind="milestone"):
            expected = DepartmentIndicatorProgress.objects.filter(week=week, indicator=total.indicator).count()
            reported = DepartmentIndicatorProgress.objects.filter(week=week, indicator=total.indicator, latest_reported=True).count()
            assert (total.departments_expected, total.departments_reported) == (expected, reported)
            assert total.data_complete == (reported == expected)
        assert Department.objects.exists()


@pytest.mark.django_db
class MissingReportsOnPagesTests:
    def test_the_indicator_and_action_pages_say_who_reported_and_mark_incomplete_totals(self, after_deadline, client):
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        client.force_login(get_user_model().objects.get(username="leader"))
        week = D(2022, 5, 16)
        incomplete = IndicatorProgress.objects.filter(week=week, data_complete=False).exclude(indicator__kind="milestone").first()
        complete = IndicatorProgress.objects.filter(week=week, data_complete=True).exclude(indicator__kind="milestone").first()
        assert incomplete and complete
        page = client.get(reverse("metrics:indicator_detail", args=[incomplete.indicator_id])).content.decode()
        assert f"{incomplete.departments_reported} / {incomplete.departments_expected} 单位已报" in page
        assert 'data-field="incomplete"' in page and "数据不全" in page
        page = client.get(reverse("metrics:indicator_detail", args=[complete.indicator_id])).content.decode()
        assert 'data-field="incomplete"' not in page
        action = client.get(reverse("metrics:action_detail", args=[incomplete.indicator.task.action.number])).content.decode()
        assert f"{incomplete.departments_reported} / {incomplete.departments_expected} 单位已报" in action


@pytest.mark.django_db
class RevisedWeekTests:
    def test_a_correction_to_a_published_week_marks_its_pages_and_exports(self, demo_plan, client):
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        from metrics.models import Figure, ReopenRequest
        from tests.metrics.reporting import sheet_post, sheet_url

        week18 = D(2022, 5, 2)
        figure = Figure.objects.filter(period_start=week18, state="reported", indicator__frequency="weekly").select_related(
            "department", "indicator").order_by("indicator__code", "department__code").first()
        staff = figure.department.members.first()
        supervisor = get_user_model().objects.get(username="supervisor")
        client.force_login(staff)
        client.post(reverse("metrics:reopen_request"), {"department": figure.department.code, "frequency": "weekly",
                                                        "period": week18.isoformat(), "reason": "数字录错"})
        client.force_login(supervisor)
        client.post(reverse("metrics:reopen_decide", args=[ReopenRequest.objects.get().pk]), {"decision": "grant"})
        client.force_login(staff)
        corrected = figure.value + 1
        post = sheet_post(figure.department, {figure.indicator: {"value": str(corrected), "version": figure.version, "note": "更正"}},
                          period=week18)
        assert client.post(sheet_url(figure.department, period=week18), post).status_code == 302

        client.force_login(get_user_model().objects.get(username="leader"))
        for week, revised in [(week18, True), (D(2022, 5, 9), True), (D(2022, 4, 25), False), (D(2022, 5, 16), False)]:
            page = client.get(reverse("metrics:overview"), {"week": week.isoformat()}).content.decode()
            assert ('data-revised="1"' in page) is revised, week
        page = client.get(reverse("metrics:indicator_detail", args=[figure.indicator_id]), {"week": week18.isoformat()}).content.decode()
        assert "已修订" in page and figure.indicator.name in page and "更正了什么" in page
        out = io.StringIO()
        call_command("progress_report", "--as-of", week18.isoformat(), "--format", "json", stdout=out, stderr=io.StringIO())
        revised = {r["indicator_id"] for r in json.loads(out.getvalue()) if r["revised"]}
        assert revised == {figure.indicator_id}

    def test_a_published_week_without_corrections_costs_every_page_head_one_query(self, demo_plan, django_assert_num_queries):
        from metrics.dashboards.selectors import plan_rollup, week_revisions

        rollup = plan_rollup(plan=demo_plan, week=D(2022, 4, 25))
        assert rollup is not None
        with django_assert_num_queries(1):
            revisions = week_revisions(plan=demo_plan, rollup=rollup)
        assert revisions.count == 0 and revisions.latest == []


@pytest.mark.django_db
class PagesAgreeWithProgressReportTests:
    @pytest.mark.parametrize("day", [D(2022, 3, 31), D(2022, 5, 20), D(2022, 6, 30), D(2022, 7, 7)], ids=str)
    def test_every_indicator_page_and_action_page_print_progress_reports_numbers(self, demo_plan, settings, client, day):
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        from actions.models import Action

        settings.PLANBOARD_TODAY = day
        out = io.StringIO()
        call_command("progress_report", "--as-of", day.isoformat(), "--format", "json", stdout=out, stderr=io.StringIO())
        rows = json.loads(out.getvalue())
        week = rows[0]["week"]
        assert {r["week"] for r in rows} == {week} and len(rows) == Indicator.objects.filter(task__action__plan=demo_plan).count()
        client.force_login(get_user_model().objects.get(username="leader"))
        actions = {a.number: client.get(reverse("metrics:action_detail", args=[a.number]), {"week": week, "i-per_page": 500}).content.decode()
                   for a in Action.objects.filter(plan=demo_plan)}
        for row in rows:
            page = client.get(reverse("metrics:indicator_detail", args=[row["indicator_id"]]), {"week": week}).content.decode()
            assert f'data-field="light">{Light(row["light"]).label}<' in page, row["indicator"]
            action = actions[row["action_number"]]
            assert row["progress"] in action, (row["indicator"], row["progress"])
            if row["kind"] != "milestone":
                reported = f"{row['departments_reported']} / {row['departments_expected']} 单位已报"
                assert reported in page and reported in action, row["indicator"]
                assert ('data-field="incomplete"' in page) is (not row["data_complete"]), row["indicator"]


@pytest.mark.django_db
class RateDepartmentTests:
    def test_a_plan_may_name_the_department_whose_rate_is_the_districts(self, plan):
        growth = indicator(plan, "g", kind="growth_rate", target=10, shares={"a": None, "b": None})
        figures(growth, {MONTHS[3]: 12}, dept="a")
        figures(growth, {MONTHS[3]: 8}, dept="b")
        assert close(run(plan)["g"].actual, 10)  # the mean of the departments' latest rates
        growth.rate_department = Department.objects.get(code="b")
        growth.save()
        row = run(plan)["g"]
        assert close(row.actual, 8) and close(row.gap_pp, -2)

    def test_the_plan_file_names_one_of_the_indicators_departments(self):
        from actions.plan_file import PlanFileError, validate_plan
        from tests.factories import small_plan_data

        data = small_plan_data()
        ind = data["actions"][0]["tasks"][0]["indicators"][0]
        ind.update({"kind": "growth_rate", "annual_target": 8, "rate_department": "nowhere",
                    "departments": [{"department": "dept-a"}, {"department": "dept-b"}]})
        with pytest.raises(PlanFileError) as caught:
            validate_plan(data)
        assert "rate_department: 'nowhere' is not one of the indicator's departments" in str(caught.value)
        ind["rate_department"] = "dept-b"
        assert validate_plan(data)["actions"][0]["tasks"][0]["indicators"][0]["rate_department"] == "dept-b"
