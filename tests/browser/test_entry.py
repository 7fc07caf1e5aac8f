"""Staff fill, save, submit and correct a week's sheet in Chromium; the supervisor returns and approves it."""

import datetime

import pytest

from actions.models import Department
from metrics.models import Figure, Sheet
from planboard.roles import Role
from tests.factories import load_small_plan, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    load_small_plan()
    dept_a = Department.objects.get(code="dept-a")
    make_user("staff-a", role=Role.STAFF, departments=[dept_a])
    make_user("supervisor", role=Role.SUPERVISOR)
    return dept_a


def login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("#login-submit")
    page.wait_for_selector(".nav")


def paste(page, selector, text):
    page.eval_on_selector(
        selector,
        """(el, text) => {
            const data = new DataTransfer();
            data.setData('text/plain', text);
            el.focus();
            el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        text,
    )


class EntryFlowTests:
    def test_staff_fill_save_submit_and_correct_a_week_and_the_supervisor_returns_and_approves(
        self, live_server, people, page, screenshot
    ):
        base = live_server.url
        login(page, base, "staff-a")
        page.click("nav >> text=填报表")
        page.wait_for_selector("#sheet-form")
        assert "周报 2022-05-16 至 2022-05-22" in page.locator("h1").inner_text()
        values = page.locator("input.value-input")
        assert values.count() == 8
        # Nothing sticks out sideways: on a 375 px phone the sheet needs no horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

        # A column copied from Excel fills the inputs downwards from the one pasted into.
        paste(page, "input.value-input >> nth=0", "1,200\r\n15.5\r\n7\r\n")
        assert [values.nth(i).input_value() for i in range(4)] == ["1,200", "15.5", "7", ""]
        for i in range(3, 7):
            values.nth(i).fill(str(i + 1))
        page.locator("input[type=checkbox][name^=na-]").nth(7).check()
        page.locator("input.note-input").nth(7).fill("本周停产")
        # 1,200 is 20 times the unit's whole annual target: it goes through only with a confirming note.
        page.locator("input.note-input").nth(0).fill("大项目投产，已核实")
        values.nth(1).fill("abc")
        page.click("#save")
        assert "请输入数字，例如 12.5。" in page.locator(".field-error").first.inner_text()
        assert Figure.objects.count() == 0
        screenshot(page, "entry-error")

        page.locator("input.value-input").nth(1).fill("15.5")
        page.click("#save")
        assert "已保存：修改了 8 个数据" in page.locator(".messages").inner_text()
        assert Figure.objects.count() == 8
        assert page.locator("input.value-input").nth(0).input_value() == "1200"

        page.click("#submit")
        assert "已报送督查办" in page.locator(".messages").inner_text()
        assert page.locator("#sheet-status .badge").inner_text() == "已报送"
        screenshot(page, "entry-submitted")

        login(page, base, "supervisor")
        page.click("nav >> text=审核队列")
        page.click("#review-queue a")
        assert page.locator("input.value-input").first.is_disabled()
        page.click("#return")  # a return without a comment is refused
        assert "退回必须填写意见" in page.locator(".messages").inner_text()
        page.fill("#review-comment-input", "第二项数据偏高，请核实")
        page.click("#return")
        assert "已连同您的意见退回填报单位" in page.locator(".messages").inner_text()

        login(page, base, "staff-a")
        page.click("nav >> text=填报表")
        assert "第二项数据偏高，请核实" in page.locator("#review-comment").inner_text()
        screenshot(page, "entry-returned")
        page.locator("input.value-input").nth(1).fill("5.5")
        page.click("#submit")
        assert "已报送督查办（修改了 1 个数据）" in page.locator(".messages").inner_text()
        assert Figure.objects.get(indicator__task__action__number=2).value == 5.5

        login(page, base, "supervisor")
        page.click("nav >> text=审核队列")
        page.click("#review-queue a")
        page.click("#approve")
        assert "已审核通过：数据已锁定" in page.locator(".messages").inner_text()
        assert "没有待审核的填报表" in page.content()
        assert Sheet.objects.get().status == "approved"

        login(page, base, "staff-a")
        page.click("nav >> text=填报表")
        assert "已锁定：督查办已于" in page.locator("#lock-reason").inner_text()
        assert page.locator("#save").count() == 0
        screenshot(page, "entry-approved")
        # The one refused save answers 400 (nothing saved), which Chromium logs; nothing else went wrong.
        assert page.problems == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
