"""Small plans and the standard cast of users for tests."""

import copy

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings

from actions.plan_file import validate_plan
from actions.services import plan_load
from planboard.roles import Role

SMALL_PLAN = {
    "plan": {"year": 2022, "title": "测试计划", "thresholds": {"yellow_gap_pp": 5}},
    "departments": [
        {"code": "dept-a", "name": "甲局", "short_name": "甲局", "kind": "department"},
        {"code": "dept-b", "name": "乙局", "short_name": "乙局", "kind": "department"},
    ],
    "actions": [
        {
            "number": n,
            "codename": codename,
            "title": f"第{n}项行动",
            "lead_leader": "张三",
            "lead_department": "dept-a",
            "tasks": [
                {
                    "number": 1,
                    "title": f"任务{n}.1",
                    "lead_department": "dept-a",
                    "co_departments": ["dept-b"],
                    "deadline": "2022-12-31",
                    "indicators": [
                        {
                            "code": f"output-{n}",
                            "name": "产值",
                            "unit": "亿元",
                            "kind": "amount",
                            "annual_target": 100,
                            "frequency": "weekly",
                            "departments": [
                                {"department": "dept-a", "share": 60},
                                {"department": "dept-b", "share": 40},
                            ],
                        }
                    ],
                    "milestones": [{"number": 1, "title": "开工", "planned": "2022-03-31"}],
                }
            ],
        }
        for n, codename in enumerate(["轰鸣", "火炬", "奔跑", "沃土", "添砖", "焕颜", "增色", "提升"], start=1)
    ],
}


def small_plan_data() -> dict:
    return copy.deepcopy(SMALL_PLAN)


def load_small_plan(data: dict | None = None):
    return plan_load(data=validate_plan(data or small_plan_data())).plan


def make_user(username: str, *, role: Role | None = None, departments=(), password: str = "pw"):
    user = get_user_model().objects.create_user(username=username, password=password)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    for department in departments:
        department.members.add(user)
    return user


def seed_demo(*args, **options) -> None:
    """Run seed_demo as on a developer's machine, with DEBUG on (it refuses other databases without --force)."""
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, **options)
