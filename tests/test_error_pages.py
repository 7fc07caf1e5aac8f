"""Error pages in the user's language that say what to do; the 500 page renders with no database and no request."""

from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.template import loader
from django.utils import translation

from tests.metrics.reporting import sheet_url


class ServerErrorPageTests:
    def test_it_renders_without_a_database_or_a_request(self):
        # No django_db mark: pytest-django makes any query here fail the test.
        with translation.override("zh-hans"):
            page = loader.get_template("500.html").render()
        assert "服务器错误" in page and "您的最后一次修改可能没有保存：请刷新页面并核对。" in page
        assert "Server Error (500)" not in page and 'class="lang-form"' not in page

    @pytest.mark.django_db
    def test_a_database_failure_shows_it_in_the_users_language(self, client, cast):
        client.raise_request_exception = False
        client.force_login(cast.staff_a)
        with mock.patch("planboard.views.HttpResponse", side_effect=OperationalError("server closed the connection")):
            response = client.get("/healthz")
            assert response.status_code == 500
            assert "请刷新页面并核对" in response.content.decode()
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
            response = client.get("/healthz")
        assert response.status_code == 500
        assert "Your last change may not have been saved: reload the page and check." in response.content.decode()


@pytest.mark.django_db
class NotFoundPageTests:
    def test_it_says_what_to_do_in_chinese(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        page = response.content.decode()
        assert "页面不存在" in page and "返回总览" in page and 'class="topbar"' in page

    def test_it_speaks_english_when_asked(self, client, cast):
        client.force_login(cast.staff_a)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        assert "Page not found" in client.get("/no-such-page/").content.decode()


@pytest.mark.django_db
class ForbiddenPageTests:
    def test_it_says_whom_to_ask(self, client, cast):
        client.force_login(cast.staff_b)
        response = client.get(sheet_url(cast.dept_a))
        assert response.status_code == 403
        assert "请联系督查办" in response.content.decode()
