from dataclasses import dataclass

import pytest
from celery import current_app
from django.contrib.auth.models import AnonymousUser

from actions.models import Department
from planboard.roles import Role
from tests.factories import load_small_plan, make_user, seed_demo


@dataclass
class Cast:
    """The standard cast: a leader, a supervisor (督查办), staff of department A and of department B."""

    plan: object
    dept_a: Department
    dept_b: Department
    leader: object
    supervisor: object
    staff_a: object
    staff_b: object
    anonymous: object


@pytest.fixture
def cast(db):
    plan = load_small_plan()
    dept_a, dept_b = Department.objects.get(code="dept-a"), Department.objects.get(code="dept-b")
    return Cast(
        plan=plan,
        dept_a=dept_a,
        dept_b=dept_b,
        leader=make_user("leader", role=Role.LEADER),
        supervisor=make_user("supervisor", role=Role.SUPERVISOR),
        staff_a=make_user("staff-a", role=Role.STAFF, departments=[dept_a]),
        staff_b=make_user("staff-b", role=Role.STAFF, departments=[dept_b]),
        anonymous=AnonymousUser(),
    )


@pytest.fixture(autouse=True)
def tasks_run_in_process(request):
    """Run Celery tasks eagerly, except in tests marked `worker`, which need the real worker of .ci/run.

    A test's data is not committed (each test runs in a rolled-back transaction), so a worker in another
    process could not see it.
    """
    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


@pytest.fixture
def demo_plan(db, settings):
    """seed_demo's 2022 plan, figures up to 20 May 2022 rolled up every week, and its accounts."""
    import datetime

    from actions.models import Plan

    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    seed_demo(verbosity=0)
    return Plan.objects.get(year=2022)


def count_queries(client, url) -> int:
    """The SQL queries of one GET of `url` (after a warm-up GET), which must succeed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)


def chart_data(response, element_id: str):
    """The chart data a page carries in its json_script element `element_id` (what charts.js reads)."""
    import json

    html = response.content.decode()
    start = html.index(f'<script id="{element_id}" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@dataclass
class TwoPlans:
    """The small plan moved to 2021 and the demo's 2022 plan, both rolled up; pick one by `today`."""

    small: object
    demo: object
    small_today: object
    demo_today: object

    @property
    def leader(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(username="leader")


@pytest.fixture
def two_plans(cast, settings):
    """For query-count pins: the same page must cost as many queries on the small plan as on the demo."""
    import datetime
    from io import StringIO

    from django.core.management import call_command

    from actions.models import Indicator, Plan
    from metrics.rollup.services import rollup_plan_weeks

    small = cast.plan
    small.year, small.checkpoint = 2021, datetime.date(2021, 6, 30)
    small.save()
    settings.PLANBOARD_TODAY = datetime.date(2021, 5, 20)
    from metrics.models import Figure

    lagging = Indicator.objects.filter(task__action__plan=small, kind__in=["amount", "count"]).order_by("code").first().code
    for indicator in Indicator.objects.filter(task__action__plan=small):
        # The latest periods due by 20 May: weeks of 3 and 10 May, and April.
        periods = [datetime.date(2021, 5, 3), datetime.date(2021, 5, 10)] if indicator.frequency == "weekly" else [datetime.date(2021, 4, 1)]
        # Every department reports (nothing is 未报), one indicator far behind (red) as in the demo.
        value = 0 if indicator.code == lagging else 7
        for department in indicator.departments.all():
            for week in periods:
                Figure.objects.create(indicator=indicator, department=department, period_start=week, value=value,
                                      entered_at=datetime.datetime(2021, 5, 14, tzinfo=datetime.UTC))
    rollup_plan_weeks(plan=small, first=datetime.date(2021, 5, 1), last=datetime.date(2021, 5, 20))
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    call_command("load_plan", verbosity=0, stdout=StringIO())
    seed_demo("--year", "2022", verbosity=0, stdout=StringIO())
    return TwoPlans(small, Plan.objects.get(year=2022), datetime.date(2021, 5, 20), datetime.date(2022, 5, 20))
