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
            for task in action["tasks"]
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
