"""The supervision office's 催办 through its real buttons (a test that posted hand-built data once hid that
every button's form was missing its week)."""

import datetime

import pytest

from actions.models import Department
from metrics.models import Reminder
from metrics.rollup.services import rollup_plan_weeks
from planboard.roles import Role
from tests.browser.test_entry import login
from tests.factories import load_small_plan, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    plan = load_small_plan()
    make_user("supervisor", role=Role.SUPERVISOR)
    make_user("staff-a", role=Role.STAFF, departments=[Department.objects.get(code="dept-a")])
    rollup_plan_weeks(plan=plan, first=datetime.date(2022, 5, 9), last=datetime.date(2022, 5, 20))
    return plan


class RemindTests:
    def test_the_office_clicks_remind_and_sees_the_record(self, live_server, office, page, screenshot):
        login(page, live_server.url, "supervisor")
        page.goto(f"{live_server.url}/supervision/?week=2022-05-09")
        buttons = page.locator("form.remind-form button")
        assert buttons.count() > 0
        buttons.first.click()
        page.wait_for_selector(".messages")
        assert "已记录催办" in page.locator(".messages").inner_text()
        assert page.url.endswith("/supervision/?week=2022-05-09")
        reminder = Reminder.objects.get()
        assert reminder.week == datetime.date(2022, 5, 9) and reminder.reminded_by.username == "supervisor"
        assert reminder.department.short_name in page.locator("#rem-title + div, #rem-title ~ *").first.inner_text()
        screenshot(page, "supervision-reminded")
        assert page.problems == []

    def test_staff_see_no_remind_button(self, live_server, office, page):
        login(page, live_server.url, "staff-a")
        page.goto(f"{live_server.url}/supervision/")
        assert page.locator("form.remind-form").count() == 0
