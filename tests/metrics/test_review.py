import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics.choices import ReopenStatus, SheetStatus
from metrics.models import Figure, ReopenRequest, Sheet
from tests.metrics.reporting import CLOSED_WEEK, TODAY, WEEK, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


def submit_full_sheet(client, cast, value="1"):
    client.force_login(cast.staff_a)
    response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: value for i in indicators(cast.plan)}, action="submit"))
    assert response.status_code == 302
    return Sheet.objects.get(department=cast.dept_a, period_start=WEEK)


@pytest.mark.django_db
class ReviewWorkflowTests:
    def test_it_lists_submitted_sheets_in_the_supervisors_queue(self, client, cast):
        submit_full_sheet(client, cast)
        client.force_login(cast.supervisor)
        html = client.get(reverse("metrics:queue")).content.decode()
        assert "甲局 · 每周 · 2022-05-16" in html
        assert "staff-a 于" in html

    def test_it_locks_figures_once_approved_and_says_so(self, client, cast):
        sheet = submit_full_sheet(client, cast)
        client.force_login(cast.supervisor)
        response = client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "approve"})
        assert response.status_code == 302
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.APPROVED and sheet.reviewed_by == cast.supervisor
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "已锁定：督查办已于 " in html and "审核通过本表" in html
        assert 'id="save"' not in html
        ind = indicators(cast.plan)[0]
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "9", "version": 1}}))
        assert response.status_code == 403
        assert Figure.objects.get(indicator=ind).value == Decimal("1")

    def test_it_returns_a_sheet_with_a_comment_that_staff_see_and_then_correct(self, client, cast):
        sheet = submit_full_sheet(client, cast)
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "return", "comment": ""})
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.SUBMITTED  # a return needs a comment
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "return", "comment": "产值偏低，请核实"})
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.RETURNED
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "督查办已于 2022-05-20 退回本表：“产值偏低，请核实”" in html
        ind = indicators(cast.plan)[0]
        data = sheet_post(cast.dept_a, {ind: {"value": "2", "version": 1}}, action="submit")
        assert client.post(sheet_url(cast.dept_a), data).status_code == 302
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.SUBMITTED
        assert Figure.objects.get(indicator=ind).value == Decimal("2")

    def test_it_locks_a_submitted_sheet_while_it_waits_and_says_so_at_the_top(self, client, cast):
        submit_full_sheet(client, cast)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "已报送" in html and "等待督查办审核，审核通过或退回前不能修改" in html
        assert 'id="save"' not in html and 'id="submit"' not in html and 'id="reopen-form"' not in html
        ind = indicators(cast.plan)[0]
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "9", "version": 1}}))
        assert response.status_code == 403
        assert Figure.objects.get(indicator=ind).value == Decimal("1")
        response = client.post(reverse("metrics:reopen_request"), {"department": "dept-a", "frequency": "weekly",
                                                                    "period": WEEK.isoformat(), "reason": "改一下"}, follow=True)
        assert "等待督查办审核" in response.content.decode()
        assert not ReopenRequest.objects.exists()

    def test_a_returned_sheet_says_one_thing_the_comment_and_until_when_it_is_open(self, client, cast):
        sheet = submit_full_sheet(client, cast)
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "return", "comment": "产值偏低，请核实"})
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "督查办已重新开放本表" not in html and "督查办退回意见" not in html
        assert html.count("前可修改") == 1
        assert "请修改后重新报送，2022-05-23 前可修改" in html  # returned on 20 May, the plan locks 3 days on
        assert 'id="save"' in html

    def test_it_refuses_to_review_a_sheet_that_is_not_submitted(self, client, cast):
        sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK)
        client.force_login(cast.supervisor)
        response = client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "approve"}, follow=True)
        assert "只有已报送的填报表才能审核或退回" in response.content.decode()
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.DRAFT


@pytest.mark.django_db
class LockingTests:
    def test_it_says_in_plain_words_that_a_period_closed(self, client, cast):
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()
        assert "已锁定：本期已于 2022-05-09 截止修改（报送截止后 3 天）" in html
        assert 'id="reopen-form"' in html and 'id="save"' not in html

    def test_this_weeks_sheet_stays_open_until_the_lock_date(self, client, cast, settings):
        client.force_login(cast.staff_a)
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 23)  # due 20 May + 3 days
        assert 'id="save"' in client.get(sheet_url(cast.dept_a)).content.decode()
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 24)
        assert 'id="save"' not in client.get(sheet_url(cast.dept_a)).content.decode()

    def test_the_lock_period_is_configurable_per_plan(self, client, cast):
        cast.plan.lock_after_days = 14
        cast.plan.save()
        client.force_login(cast.staff_a)
        assert 'id="save"' in client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()

    def test_staff_ask_to_reopen_and_a_granted_request_opens_the_sheet_until_a_date(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        url = reverse("metrics:reopen_request")
        base = {"department": cast.dept_a.code, "frequency": "weekly", "period": CLOSED_WEEK.isoformat()}
        response = client.post(url, {**base, "reason": ""}, follow=True)
        assert "请说明申请重新开放的原因" in response.content.decode()
        client.post(url, {**base, "reason": "漏报一项"})
        request = ReopenRequest.objects.get()
        html = client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()
        assert 'id="reopen-pending"' in html
        response = client.post(url, {**base, "reason": "再申请"}, follow=True)
        assert "已有一条重新开放申请" in response.content.decode() and ReopenRequest.objects.count() == 1

        client.force_login(cast.supervisor)
        assert "漏报一项" in client.get(reverse("metrics:queue")).content.decode()
        client.post(reverse("metrics:reopen_decide", args=[request.pk]), {"decision": "grant"})
        request.refresh_from_db()
        assert request.status == ReopenStatus.GRANTED and request.decided_by == cast.supervisor

        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()
        assert "督查办已重新开放本表，可修改至 2022-05-23" in html
        response = client.post(sheet_url(cast.dept_a, CLOSED_WEEK), sheet_post(cast.dept_a, {ind: "4"}, period=CLOSED_WEEK))
        assert response.status_code == 302
        assert Figure.objects.get(period_start=CLOSED_WEEK).value == 4

    def test_a_refused_request_leaves_the_sheet_locked(self, client, cast):
        sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=CLOSED_WEEK)
        request = ReopenRequest.objects.create(sheet=sheet, reason="x", requested_by=cast.staff_a)
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:reopen_decide", args=[request.pk]), {"decision": "refuse"})
        request.refresh_from_db()
        assert request.status == ReopenStatus.REFUSED
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()
        assert "本期已于 2022-05-09 截止修改" in html

    def test_granting_a_reopen_of_an_approved_sheet_makes_it_a_draft_again(self, client, cast):
        sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK,
                                     status=SheetStatus.APPROVED)
        client.force_login(cast.staff_a)
        client.post(reverse("metrics:reopen_request"),
                    {"department": cast.dept_a.code, "frequency": "weekly", "period": WEEK.isoformat(), "reason": "数据有误"})
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:reopen_decide", args=[ReopenRequest.objects.get().pk]), {"decision": "grant"})
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.DRAFT
        client.force_login(cast.staff_a)
        assert 'id="save"' in client.get(sheet_url(cast.dept_a)).content.decode()

    def test_it_refuses_to_reopen_a_sheet_that_is_open(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.post(reverse("metrics:reopen_request"),
                               {"department": cast.dept_a.code, "frequency": "weekly", "period": WEEK.isoformat(), "reason": "x"}, follow=True)
        assert "本表仍可修改：请直接修改" in response.content.decode()
        assert ReopenRequest.objects.count() == 0


@pytest.mark.django_db
class ReturnAfterCloseTests:
    def test_a_sheet_returned_after_its_period_closed_can_still_be_corrected(self, client, cast, settings):
        sheet = submit_full_sheet(client, cast)
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 25)  # the week closed on 23 May
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "return", "comment": "请补充说明"})
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "督查办已于 2022-05-25 退回本表：“请补充说明”。请修改后重新报送，2022-05-28 前可修改。" in html
        ind = indicators(cast.plan)[0]
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "3", "version": 1}}, action="submit"))
        assert response.status_code == 302
        assert Figure.objects.get(indicator=ind).value == 3


@pytest.mark.django_db
class QueueQueryCountTests:
    def test_the_queue_costs_the_same_queries_for_one_sheet_or_many(self, client, cast):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from actions.models import Department

        def submitted(department, start):
            sheet = Sheet.objects.create(plan=cast.plan, department=department, frequency="weekly", period_start=start,
                                         status=SheetStatus.SUBMITTED, submitted_by=cast.staff_a)
            ReopenRequest.objects.create(sheet=sheet, reason="x", requested_by=cast.staff_a)

        submitted(cast.dept_a, WEEK)
        client.force_login(cast.supervisor)
        with CaptureQueriesContext(connection) as one:
            assert client.get(reverse("metrics:queue")).status_code == 200
        for i in range(10):
            submitted(Department.objects.create(code=f"d{i}", name=f"单位{i}", short_name=f"单位{i}"), WEEK)
        with CaptureQueriesContext(connection) as many:
            html = client.get(reverse("metrics:queue")).content.decode()
        assert html.count("单位") >= 10
        assert len(many.captured_queries) == len(one.captured_queries)
