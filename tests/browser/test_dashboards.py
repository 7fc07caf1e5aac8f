"""A leader reads the dashboards in Chromium; a staff member's save shows on the overview (Celery eager)."""

import datetime
import io
import re

import openpyxl
import pytest
from django.db.models import Q
from django.utils import timezone

from actions.models import Department, Indicator, Task
from metrics.models import Figure
from metrics.rollup.services import rollup_plan_weeks
from planboard.roles import Role
from tests.factories import load_small_plan, make_user, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_HAS_DATA = """(selector) => {
    const canvas = document.querySelector(selector);
    const chart = canvas && window.Chart && Chart.getChart(canvas);
    return !!chart && chart.data.datasets[0].data.length > 0;
}"""


def login(page, base, username, password):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_selector(".nav")


@pytest.fixture
def demo(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    seed_demo(verbosity=0)


class DashboardFlowTests:
    def test_the_leader_reads_the_overview_an_action_and_exports_the_ledger(self, live_server, demo, page, screenshot):
        base = live_server.url
        login(page, base, "leader", "planboard-demo")
        assert page.locator("article.card").count() == 8
        page.wait_for_function(CHART_HAS_DATA, arg='canvas[data-sparkline="1"]')
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        screenshot(page, "overview")

        # The as-of selector shows the dashboard as it stood in an earlier week.
        before = page.locator('[data-kpi="schedule"]').inner_text()
        card_before = page.locator('article[data-action="1"] [data-attainment]').inner_text()
        with page.expect_navigation():
            page.select_option("#asof-week", "2022-03-07")
        assert "week=2022-03-07" in page.url
        assert page.locator('[data-kpi="schedule"]').inner_text() != before
        assert page.locator('article[data-action="1"] [data-attainment]').inner_text() != card_before

        page.click('article[data-action="1"] h2 a')
        page.wait_for_selector("#action-chart")
        assert "week=2022-03-07" in page.url
        page.wait_for_function(CHART_HAS_DATA, arg="#action-chart")
        # 轰鸣's ledger: its three task groups and their sub-tasks (13 rows), as the speech has them.
        tasks = Task.objects.filter(action__plan__year=2022, action__number=1)
        assert tasks.filter(parent=None).count() == 3
        assert page.locator("table.data-table").last.locator("tbody tr").count() == tasks.count() == 13
        screenshot(page, "action")

        with page.expect_download() as download:
            page.click('[data-export="xlsx"]')
        assert download.value.suggested_filename == "ledger-2022-action1-2022-03-07.xlsx"
        with open(download.value.path(), "rb") as handle:
            sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).active
        rows = list(sheet.values)
        assert rows[0][:2] == ("序号", "工作任务") and len(rows) == 1 + tasks.count()

        page.click(".fallback summary")  # the chart as a table, each indicator linked
        page.click(".fallback table a >> nth=0")
        page.wait_for_function(CHART_HAS_DATA, arg='canvas[data-chart="indicator-path"]')
        screenshot(page, "indicator")
        page.goto(f"{base}/dashboards/rankings/")
        screenshot(page, "rankings")
        # The overview and the rankings print as a one-page weekly bulletin (周通报) on A4.
        for path in ["/", "/dashboards/rankings/"]:
            page.goto(f"{base}{path}")
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True)
            assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, path
            page.emulate_media(media="screen")
        page.goto(f"{base}/supervision/")
        screenshot(page, "supervision")
        assert page.problems == []

    def test_the_leader_narrows_an_actions_ledger_to_one_unit(self, live_server, demo, page):
        base = live_server.url
        login(page, base, "leader", "planboard-demo")
        tasks = Task.objects.filter(action__plan__year=2022, action__number=1)
        # A unit that leads or shares some of the action's tasks, not all of them.
        counts = {
            unit: tasks.filter(Q(lead_department=unit) | Q(co_departments=unit)).distinct().count()
            for unit in Department.objects.order_by("code")
        }
        unit, shown = next((unit, n) for unit, n in counts.items() if 0 < n < tasks.count())
        page.goto(f"{base}/dashboards/actions/1/")
        units = page.locator('form.filters select[name="department"]')
        assert units.locator("option").count() == Department.objects.count() + 1  # and 全部
        units.select_option(str(unit.pk))
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert f"department={unit.pk}" in page.url
        assert page.locator("table.data-table").last.locator("tbody tr").count() == shown
        assert units.input_value() == str(unit.pk)  # the choice stays chosen
        assert page.problems == []


@pytest.fixture
def small(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    plan = load_small_plan()
    make_user("leader", role=Role.LEADER)
    make_user("staff-a", role=Role.STAFF, departments=[Department.objects.get(code="dept-a")])
    # Both units reported last week (the latest period due at 10:00 on Friday), and 乙局 this week too: the
    # total is complete (not 未报) whatever 甲局 saves this week.
    for indicator in Indicator.objects.filter(task__action__plan=plan):
        for code, week in [("dept-a", datetime.date(2022, 5, 9)), ("dept-b", datetime.date(2022, 5, 9)), ("dept-b", datetime.date(2022, 5, 16))]:
            Figure.objects.create(indicator=indicator, department=Department.objects.get(code=code),
                                  period_start=week, value=1, entered_at=timezone.now())
    rollup_plan_weeks(plan=plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    return plan



class SavedFigureTests:
    def test_the_leader_pages_through_a_units_indicators_at_an_earlier_week(self, live_server, demo, page, monkeypatch):
        from django.db.models import Count

        from metrics.dashboards import views

        monkeypatch.setattr(views, "INDICATORS_PER_PAGE", 3)
        unit = Department.objects.annotate(n=Count("assignments")).order_by("-n", "pk").first()
        assert unit.n > 3
        login(page, live_server.url, "leader", "planboard-demo")
        page.goto(f"{live_server.url}/dashboards/departments/{unit.pk}/?week=2022-03-07")
        rows = 'section[aria-labelledby="ind-title"] tbody tr'
        first = page.locator(rows).all_inner_texts()
        assert len(first) == 3
        with page.expect_navigation():
            page.locator('section[aria-labelledby="ind-title"]').get_by_role("link", name="下一页").click()
        assert "i-page=2" in page.url and "week=2022-03-07" in page.url
        second = page.locator(rows).all_inner_texts()
        assert second and not set(second) & set(first)
        assert page.locator("#asof-week").input_value() == "2022-03-07"

    def test_a_figure_saved_on_the_sheet_shows_on_the_overview(self, live_server, small, page, screenshot):
        base = live_server.url
        login(page, base, "leader", "pw")
        card = page.locator('article[data-action="1"] [data-attainment]')
        before = card.inner_text()

        login(page, base, "staff-a", "pw")
        page.click("nav >> text=填报表")
        page.wait_for_selector("#sheet-form")
        page.locator("input.value-input").nth(0).fill("30")
        page.click("#save")
        assert "已保存" in page.locator(".messages").inner_text()

        login(page, base, "leader", "pw")
        after = page.locator('article[data-action="1"] [data-attainment]').inner_text()
        assert after != before
        screenshot(page, "overview-after-save")
        assert page.problems == []
