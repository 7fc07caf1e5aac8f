from dataclasses import dataclass

import pytest
from celery import current_app
from django.contrib.auth.models import AnonymousUser

from actions.models import Department
from planboard.roles import Role
from tests.factories import load_small_plan, make_user


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
