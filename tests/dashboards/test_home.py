import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import Indicator, Task
from metrics.rollup.services import rollup_plan_week


@pytest.mark.django_db
class HomeTests:
    def test_it_sends_anonymous_visitors_to_the_login_page(self, client, cast):
        for url in ["/", reverse("metrics:overview"), "/admin/"]:
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith("/admin/login/" if url == "/admin/" else reverse("login"))

    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_it_shows_every_role_the_eight_action_cards(self, client, cast, who):
        client.force_login(getattr(cast, who))
        response = client.get(reverse("metrics:overview"))
        assert response.status_code == 200
        cards = list(response.context["actions"])
        assert [a.codename for a in cards] == ["轰鸣", "火炬", "奔跑", "沃土", "添砖", "焕颜", "增色", "提升"]
        assert all(a.task_count == 1 and a.indicator_count == 1 for a in cards)
        assert response.content.decode().count('class="card"') == 8

    def test_it_counts_tasks_and_indicators_per_action(self, client, cast):
        first = Task.objects.get(action__number=1)
        extra = Task.objects.create(action=first.action, number=2, title="新任务", lead_department=cast.dept_a, deadline=datetime.date(2022, 12, 31))
        for code in ["x-1", "x-2"]:
            Indicator.objects.create(task=extra, code=code, name=code, unit="个", kind="count", annual_target=3)
        client.force_login(cast.leader)
        card = client.get(reverse("metrics:overview")).context["actions"][0]
        assert (card.task_count, card.indicator_count) == (2, 3)

    def test_it_shows_the_freshness_of_the_latest_rollup(self, client, cast, settings):
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
        client.force_login(cast.leader)
        assert "尚未汇总" in client.get(reverse("metrics:overview")).content.decode()
        rollup_plan_week(plan=cast.plan)
        html = client.get(reverse("metrics:overview")).content.decode()
        assert "第20周" in html and "2022-05-20" in html and "0/2 个单位" in html

    def test_its_query_count_does_not_grow_with_the_plan(self, client, cast):
        client.force_login(cast.leader)
        client.get(reverse("metrics:overview"))  # warm up session and caches
        with CaptureQueriesContext(connection) as small:
            client.get(reverse("metrics:overview"))
        action = cast.plan.actions.get(number=3)
        for n in range(2, 12):
            task = Task.objects.create(action=action, number=n, title=f"t{n}", lead_department=cast.dept_b, deadline=datetime.date(2022, 12, 31))
            Indicator.objects.create(task=task, code=f"i-{n}", name="n", unit="个", kind="count", annual_target=1)
        with CaptureQueriesContext(connection) as large:
            client.get(reverse("metrics:overview"))
        assert len(large) == len(small)


@pytest.mark.django_db
class LanguageTests:
    def test_it_speaks_chinese_even_to_an_english_browser(self, client, cast):
        client.force_login(cast.leader)
        response = client.get(reverse("metrics:overview"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html
        assert "退出" in html and "Log out" not in html

    def test_it_switches_to_english_on_request(self, client, cast):
        client.force_login(cast.leader)
        response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        html = client.get(reverse("metrics:overview")).content.decode()
        assert '<html lang="en">' in html and "Log out" in html

    def test_anonymous_visitors_may_switch_language_on_the_login_page(self, client):
        response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
        assert response.status_code == 302 and response.url == reverse("login")


@pytest.mark.django_db
class LoginTests:
    def test_it_logs_in_and_out(self, client, cast):
        response = client.post(reverse("login"), {"username": "leader", "password": "pw"})
        assert response.status_code == 302 and response.url == reverse("home")
        assert client.get(reverse("home")).url == reverse("metrics:overview")
        assert client.get(reverse("metrics:overview")).status_code == 200
        client.post(reverse("logout"))
        assert client.get(reverse("metrics:overview")).status_code == 302

    @pytest.mark.parametrize("username, password", [("leader", "wrong"), ("nobody", "pw")])
    def test_a_wrong_login_does_not_say_which_part_was_wrong(self, client, cast, username, password):
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 200
        html = response.content.decode()
        assert "请输入一个正确的" in html
        assert "不存在" not in html
        assert not response.wsgi_request.user.is_authenticated
