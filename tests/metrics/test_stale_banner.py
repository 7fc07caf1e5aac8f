"""The stale banner: every page, the staff sheet included, says when roll-ups are behind, and why."""

import datetime

import pytest
from django.urls import reverse

from metrics.rollup.services import stale_mark
from metrics.tasks import rollup_stale
from tests.metrics.reporting import sheet_url

WEEK = datetime.date(2022, 5, 16)


@pytest.fixture(autouse=True)
def today(settings):
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)


@pytest.mark.django_db
class StaleBannerTests:
    def test_every_page_says_the_plan_is_stale_including_the_sheet(self, cast, client):
        stale_mark(plan=cast.plan, earliest=WEEK, reason="OperationalError: connection refused")
        client.force_login(cast.staff_a)
        for url in ("/", reverse("metrics:rankings"), reverse("metrics:supervision"), sheet_url(cast.dept_a)):
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            page = response.content.decode()
            assert 'id="stale-banner"' in page and "以来保存的数据尚未汇总" in page and "connection refused" in page

    def test_no_banner_once_caught_up(self, cast, client):
        stale_mark(plan=cast.plan, earliest=WEEK, reason="test")
        rollup_stale()
        client.force_login(cast.staff_a)
        assert 'id="stale-banner"' not in client.get(sheet_url(cast.dept_a)).content.decode()
