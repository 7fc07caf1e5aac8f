"""The supervision loop through its real buttons: an order the rules issued and escalated over the weeks, the
office's 催办, the unit finding it in 我的待办 and replying with evidence, the office's verification."""

import datetime
from decimal import Decimal

import pytest

from actions.models import Department, Indicator
from metrics.choices import OrderLevel, OrderStatus
from metrics.models import Figure, OrderReply, Reminder, SupervisionOrder
from metrics.rollup.services import rollup_plan_weeks
from planboard.roles import Role
from tests.browser.test_entry import login
from tests.factories import load_small_plan, make_user
from tests.metrics.test_bad_input import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def behind(settings):
    """The small plan as of 20 May 2022; 甲局 reports a tenth of its pace for 轰鸣's 产值 every week since January."""
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    plan = load_small_plan()
    make_user("supervisor", role=Role.SUPERVISOR)
    dept_a = Department.objects.get(code="dept-a")
    make_user("staff-a", role=Role.STAFF, departments=[dept_a])
    indicator = Indicator.objects.get(code="output-1")
    week = datetime.date(2022, 1, 3)
    while week <= datetime.date(2022, 5, 16):
        for department, value in ((dept_a, "0.1"), (Department.objects.get(code="dept-b"), "0.8")):
            Figure.objects.create(indicator=indicator, department=department, period_start=week, value=Decimal(value),
                                  entered_at=datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC))
        week += datetime.timedelta(days=7)
    rollup_plan_weeks(plan=plan, first=datetime.date(2022, 4, 18), last=datetime.date(2022, 5, 20))
    return SupervisionOrder.objects.get(plan=plan, subject_key=f"indicator:{indicator.pk}")


class OrderLoopTests:
    def test_an_order_escalated_over_weeks_is_chased_answered_with_evidence_and_verified(
        self, live_server, behind, page, screenshot, tmp_path
    ):
        order = behind
        assert order.level == OrderLevel.RED  # issued in April, red once the plan's three red weeks ran

        # The office finds it on the orders page and chases it (催办).
        login(page, live_server.url, "supervisor")
        page.goto(f"{live_server.url}/supervision/orders/")
        page.click(f"a[href='/supervision/orders/{order.pk}/']")
        history = page.locator("#order-history").inner_text()
        assert "签发" in history and "升级" in history  # issued yellow, escalated to red over the weeks
        page.fill("#remind-form input[name=note]", "请于本周内回复")
        page.click("#remind-form button")
        page.wait_for_selector(".messages")
        assert "已记录催办" in page.locator(".messages").inner_text()
        assert Reminder.objects.filter(department__code="dept-a").exists()
        assert "催办" in page.locator("#order-history").inner_text()
        screenshot(page, "order-reminded")

        # The unit finds it in 我的待办 (where it lands) and replies with its measures and a PDF.
        login(page, live_server.url, "staff-a")
        assert page.url.rstrip("/").endswith("/inbox")
        item = page.locator(f".inbox-item a[href='{order.get_absolute_url()}']")
        assert "产值" in item.inner_text()
        item.click()
        page.wait_for_selector("#reply-form")
        page.fill("#id_measures", "增派专班，逐企调度，六月底前补齐缺口")
        page.fill("#id_expected_date", "2022-06-30")
        evidence = tmp_path / "整改方案.pdf"
        evidence.write_bytes(pdf_bytes())
        page.set_input_files("#id_file", str(evidence))
        page.click("#reply-form button")
        page.wait_for_selector(".messages")
        order.refresh_from_db()
        assert order.status == OrderStatus.REPLIED
        reply = OrderReply.objects.get(order=order)
        assert reply.original_name == "整改方案.pdf" and reply.content_type == "application/pdf"
        assert page.locator("#reply-form").count() == 0  # waiting for verification: nothing more to send

        # The office verifies it: accepted, and the order stays open until the numbers recover.
        login(page, live_server.url, "supervisor")
        page.goto(f"{live_server.url}{order.get_absolute_url()}")
        page.check("#verify-form input[value=accept]")
        page.click("#verify-form button")
        page.wait_for_selector(".messages")
        order.refresh_from_db()
        assert order.status == OrderStatus.ACCEPTED and order.is_open
        assert "已采纳" in page.locator("[data-reply] [data-field=verdict]").first.inner_text()
        screenshot(page, "order-verified")
        assert page.problems == []

    def test_a_reply_without_measures_is_refused_in_words_and_nothing_is_saved(self, live_server, behind, page):
        login(page, live_server.url, "staff-a")
        page.goto(f"{live_server.url}{behind.get_absolute_url()}")
        page.fill("#id_expected_date", "2022-06-30")
        page.eval_on_selector("#id_measures", "el => el.removeAttribute('required')")
        page.fill("#id_measures", "   ")
        page.click("#reply-form button")
        page.wait_for_selector(".errorlist, .messages")
        assert OrderReply.objects.count() == 0
        assert page.locator("#reply-form").count() == 1

    def test_the_office_closes_an_order_by_hand_and_issues_one_by_hand(self, live_server, behind, page):
        login(page, live_server.url, "supervisor")
        page.goto(f"{live_server.url}{behind.get_absolute_url()}")
        page.fill("#close-form textarea[name=reason]", "已并入专项督查")
        page.click("#close-form button")
        page.wait_for_selector(".messages")
        behind.refresh_from_db()
        assert behind.closed_on is not None and behind.close_reason == "已并入专项督查"
        assert "已并入专项督查" in page.locator("[data-field=close-reason]").inner_text()

        page.goto(f"{live_server.url}/supervision/orders/")
        page.select_option("#issue-form select[name=subject_kind]", "indicator")
        page.select_option("#issue-form select[name=indicator]", str(behind.indicator_id))
        page.select_option("#issue-form select[name=level]", "yellow")
        page.fill("#issue-form textarea[name=reason]", "领导批示：加快进度")
        page.click("#issue-form button")
        page.wait_for_selector("#order-history")
        order = SupervisionOrder.objects.get(closed_on__isnull=True, issued_by__username="supervisor")
        assert (order.level, order.reason) == (OrderLevel.YELLOW, "领导批示：加快进度")
        assert page.url.endswith(order.get_absolute_url())
