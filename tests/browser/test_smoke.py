import datetime

import pytest
from django.core.management import call_command

from metrics.demo import DEMO_PASSWORD
from tests.factories import seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODENAMES = ["轰鸣", "火炬", "奔跑", "沃土", "添砖", "焕颜", "增色", "提升"]


@pytest.fixture
def demo(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    call_command("load_plan", verbosity=0)
    seed_demo(verbosity=0)


class SmokeTests:
    def test_the_leader_logs_in_and_sees_the_eight_actions(self, live_server, demo, page, screenshot):
        page.goto(live_server.url)
        assert page.url.startswith(f"{live_server.url}/login/")
        assert page.locator("h1").inner_text() == "登录"  # Chinese, although the browser asks for English

        page.fill("#id_username", "leader")
        page.fill("#id_password", "not-the-password")
        page.click("#login-submit")
        assert "请输入一个正确的" in page.locator(".form-error").inner_text()

        page.fill("#id_username", "leader")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(".card")
        assert page.locator(".card-codename").all_inner_texts() == CODENAMES
        assert "个单位已报送" in page.locator(".freshness").inner_text()
        path = screenshot(page, "home")
        assert path.stat().st_size > 10_000
        assert page.problems == []

    def test_the_language_switch_turns_the_page_english(self, live_server, demo, page):
        page.goto(f"{live_server.url}/login/")
        page.click("button[name=language][value=en]")
        assert page.locator("h1").inner_text() == "Log in"
        page.fill("#id_username", "supervisor")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(".nav")  # the office lands on its inbox; the overview is one click away
        page.click(".nav a[href='/dashboards/']")
        page.wait_for_selector(".card")
        assert "Lead department" in page.locator(".card").first.inner_text()
        assert page.problems == []
