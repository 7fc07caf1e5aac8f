import datetime

import pytest
import yaml
from django.core.management import CommandError, call_command

from actions.models import Action, Department, Indicator, IndicatorDepartment, Milestone, Plan, Task
from actions.plan_file import DEFAULT_PLAN_PATH, PlanFileError, read_plan_file, validate_plan
from metrics.models import Figure
from tests.factories import load_small_plan, small_plan_data

CODENAMES = ["轰鸣", "火炬", "奔跑", "沃土", "添砖", "焕颜", "增色", "提升"]


def counts():
    return {m.__name__: m.objects.count() for m in (Plan, Department, Action, Task, Milestone, Indicator, IndicatorDepartment)}


@pytest.mark.django_db
class BundledPlanTests:
    def test_it_loads_the_2022_plan_twice_with_the_same_counts(self, capsys):
        call_command("load_plan")
        first = counts()
        call_command("load_plan")
        assert counts() == first
        assert list(Action.objects.order_by("number").values_list("codename", flat=True)) == CODENAMES
        assert Task.objects.count() >= 35
        assert Indicator.objects.count() > 0 and Milestone.objects.count() > 0
        assert "updated" in capsys.readouterr().out

    def test_the_bundled_file_says_its_targets_are_illustrative(self):
        text = DEFAULT_PLAN_PATH.read_text(encoding="utf-8")
        assert "ILLUSTRATIVE" in text
        assert "假设" in yaml.safe_load(text)["plan"]["note"]

    def test_every_department_of_the_bundled_plan_reports_something(self):
        data = read_plan_file(DEFAULT_PLAN_PATH)
        reporting = {
            a["department"]
            for action in data["actions"]
            for parent in action["tasks"]
            for task in (parent, *parent["subtasks"])
            for indicator in task["indicators"]
            for a in indicator["departments"]
        }
        assert reporting == {d["code"] for d in data["departments"]}


@pytest.mark.django_db
class ReloadTests:
    def test_it_updates_in_place_and_keeps_figures_and_runtime_state(self, cast):
        indicator = Indicator.objects.get(code="output-1")
        figure = Figure.objects.create(
            indicator=indicator, department=cast.dept_a, period_start=datetime.date(2022, 1, 3), value=5,
            entered_at=datetime.datetime(2022, 1, 10, tzinfo=datetime.UTC),
        )
        task = indicator.task
        task.status = "in_progress"
        task.save()
        milestone = task.milestones.get()
        milestone.done_date = datetime.date(2022, 3, 30)
        milestone.save()
        before = counts()

        data = small_plan_data()
        data["actions"][0]["tasks"][0]["title"] = "改过的任务"
        data["actions"][0]["tasks"][0]["indicators"] = []  # dropped from the file: kept in the database
        load_small_plan(data)

        assert counts() == before
        task.refresh_from_db()
        milestone.refresh_from_db()
        assert task.title == "改过的任务" and task.status == "in_progress"
        assert milestone.done_date == datetime.date(2022, 3, 30)
        assert Figure.objects.filter(pk=figure.pk).exists()

    def test_it_moves_an_indicator_between_tasks_without_losing_it(self, cast):
        data = small_plan_data()
        moved = data["actions"][0]["tasks"][0]["indicators"].pop()
        data["actions"][1]["tasks"][0]["indicators"].append(moved)
        pk = Indicator.objects.get(code="output-1").pk
        load_small_plan(data)
        indicator = Indicator.objects.get(code="output-1")
        assert indicator.pk == pk and indicator.task.action.number == 2


class ValidationTests:
    def problems(self, data) -> list[str]:
        with pytest.raises(PlanFileError) as caught:
            validate_plan(data)
        return caught.value.problems

    def test_a_valid_plan_passes(self):
        assert len(validate_plan(small_plan_data())["actions"]) == 8

    def test_it_reports_every_problem_with_where_it_is(self):
        data = small_plan_data()
        del data["actions"][0]["title"]
        data["actions"][1]["number"] = 1
        data["actions"][2]["tasks"][0]["lead_department"] = "nowhere"
        data["actions"][3]["tasks"][0]["indicators"][0]["annual_target"] = -5
        data["actions"][4]["tasks"][0]["deadline"] = "2022-13-45"
        problems = self.problems(data)
        assert problems == [
            "actions[1] (轰鸣).title: is missing",
            "actions[2] (火炬).number: duplicate action number 1",
            "actions[3] (奔跑).tasks[1].lead_department: unknown department 'nowhere'",
            "actions[4] (沃土).tasks[1].indicators[1].annual_target: -5 cannot be negative",
            "actions[5] (添砖).tasks[1].deadline: '2022-13-45' is not a date (YYYY-MM-DD)",
        ]

    def test_it_checks_shares_and_phased_targets(self):
        data = small_plan_data()
        data["actions"][0]["tasks"][0]["indicators"][0]["departments"][1]["share"] = 30
        data["actions"][1]["tasks"][0]["indicators"][0]["monthly_targets"] = [10] * 11 + [90]
        problems = self.problems(data)
        assert any("shares add up to 90" in p for p in problems)
        assert any("monthly_targets" in p and "December" in p for p in problems)

    def test_it_reads_the_reporting_cadence_and_entry_mode(self):
        data = small_plan_data()
        data["plan"]["reporting"] = {"weekday": 0, "due_time": "09:30", "monthly_day": 3, "lock_after_days": 2}
        data["actions"][0]["tasks"][0]["indicators"][0]["entry"] = "cumulative"
        plan = validate_plan(data)
        assert plan["plan"]["report_weekday"] == 0 and plan["plan"]["report_due_time"] == datetime.time(9, 30)
        assert plan["actions"][0]["tasks"][0]["indicators"][0]["entry_mode"] == "cumulative"

        data["plan"]["reporting"] = {"weekday": 7, "due_time": "late"}
        data["actions"][0]["tasks"][0]["indicators"][0].update(kind="growth_rate", departments=[{"department": "dept-a"}])
        problems = self.problems(data)
        assert "plan.reporting.weekday: 7 must be a whole number from 0 to 6" in problems
        assert "plan.reporting.due_time: 'late' is not a time (HH:MM)" in problems
        assert any(p.endswith("entry: only amounts and counts can be entered as cumulative values") for p in problems)

    def test_it_accepts_departments_already_in_the_database(self):
        data = small_plan_data()
        data["departments"] = []
        with pytest.raises(PlanFileError):
            validate_plan(data)
        assert validate_plan(data, existing_departments={"dept-a", "dept-b"})


@pytest.mark.django_db
class LoadPlanCommandTests:
    def test_it_refuses_a_bad_file_as_a_whole(self, tmp_path, capsys):
        data = small_plan_data()
        data["actions"][7]["tasks"][0]["deadline"] = "tomorrow"
        path = tmp_path / "plan.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with pytest.raises(CommandError, match="1 problem"):
            call_command("load_plan", str(path))
        assert "actions[8] (提升).tasks[1].deadline: 'tomorrow' is not a date" in capsys.readouterr().err
        assert counts() == {name: 0 for name in counts()}

    def test_it_says_when_the_file_is_not_yaml_or_missing(self, tmp_path, capsys):
        path = tmp_path / "broken.yaml"
        path.write_text("plan: [unclosed", encoding="utf-8")
        with pytest.raises(CommandError):
            call_command("load_plan", str(path))
        with pytest.raises(CommandError):
            call_command("load_plan", str(tmp_path / "missing.yaml"))
        err = capsys.readouterr().err
        assert "is not valid YAML" in err and "cannot be read" in err


def small_plan_with_subtasks() -> dict:
    data = small_plan_data()
    task = data["actions"][0]["tasks"][0]
    task["subtasks"] = [
        {"number": 1, "title": "子任务一", "lead_department": "dept-a", "deadline": "2022-12-31",
         "milestones": [{"number": 1, "title": "节点", "planned": "2022-04-30"}]},
        {"number": 2, "title": "子任务二", "lead_department": "dept-b", "co_departments": ["dept-a"], "deadline": "2022-12-31",
         "indicators": [{"code": "sub-output", "name": "子产值", "unit": "亿元", "kind": "amount", "annual_target": 10,
                         "departments": [{"department": "dept-b"}]}]},
    ]
    return data


@pytest.mark.django_db
class SubTaskTests:
    """The speech's two levels: a task may group sub-tasks, numbered and matched within their parent."""

    def test_it_loads_sub_tasks_under_their_parent_twice_with_the_same_counts(self):
        load_small_plan(small_plan_with_subtasks())
        first = counts()
        load_small_plan(small_plan_with_subtasks())
        assert counts() == first
        parent = Task.objects.get(action__number=1, parent=None, number=1)
        subtasks = list(parent.subtasks.select_related("action", "parent").order_by("number"))
        assert [(t.outline_number, t.title, t.lead_department.code) for t in subtasks] == [
            ("1.1.1", "子任务一", "dept-a"), ("1.1.2", "子任务二", "dept-b"),
        ]
        assert Indicator.objects.get(code="sub-output").task == subtasks[1]
        assert subtasks[0].milestones.get().title == "节点"

    def test_a_sub_task_number_may_repeat_a_top_level_one(self):
        data = small_plan_with_subtasks()
        data["actions"][0]["tasks"].append({"number": 2, "title": "任务二", "lead_department": "dept-a", "deadline": "2022-12-31"})
        load_small_plan(data)
        assert Task.objects.filter(action__number=1, number=2).count() == 2  # top-level 1.2 and sub-task 1.1.2

    def test_it_reports_sub_task_problems_with_where_they_are(self):
        data = small_plan_with_subtasks()
        subtasks = data["actions"][0]["tasks"][0]["subtasks"]
        subtasks[0]["lead_department"] = "nowhere"
        subtasks[1]["number"] = 1
        subtasks[1]["subtasks"] = [{"number": 1, "title": "孙任务"}]
        with pytest.raises(PlanFileError) as error:
            validate_plan(data)
        assert error.value.problems == [
            "actions[1] (轰鸣).tasks[1].subtasks[1].lead_department: unknown department 'nowhere'",
            "actions[1] (轰鸣).tasks[1].subtasks[2].number: duplicate sub-task number 1",
            "actions[1] (轰鸣).tasks[1].subtasks[2].subtasks: a sub-task cannot have sub-tasks of its own (the plan has two levels)",
        ]

    def test_it_reads_the_score_weights(self):
        data = small_plan_data()
        data["plan"]["scoring"] = {"indicators": 50, "led_tasks": 25, "milestones": 15, "timeliness": 10, "red_penalty": 1.5}
        plan = load_small_plan(data)
        assert (plan.score_weight_indicators, plan.score_weight_led, plan.score_weight_milestones, plan.score_weight_timeliness) == (50, 25, 15, 10)
        assert float(plan.score_red_penalty) == 1.5
        data["plan"]["scoring"] = {"indicators": 0, "led_tasks": 0, "milestones": 0, "timeliness": 0, "bonus": 5}
        with pytest.raises(PlanFileError) as error:
            validate_plan(data)
        assert error.value.problems == [
            "plan.scoring: unknown keys 'bonus': use indicators, led_tasks, milestones, timeliness, red_penalty",
            "plan.scoring: the weights cannot all be zero",
        ]


@pytest.mark.django_db
class SpeechShapeTests:
    """The bundled plan follows the speech: action 1 has three task groups, each with its own items."""

    def test_action_1_has_the_speechs_three_groups_and_their_items(self):
        call_command("load_plan")
        action = Action.objects.get(plan__year=2022, number=1)
        groups = list(action.tasks.filter(parent=None).order_by("number"))
        assert [t.title for t in groups] == ["持续壮大“企业军团”", "全面轰响“项目引擎”", "持续推进数字经济“一号发展工程”"]
        items = {g.number: [t.title for t in g.subtasks.order_by("number")] for g in groups}
        assert [("大象起舞" in a, "靠大联强" in b, "入规入统" in c) for a, b, c in [items[1]]] == [(True, True, True)]
        assert len(items[1]) == 3
        assert ["满园扩园" in items[2][0], "沙丁鱼追逐" in items[2][1], "梧桐树" in items[2][2]] == [True, True, True]
        assert any("区块链产业园二期" in t for t in items[3])
        # 全面轰响“项目引擎” is a task of its own, no longer a phrase inside 满园扩园's description.
        assert "项目引擎" not in action.tasks.get(title__contains="满园扩园").description

    def test_action_5_groups_the_three_levels_it_raises(self):
        call_command("load_plan")
        groups = Task.objects.filter(action__plan__year=2022, action__number=5, parent=None).order_by("number")
        assert [t.title for t in groups] == ["提升城市空间板块能级", "提升商贸服务产业能级", "提升人居环境品质能级"]
        assert [t.subtasks.count() for t in groups] == [3, 3, 2]
