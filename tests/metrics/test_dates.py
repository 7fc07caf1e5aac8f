"""Dates and lengths out of range get a clear message and are never stored; the plan year is the rule."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from metrics.models import Figure, ProgressNote, Reminder, ReopenRequest
from metrics.reporting import services
from metrics.reporting.forms import CellInput, SheetInput
from metrics.reporting.services import SheetInvalid
from planboard.periods import in_plan_year
from tests.metrics.reporting import CLOSED_WEEK, TODAY, indicators, sheet_post, sheet_url

OUTSIDE = ["0001-01-01", "1900-01-01", "2021-12-31", "2023-01-02", "9999-12-31"]


@pytest.fixture(autouse=True)
def pinned_today(settings, tmp_path):
    settings.PLANBOARD_TODAY = TODAY
    settings.MEDIA_ROOT = tmp_path


class PlanYearRuleTests:
    @pytest.mark.parametrize("day,frequency,inside", [
        ("2022-01-03", "weekly", True), ("2022-01-02", "weekly", False),  # ISO week 52 of 2021
        ("2023-01-01", "weekly", True),  # ISO week 52 of 2022
        ("2022-01-01", "monthly", True), ("2022-12-31", "monthly", True), ("2023-01-01", "monthly", False),
        ("0001-01-01", "weekly", False), ("0001-01-01", "monthly", False), ("9999-12-31", "weekly", False),
        ("9999-12-31", "monthly", False),
    ])
    def test_a_period_belongs_to_the_plan_year_by_the_iso_week_or_the_month(self, day, frequency, inside):
        assert in_plan_year(datetime.date.fromisoformat(day), frequency, 2022) is inside


@pytest.mark.django_db
class OutOfRangePeriodTests:
    @pytest.mark.parametrize("frequency", ["weekly", "monthly"])
    @pytest.mark.parametrize("period", OUTSIDE)
    @pytest.mark.parametrize("view", ["metrics:entry", "metrics:xlsx_download"])
    def test_a_period_outside_the_plan_year_is_a_400_with_a_message(self, client, cast, view, period, frequency):
        client.force_login(cast.staff_a)
        response = client.get(reverse(view), {"department": cast.dept_a.code, "frequency": frequency, "period": period})
        assert response.status_code == 400
        first = "2022-01-03" if frequency == "weekly" else "2022-01-01"
        last = "2022-12-26" if frequency == "weekly" else "2022-12-01"
        assert f"{period} 不在 2022 年计划内：请选择 {first} 至 {last} 之间的周期。" in response.content.decode()

    @pytest.mark.parametrize("period", ["0001-01-01", "1900-01-01", "2021-05-03"])
    def test_no_reopen_request_is_stored_for_a_period_outside_the_plan_year(self, client, cast, period):
        client.force_login(cast.staff_a)
        data = {"department": cast.dept_a.code, "frequency": "weekly", "period": period, "reason": "补报"}
        assert client.post(reverse("metrics:reopen_request"), data).status_code == 400
        with pytest.raises(SheetInvalid, match="不在 2022 年计划内"):
            services.reopen_request(user=cast.staff_a, plan=cast.plan, department=cast.dept_a, frequency="weekly",
                                    start=datetime.date.fromisoformat(period), reason="补报")
        assert ReopenRequest.objects.count() == 0

    def test_a_sheet_of_another_year_cannot_be_saved_through_the_service(self, cast):
        ind = indicators(cast.plan)[0]
        with pytest.raises(PermissionDenied, match="不在 2022 年计划内"):
            services.sheet_save(user=cast.staff_a, plan=cast.plan, department=cast.dept_a, frequency="weekly",
                                start=datetime.date(1, 1, 1), sheet_input=SheetInput(cells={ind.pk: CellInput(raw="1")}))


@pytest.mark.django_db
class OutOfRangeValueTests:
    def test_a_milestone_cannot_be_done_outside_the_plan_year(self, client, cast):
        milestone = indicators(cast.plan)[0].task.milestones.get()
        client.force_login(cast.staff_a)
        for day in ["0001-01-01", "2021-12-31"]:
            response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"ms-{milestone.pk}": day}))
            assert response.status_code == 400
            assert "2022 年计划的节点，完成日期应在 2022 年内。" in response.content.decode()
        milestone.refresh_from_db()
        assert milestone.done_date is None

    @pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "2021-06-07"])
    def test_no_reminder_is_stored_for_a_week_outside_the_plan_year(self, client, cast, week):
        client.force_login(cast.supervisor)
        data = {"department": cast.dept_a.pk, "kind": "red", "subject": "产值", "week": week}
        response = client.post(reverse("metrics:remind"), data, follow=True)
        assert "未记录催办：" in response.content.decode() and "不在 2022 年计划内" in response.content.decode()
        assert Reminder.objects.count() == 0

    def test_a_two_million_character_reason_is_refused(self, client, cast):
        client.force_login(cast.staff_a)
        data = {"department": cast.dept_a.code, "frequency": "weekly", "period": CLOSED_WEEK.isoformat(), "reason": "长" * 2_000_000}
        client.post(reverse("metrics:reopen_request"), data)
        with pytest.raises(SheetInvalid):
            services.reopen_request(user=cast.staff_a, plan=cast.plan, department=cast.dept_a, frequency="weekly",
                                    start=CLOSED_WEEK, reason="长" * 2_000_000)
        assert ReopenRequest.objects.count() == 0

    def test_overlong_notes_and_progress_are_refused_and_nothing_is_saved(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: ("5", "注" * 501)}))
        assert response.status_code == 400 and "说明最多 500 个字符。" in response.content.decode()
        task = ind.task
        data = sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "进" * 2001, f"nver-{task.pk}": "0"})
        response = client.post(sheet_url(cast.dept_a), data)
        assert response.status_code == 400 and "进展情况、存在问题和下步计划各最多 2000 个字符。" in response.content.decode()
        assert Figure.objects.count() == 0 and ProgressNote.objects.count() == 0
