"""销号 and 延期 through the real buttons: staff of the lead unit ask on the task's page, the office decides on
its queue, and the ledger shows the result."""

import datetime

import pytest
from django.core.files.base import ContentFile

from actions.models import Department, Milestone, Task
from metrics.models import Evidence, Figure
from metrics.rollup.services import rollup_plan_weeks
from planboard.roles import Role
from tests.browser.test_entry import login
from tests.factories import load_small_plan, make_user
from tests.metrics.test_bad_input import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date


@pytest.fixture
def office(settings, tmp_path):
    """Task 1.1 finished (100 of 100 reported, its node done, a file of evidence); task 2.1 due on 31 October."""
    settings.PLANBOARD_TODAY = D(2022, 5, 20)
    settings.MEDIA_ROOT = tmp_path
    plan = load_small_plan()
    dept_a, dept_b = Department.objects.get(code="dept-a"), Department.objects.get(code="dept-b")
    make_user("supervisor", role=Role.SUPERVISOR)
    staff = make_user("staff-a", role=Role.STAFF, departments=[dept_a])
    finished = Task.objects.get(action__plan=plan, action__number=1, number=1)
    for department, value in [(dept_a, 60), (dept_b, 40)]:
        Figure.objects.create(indicator=finished.indicators.get(), department=department, period_start=D(2022, 5, 9), value=value,
                              entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))
    Milestone.objects.filter(task=finished).update(done_date=D(2022, 3, 30))
    item = Evidence(task=finished, department=dept_a, period_start=D(2022, 5, 16), original_name="验收报告.pdf",
                    content_type="application/pdf", size=10, uploaded_by=staff)
    item.file.save("report.pdf", ContentFile(pdf_bytes()), save=False)
    item.save()
    Task.objects.filter(action__plan=plan, action__number=2, number=1).update(deadline=D(2022, 10, 31))
    rollup_plan_weeks(plan=plan, first=D(2022, 5, 9), last=D(2022, 5, 20))
    return plan


def open_task_from_ledger(page, base, action: int, outline: str):
    page.goto(f"{base}/dashboards/actions/{action}/")
    page.locator(f'tr[data-task="{outline}"] a.closeoff-link').click()
    page.wait_for_selector("#objective-test")


def decide_on_queue(page, base, queue: str, button: str):
    page.goto(f"{base}/supervision/")
    page.locator("#closeoff-requests-link").click()
    page.locator(f"#{queue} li").first.get_by_role("button", name=button).click()
    page.wait_for_selector(".messages")


class CloseoffTests:
    def test_staff_propose_a_finished_task_the_office_accepts_and_the_ledger_says_closed(self, live_server, office, page, screenshot):
        base = live_server.url
        login(page, base, "staff-a")
        open_task_from_ledger(page, base, 1, "1.1")
        criteria = page.locator("#objective-test li.criterion")
        assert criteria.count() == 3 and page.locator('#objective-test li.criterion[data-met="1"]').count() == 3
        page.get_by_label("验收报告.pdf").check()
        screenshot(page, "closeoff-task")
        page.locator("#closeoff-button").click()
        page.wait_for_selector(".messages")
        assert "销号申请已提交督查办" in page.locator(".messages").inner_text()
        assert page.locator("#pending-closeoff").is_visible()

        login(page, base, "supervisor")
        page.goto(f"{base}/supervision/closeoff/")
        screenshot(page, "closeoff-queue")
        decide_on_queue(page, base, "closeoff-queue", "核验通过，销号")
        assert "已销号" in page.locator(".messages").inner_text()

        page.goto(f"{base}/dashboards/actions/1/")
        row = page.locator('tr[data-task="1.1"]')
        assert "已销号" in row.inner_text()
        screenshot(page, "closeoff-ledger")
        assert Task.objects.get(action__number=1, number=1).status == "closed"
        assert page.problems == []

    def test_staff_ask_an_extension_the_office_grants_and_the_ledger_shows_the_new_deadline(self, live_server, office, page, screenshot):
        base = live_server.url
        login(page, base, "staff-a")
        open_task_from_ledger(page, base, 2, "2.1")
        page.fill('input[name="new_deadline"]', "2022-11-30")
        page.fill('textarea[name="reason"]', "设备延迟到货")
        page.locator("#extension-button").click()
        page.wait_for_selector(".messages")
        assert "延期申请已提交督查办" in page.locator(".messages").inner_text()

        login(page, base, "supervisor")
        decide_on_queue(page, base, "extension-queue", "同意")
        assert "2022-11-30" in page.locator(".messages").inner_text()

        page.goto(f"{base}/dashboards/actions/2/")
        assert "2022-11-30（原定 2022-10-31）" in page.locator('tr[data-task="2.1"]').inner_text()
        open_task_from_ledger(page, base, 2, "2.1")
        assert page.locator("#task-deadline").inner_text() == "2022-11-30"
        assert page.locator('#record tr[data-kind="extension"][data-status="granted"]').count() == 1
        screenshot(page, "extension-task")
        assert page.problems == []

    def test_a_bad_date_is_refused_in_chinese_and_nothing_is_sent(self, live_server, office, page):
        base = live_server.url
        login(page, base, "staff-a")
        open_task_from_ledger(page, base, 2, "2.1")
        page.fill('input[name="new_deadline"]', "2022-10-01")
        page.fill('textarea[name="reason"]', "原因")
        page.locator("#extension-button").click()
        page.wait_for_selector("#deadline-error")
        assert page.locator("#deadline-error").inner_text() == "新的完成时限必须晚于当前时限（2022-10-31）。"
