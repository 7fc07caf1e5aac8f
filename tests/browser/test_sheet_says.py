"""The staff sheet says what will happen before it happens, at 1366 px and 390 px, driven by its real buttons."""

import datetime
from decimal import Decimal

import pytest

from actions.choices import EntryMode, Frequency
from actions.models import Department, Indicator
from metrics.models import Figure
from planboard.roles import Role
from tests.browser.test_entry import login
from tests.factories import load_small_plan, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

@pytest.fixture
def people(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    load_small_plan()
    dept_a = Department.objects.get(code="dept-a")
    make_user("staff-a", role=Role.STAFF, departments=[dept_a])
    make_user("staff-a2", role=Role.STAFF, departments=[dept_a])
    make_user("supervisor", role=Role.SUPERVISOR)
    return dept_a


def open_sheet(page):
    page.click("nav >> text=填报表")
    page.wait_for_selector("#sheet-form")


def fits(page):
    """Nothing sticks out sideways: the page needs no horizontal scrolling (the culprits are named)."""
    wide = page.evaluate(
        """w => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1)
                 .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], wide


class SheetSaysTests:
    def test_a_value_in_a_not_applicable_cell_is_refused_on_that_cell(self, live_server, people, page, screenshot):
        login(page, live_server.url, "staff-a")
        open_sheet(page)
        row = page.locator(".entry-row").nth(1)
        row.locator("input.value-input").fill("12")
        row.locator("input[type=checkbox][name^=na-]").check()
        row.locator("input.note-input").fill("本周停产")
        page.click("#save")
        row = page.locator(".entry-row").nth(1)
        assert "已勾选“不适用”，却又填了数值" in row.locator(".field-error").inner_text()
        assert row.locator("input.value-input").input_value() == "12"
        assert Figure.objects.count() == 0
        fits(page)
        screenshot(page, "sheet-na-with-value")

    def test_a_submitted_sheet_says_it_waits_and_is_locked_then_a_returned_one_says_one_sentence(
        self, live_server, people, page, screenshot
    ):
        base = live_server.url
        login(page, base, "staff-a")
        open_sheet(page)
        values = page.locator("input.value-input")
        for i in range(values.count()):
            values.nth(i).fill(str(i + 1))
        page.click("#submit")
        assert "已报送督查办" in page.locator(".messages").inner_text()
        assert "正在等待督查办审核，审核通过或退回前不能修改" in page.locator("#lock-reason").inner_text()
        assert page.locator("#save").count() == 0 and page.locator("#submit").count() == 0
        assert page.locator("input.value-input").first.is_disabled()
        assert page.locator("#reopen-form").count() == 0
        fits(page)
        screenshot(page, "sheet-submitted")

        login(page, base, "supervisor")
        page.click("nav >> text=审核队列")
        page.click("#review-queue a")
        page.fill("#review-comment-input", "第二项数据偏高，请核实")
        page.click("#return")
        assert "已连同您的意见退回填报单位" in page.locator(".messages").inner_text()

        login(page, base, "staff-a")
        open_sheet(page)
        notice = page.locator("#review-comment").inner_text()
        assert "督查办已于 2022-05-20 退回本表：“第二项数据偏高，请核实”。请修改后重新报送，2022-05-23 前可修改。" in notice
        assert "督查办已重新开放本表" not in page.content()
        assert page.locator("#lock-reason").count() == 0
        assert "前可修改" not in page.locator("#sheet-status").inner_text()
        assert page.locator("#save").count() == 1
        fits(page)
        screenshot(page, "sheet-returned")

    def test_the_monthly_link_opens_the_month_one_can_fill_and_the_locked_month_is_beside_it(
        self, live_server, people, page, screenshot
    ):
        Indicator.objects.filter(code="output-1").update(frequency=Frequency.MONTHLY)
        login(page, live_server.url, "staff-a")
        open_sheet(page)
        page.click("#other-sheet")
        assert "月报 2022-05" in page.locator("h1").inner_text()
        assert page.locator("#save").count() == 1 and page.locator("#lock-reason").count() == 0
        fits(page)
        screenshot(page, "sheet-month-to-act-on")
        page.go_back()
        assert "月报 2022-04 (已锁定)" in page.locator("#other-due-sheet").inner_text()
        page.click("#other-due-sheet")
        assert "月报 2022-04" in page.locator("h1").inner_text()
        assert "已锁定" in page.locator("#lock-reason").inner_text()
        assert page.locator("#reopen-form").count() == 1
        screenshot(page, "sheet-month-locked")

    def test_a_corrected_cumulative_of_a_reopened_month_saves(self, live_server, people, page, screenshot):
        Indicator.objects.filter(code="output-1").update(frequency=Frequency.MONTHLY, entry_mode=EntryMode.CUMULATIVE)
        indicator = Indicator.objects.get(code="output-1")
        for month in (1, 2, 3):
            Figure.objects.create(indicator=indicator, department=people, period_start=datetime.date(2022, month, 1),
                                  value=Decimal("20.8972"), entered_at=datetime.datetime(2022, month + 1, 2, tzinfo=datetime.UTC))
        base = live_server.url
        login(page, base, "staff-a")
        open_sheet(page)
        page.click("#other-sheet")
        page.select_option("select[name=period]", "2022-03-01")
        page.wait_for_selector("#reopen-form")
        page.fill("#reopen-reason", "3月累计值填错")
        page.click("#reopen-form button")
        assert "重新开放申请已提交督查办" in page.locator(".messages").inner_text()

        login(page, base, "supervisor")
        page.click("nav >> text=审核队列")
        page.click("#reopen-queue button[value=grant]")
        assert "已同意重新开放申请" in page.locator(".messages").inner_text()

        login(page, base, "staff-a")
        open_sheet(page)
        page.click("#other-sheet")  # reopened, March is now the month to act on
        assert "月报 2022-03" in page.locator("h1").inner_text()
        value = page.locator("input.value-input").first
        assert value.input_value() == "62.6916"
        value.fill("55.5")  # below the unit's target share of 60, so no confirming note is asked
        page.click("#save")
        assert "已保存" in page.locator(".messages").inner_text()
        assert page.locator("input.value-input").first.input_value() == "55.5"
        assert Figure.objects.get(indicator=indicator, period_start=datetime.date(2022, 3, 1)).value == Decimal("13.7056")
        fits(page)
        screenshot(page, "sheet-cumulative-corrected")

    def test_two_colleagues_editing_different_cells_both_save(self, live_server, people, page, browser, screenshot):
        base = live_server.url
        other = browser.new_context(viewport=page.viewport_size, locale="en-US").new_page()
        try:
            login(page, base, "staff-a")
            open_sheet(page)
            login(other, base, "staff-a2")
            other.click("nav >> text=填报表")
            other.wait_for_selector("#sheet-form")
            page.locator("input.value-input").nth(0).fill("11")
            page.click("#save")
            assert "已保存：修改了 1 个数据" in page.locator(".messages").inner_text()
            other.locator("input.value-input").nth(1).fill("22")
            other.click("#save")
            assert "已保存：修改了 1 个数据" in other.locator(".messages").inner_text()
            assert other.locator(".field-error").count() == 0
            assert sorted(Figure.objects.values_list("value", flat=True)) == [Decimal("11"), Decimal("22")]
            other.viewport_name = page.viewport_name
            screenshot(other, "sheet-colleagues")
        finally:
            other.context.close()
