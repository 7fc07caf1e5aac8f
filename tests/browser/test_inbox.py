"""我的待办 in a browser: a staff member signs in and lands on it, with a returned sheet's comment and an open
order with its deadline; the office lands on its own."""

import datetime

import pytest

from actions.models import Department
from planboard.roles import Role
from tests.factories import load_small_plan, make_user
from tests.metrics.inbox import order, returned_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def unit(settings):
    from tests.conftest import Cast

    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    plan = load_small_plan()
    dept_a, dept_b = Department.objects.get(code="dept-a"), Department.objects.get(code="dept-b")
    cast = Cast(plan=plan, dept_a=dept_a, dept_b=dept_b, leader=None, supervisor=make_user("supervisor", role=Role.SUPERVISOR),
                staff_a=make_user("staff-a", role=Role.STAFF, departments=[dept_a]), staff_b=None, anonymous=None)
    returned_sheet(cast, comment="第3项产值单位有误，请核对后重新报送")
    order(cast, deadline=datetime.date(2022, 5, 25))
    order(cast, number=2, deadline=datetime.date(2022, 5, 19), reason="新开工项目数慢于序时进度 20.0 个百分点")
    return cast


def sign_in(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("#login-submit")
    page.wait_for_selector("h1")


class InboxTests:
    def test_staff_land_on_their_inbox_and_see_the_comment_and_the_order(self, live_server, unit, page, screenshot):
        sign_in(page, live_server.url, "staff-a")
        assert page.url == f"{live_server.url}/inbox/"
        assert page.locator("h1").inner_text() == "我的待办"
        assert page.locator("nav a[aria-current=page]").inner_text() == "我的待办"
        returned = page.locator("#inbox-returned_sheets .inbox-item")
        assert returned.count() == 1 and "第3项产值单位有误，请核对后重新报送" in returned.inner_text()
        orders = page.locator("#inbox-open_orders .inbox-item")
        assert orders.count() == 2
        assert "产值慢于序时进度 12.0 个百分点" in orders.nth(1).inner_text() and "2022-05-25" in orders.nth(1).inner_text()
        assert "已逾期" in orders.nth(0).inner_text() and "已逾期" not in orders.nth(1).inner_text()
        due = page.locator("#inbox-sheets_due .inbox-item")
        assert "2022-05-20 17:00" in due.inner_text()
        # The item links to the sheet, which says the same comment.
        returned.locator("a").click()
        page.wait_for_selector("h1")
        assert "第3项产值单位有误，请核对后重新报送" in page.content()
        page.go_back()
        page.wait_for_selector("#inbox-open_orders")
        screenshot(page, "inbox-staff")
        assert page.problems == []

    def test_the_office_lands_on_its_inbox(self, live_server, unit, page, screenshot):
        sign_in(page, live_server.url, "supervisor")
        assert page.url == f"{live_server.url}/inbox/"
        overdue = page.locator("#inbox-orders_overdue .inbox-item")
        assert overdue.count() == 1 and "新开工项目数慢于序时进度" in overdue.inner_text()
        assert page.locator("nav").get_by_text("发送记录").count() == 1
        screenshot(page, "inbox-office")
        assert page.problems == []


class DeliveryLogTests:
    def test_the_office_reads_the_delivery_log_and_filters_it_by_department(self, live_server, unit, page, screenshot, settings):
        from metrics.choices import ChannelKind, DeliveryAbout
        from metrics.models import Delivery
        from metrics.notifications.services import deadline_reminders_send

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        for user, email in [(unit.staff_a, "a@example.gov.cn"), (make_user("staff-b", role=Role.STAFF, departments=[unit.dept_b]), "b@example.gov.cn")]:
            user.email = email
            user.save()
        deadline_reminders_send(today=datetime.date(2022, 5, 19))
        Delivery.objects.create(department=unit.dept_a, kind=ChannelKind.WECOM, address="qyapi.weixin.qq.com", about=DeliveryAbout.REMINDER,
                                object_key="reminder:1", subject="督查办催办：产值", body="…", error="HTTP 502 from qyapi.weixin.qq.com")
        sign_in(page, live_server.url, "supervisor")
        page.locator("nav").get_by_text("发送记录").click()
        page.wait_for_selector("table")
        assert page.locator("tbody tr").count() == 3
        assert "HTTP 502 from qyapi.weixin.qq.com" in page.locator("tbody").inner_text()
        page.select_option("#id_department", label="乙局")
        page.locator("form.filters button").click()
        page.wait_for_selector("table")
        assert page.locator("tbody tr").count() == 1 and "b@example.gov.cn" in page.locator("tbody").inner_text()
        page.select_option("#id_department", index=0)
        page.locator("form.filters button").click()
        page.wait_for_selector("table")
        screenshot(page, "deliveries")
        assert page.problems == []
