"""The 双过半 math against hand-computed expectations (shared/DOMAIN.md; the rules in metrics/rollup.py)."""

import datetime
from decimal import Decimal

import pytest

from actions.models import Department, Indicator, IndicatorDepartment, Milestone, Plan, Task
from actions.schedule import schedule_share
from metrics.choices import FigureState
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, IndicatorProgress, Rollup
from metrics.rollup.engine import Week, rollup_week

D = datetime.date
MAY20 = D(2022, 5, 20)  # a Friday; ISO week of Monday 16 May; day 140 of 365
WEEKLY_SCHEDULE = 140 / 365 * 100
MONTHS = [D(2022, m, 1) for m in range(1, 13)]


@pytest.fixture
def plan(db):
    plan = Plan.objects.create(year=2022, title="测试")
    dept = Department.objects.create(code="a", name="甲", short_name="甲")
    Department.objects.create(code="b", name="乙", short_name="乙")
    action = plan.actions.create(number=1, codename="轰鸣", title="t", lead_department=dept)
    action.tasks.create(number=1, title="任务", lead_department=dept, deadline=D(2022, 12, 31))
    return plan


def indicator(plan, code, *, kind="amount", frequency="monthly", target=120, direction="higher", monthly=None, shares=None):
    task = Task.objects.get(action__plan=plan, number=1, parent=None)
    ind = Indicator.objects.create(
        task=task, code=code, name=code, unit="u", kind=kind, frequency=frequency, annual_target=target,
        direction=direction, monthly_targets=monthly,
    )
    for code_, share in (shares or {"a": None}).items():
        IndicatorDepartment.objects.create(indicator=ind, department=Department.objects.get(code=code_), target_share=share)
    return ind


def figures(ind, values: dict, dept="a"):
    department = Department.objects.get(code=dept)
    for start, value in values.items():
        Figure.objects.create(
            indicator=ind, department=department, period_start=start,
            state=FigureState.NOT_APPLICABLE if value is None else FigureState.REPORTED,
            value=value, entered_at=datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC),
        )


def run(plan, today=MAY20):
    rollup_week(Week.of(plan, today, today))
    return {p.indicator.code: p for p in IndicatorProgress.objects.filter(plan=plan).select_related("indicator")}


def close(actual, expected):
    if expected is None:
        return actual is None
    return actual is not None and abs(float(actual) - expected) < 1e-6


CASES = [
    # id, indicator kwargs, figures, expected fields
    (
        "amount ahead (months ended ÷ 12)",
        {},
        {MONTHS[0]: 10, MONTHS[1]: 10, MONTHS[2]: 10, MONTHS[3]: 20, MONTHS[4]: 99},  # May has not ended: not counted
        {"actual": 50, "completion_pct": 50 / 120 * 100, "schedule_pct": 100 / 3, "gap_pp": 50 / 1.2 - 100 / 3,
         "attainment_pct": 125, "light": "green", "half_year_status": "pending", "recent_pace": 12.5,
         "required_pace_half": 5, "required_pace_year": 70 / 8, "forecast_checkpoint": 75, "pace_alert": False, "reason": ""},
    ),
    (
        "amount slightly behind is yellow",
        {},
        {MONTHS[0]: 7, MONTHS[1]: 10, MONTHS[2]: 10, MONTHS[3]: 10},
        {"completion_pct": 37 / 1.2, "gap_pp": 37 / 1.2 - 100 / 3, "light": "yellow"},
    ),
    (
        "amount far behind is red, and the pace needed is flagged",
        {},
        {m: 5 for m in MONTHS[:4]},
        {"gap_pp": 20 / 1.2 - 100 / 3, "light": "red", "attainment_pct": 50, "required_pace_half": 20,
         "recent_pace": 5, "forecast_checkpoint": 30, "pace_alert": True},
    ),
    (
        "phased monthly targets: exactly on the phased schedule is green",
        {"monthly": [2, 4, 10, 30, 45, 60, 70, 80, 90, 100, 110, 120]},
        {MONTHS[3]: 30},
        {"schedule_pct": 25, "completion_pct": 25, "gap_pp": 0, "light": "green", "attainment_pct": 100},
    ),
    (
        "weekly amount: days elapsed ÷ days in the year, the as-of week counts",
        {"frequency": "weekly", "target": 100},
        {D(2022, 5, 16): 40},
        {"schedule_pct": WEEKLY_SCHEDULE, "completion_pct": 40, "gap_pp": 40 - WEEKLY_SCHEDULE, "light": "green",
         "recent_pace": 10, "required_pace_half": 10 / 6, "required_pace_year": 60 / 32, "forecast_checkpoint": 100},
    ),
    (
        "weekly amount with phased targets interpolates within the month",
        {"frequency": "weekly", "target": 120, "monthly": [10, 20, 30, 40, 71, 80, 90, 100, 105, 110, 115, 120]},
        {D(2022, 5, 16): 60},
        {"schedule_pct": (40 + 31 * 20 / 31) / 120 * 100, "completion_pct": 50, "gap_pp": 0, "light": "green"},
    ),
    (
        "lower is better: a cap used faster than time is red",
        {"kind": "count", "frequency": "weekly", "target": 10, "direction": "lower"},
        {D(2022, 3, 7): 3, D(2022, 5, 9): 2, D(2022, 5, 16): 0},  # this week's report, due today, is in
        {"completion_pct": 50, "gap_pp": WEEKLY_SCHEDULE - 50, "light": "red",
         "attainment_pct": (2 - 50 / WEEKLY_SCHEDULE) * 100, "required_pace_half": None, "forecast_checkpoint": None},
    ),
    (
        "growth rate: latest rate against target, in points, never divided by 50 %",
        {"kind": "growth_rate", "target": 12},
        {MONTHS[0]: 14, MONTHS[3]: Decimal("11.5")},
        {"actual": 11.5, "gap_pp": -0.5, "light": "yellow", "completion_pct": 11.5 / 12 * 100,
         "attainment_pct": 11.5 / 12 * 100, "recent_pace": None, "required_pace_half": None},
    ),
    (
        "growth rate two points short is red",
        {"kind": "growth_rate", "target": 12},
        {MONTHS[3]: 10},
        {"gap_pp": -2, "light": "red"},
    ),
    (
        "ratio where lower is better, under target is green",
        {"kind": "ratio", "target": 5, "direction": "lower"},
        {MONTHS[3]: 4},
        {"gap_pp": 1, "light": "green", "attainment_pct": 125},
    ),
    (
        "not applicable everywhere: no light, and says why",
        {},
        {MONTHS[0]: None, MONTHS[1]: None},
        {"actual": None, "completion_pct": None, "light": "none", "reason": "not_applicable", "figure_count": 2, "na_count": 2},
    ),
    (
        "a not-applicable month counts as nothing done",
        {},
        {MONTHS[0]: 20, MONTHS[1]: None, MONTHS[2]: 20},
        {"actual": 40, "light": "green", "na_count": 1},
    ),
    (
        "no figures: no light",
        {},
        {},
        {"actual": None, "light": "none", "reason": "no_figures", "half_year_status": "pending"},
    ),
    (
        "zero target: no division, no light",
        {"target": 0},
        {MONTHS[0]: 3},
        {"completion_pct": None, "light": "none", "reason": "zero_target"},
    ),
]


class RollupMathTests:
    @pytest.mark.parametrize("name, kwargs, values, expected", CASES, ids=[c[0] for c in CASES])
    def test_it_computes_each_kind_as_domain_md_says(self, plan, name, kwargs, values, expected):
        ind = indicator(plan, "x", **kwargs)
        figures(ind, values)
        row = run(plan)["x"]
        for field, value in expected.items():
            actual = getattr(row, field)
            if isinstance(value, (str, bool)) or field.endswith("_count"):
                assert actual == value, f"{field}: {actual!r} != {value!r}"
            else:
                assert close(actual, value), f"{field}: {actual!r} != {value!r}"

    def test_the_first_period_of_the_year(self, plan):
        indicator(plan, "weekly", frequency="weekly", target=365)
        indicator(plan, "monthly")
        figures(Indicator.objects.get(code="weekly"), {D(2022, 1, 3): 5})
        rows = run(plan, today=D(2022, 1, 5))
        assert close(rows["weekly"].schedule_pct, 5 / 365 * 100)
        assert close(rows["weekly"].completion_pct, 5 / 365 * 100) and rows["weekly"].light == "green"
        assert rows["monthly"].reason == "no_period_closed" and rows["monthly"].light == "none"
        assert rows["monthly"].schedule_pct == 0

    @pytest.mark.parametrize("total, status, light", [(60, "met", "green"), (59, "not_met", "yellow")])
    def test_the_checkpoint_day_itself(self, plan, total, status, light):
        ind = indicator(plan, "x")
        figures(ind, {**{m: 10 for m in MONTHS[:5]}, MONTHS[5]: total - 50})
        row = run(plan, today=D(2022, 6, 30))["x"]
        assert close(row.schedule_pct, 50) and close(row.completion_pct, total / 1.2)
        assert row.half_year_status == status and row.light == light
        assert close(row.forecast_checkpoint, total) and row.required_pace_half is None

    def test_after_the_checkpoint_half_year_is_judged_on_january_to_june(self, plan):
        ind = indicator(plan, "x")
        growth = indicator(plan, "g", kind="growth_rate", target=10)
        figures(ind, {**{m: 10 for m in MONTHS[:6]}, MONTHS[6]: 50})
        figures(growth, {MONTHS[5]: 9, MONTHS[6]: 12})
        rows = run(plan, today=D(2022, 8, 10))
        assert rows["x"].half_year_status == "met" and close(rows["x"].checkpoint_actual, 60)
        assert close(rows["x"].actual, 110)
        assert rows["g"].half_year_status == "not_met" and close(rows["g"].actual, 12)

    def test_milestones_done_on_time_over_milestones_due(self, plan):
        ind = indicator(plan, "m", kind="milestone", target=None)
        task = ind.task
        for n, planned, done in [
            (1, D(2022, 3, 31), D(2022, 3, 30)),  # on time
            (2, D(2022, 4, 30), D(2022, 5, 5)),  # late
            (3, D(2022, 5, 15), None),  # overdue
            (4, D(2022, 5, 22), None),  # due within the warning days
            (5, D(2022, 6, 30), None),  # later
        ]:
            Milestone.objects.create(task=task, number=n, title=f"节点{n}", planned_date=planned, done_date=done)
        row = run(plan)["m"]
        assert (row.target, row.actual) == (3, 1)
        assert close(row.completion_pct, 100 / 3) and close(row.gap_pp, 100 / 3 - 100)
        assert row.light == "red"
        Milestone.objects.filter(task=task, number=3).update(done_date=D(2022, 5, 14))
        row = run(plan)["m"]
        assert row.actual == 2 and row.light == "yellow"  # one was late, one falls due in two days
        rollup = Rollup.objects.get(level="task")
        assert (rollup.milestones_due, rollup.milestones_on_time, rollup.milestones_overdue) == (3, 2, 0)

    def test_shares_split_the_target_between_departments(self, plan):
        ind = indicator(plan, "x", shares={"a": 80, "b": 40})
        figures(ind, {MONTHS[0]: 30, MONTHS[1]: 10, MONTHS[3]: 0}, dept="a")
        figures(ind, {MONTHS[0]: 5, MONTHS[3]: 0}, dept="b")  # April, the latest month due, reported by both
        run(plan)
        rows = {r.department.code: r for r in DepartmentIndicatorProgress.objects.select_related("department")}
        assert close(rows["a"].completion_pct, 50) and rows["a"].light == "green"
        assert close(rows["b"].completion_pct, 12.5) and rows["b"].light == "red"
        overall = IndicatorProgress.objects.get()
        assert close(overall.actual, 45) and close(overall.completion_pct, 37.5)
        assert (overall.departments_expected, overall.departments_reported) == (2, 2)

    def test_a_split_target_without_shares_is_explained(self, plan):
        ind = indicator(plan, "x", shares={"a": None, "b": None})
        figures(ind, {MONTHS[0]: 30})
        run(plan)
        assert {r.reason for r in DepartmentIndicatorProgress.objects.all()} == {"no_share"}
        assert close(IndicatorProgress.objects.get().completion_pct, 25)

    def test_rates_of_several_departments_are_averaged(self, plan):
        ind = indicator(plan, "g", kind="growth_rate", target=10, shares={"a": None, "b": None})
        figures(ind, {MONTHS[3]: 12}, dept="a")
        figures(ind, {MONTHS[2]: 9}, dept="b")
        assert close(run(plan)["g"].actual, 10.5)

    def test_rollups_weight_indicators_and_count_lights(self, plan):
        green = indicator(plan, "green")
        red = indicator(plan, "red")
        Indicator.objects.filter(pk=green.pk).update(weight=3)
        figures(green, {m: 10 for m in MONTHS[:4]})  # 40 of 120 = schedule exactly: attainment 100
        figures(red, {m: 5 for m in MONTHS[:4]})  # attainment 50
        run(plan)
        for level in ("task", "action", "plan"):
            row = Rollup.objects.get(level=level)
            assert (row.indicator_count, row.green, row.yellow, row.red) == (2, 1, 0, 1)
            assert close(row.attainment_pct, (3 * 100 + 1 * 50) / 4)

    def test_a_plan_with_no_indicators_rolls_up_to_empty_counts(self, plan):
        run(plan)
        row = Rollup.objects.get(level="plan")
        assert (row.indicator_count, row.green, row.attainment_pct) == (0, 0, None)
        assert not DepartmentScore.objects.exists()


class ScheduleShareTests:
    @pytest.mark.parametrize(
        "frequency, day, share",
        [
            ("monthly", D(2022, 3, 31), 0.25),
            ("monthly", D(2022, 4, 29), 0.25),
            ("monthly", D(2022, 4, 30), 1 / 3),
            ("monthly", D(2022, 6, 30), 0.5),
            ("weekly", D(2022, 7, 2), 183 / 365),
            ("weekly", D(2022, 1, 1), 1 / 365),
            ("weekly", D(2022, 12, 31), 1.0),
        ],
    )
    def test_it_is_months_ended_or_days_elapsed(self, frequency, day, share):
        ind = Indicator(kind="amount", frequency=frequency, annual_target=100)
        assert schedule_share(ind, 2022, day) == pytest.approx(share)

    def test_rates_ignore_phased_targets(self):
        ind = Indicator(kind="growth_rate", frequency="monthly", annual_target=10, monthly_targets=[1] * 12)
        assert schedule_share(ind, 2022, D(2022, 6, 30)) == 0.5


class UnitScoreTests:
    """比武打擂: a lead unit answers for the tasks it leads; units are ranked in their league and overall."""

    @pytest.fixture
    def two_tasks(self, plan):
        # Task 1 is led by 甲 but reported by 乙 only (far behind); task 2 is led by 乙 and reported by 甲 (on schedule).
        b = Department.objects.get(code="b")
        action = plan.actions.get()
        task2 = action.tasks.create(number=2, title="任务二", lead_department=b, deadline=D(2022, 12, 31))
        behind = indicator(plan, "behind", shares={"b": None})
        on_time = indicator(plan, "on-time", shares={"a": None})
        Indicator.objects.filter(pk=on_time.pk).update(task=task2)
        figures(behind, {m: 5 for m in MONTHS[:4]}, dept="b")  # 20 of 120 against 1/3: attainment 50, red
        figures(on_time, {m: 10 for m in MONTHS[:4]}, dept="a")  # 40 of 120: attainment 100, green
        return plan

    def test_it_scores_the_tasks_a_unit_leads_from_their_roll_ups(self, two_tasks):
        run(two_tasks)
        scores = {s.department.code: s for s in DepartmentScore.objects.select_related("department")}
        a, b = scores["a"], scores["b"]
        led = {r.task.lead_department.code: r.attainment_pct for r in Rollup.objects.filter(level="task").select_related("task__lead_department")}
        assert (a.led_task_count, b.led_task_count) == (1, 1)
        assert close(a.led_tasks_pct, led["a"]) and close(a.led_tasks_pct, 50)
        assert close(b.led_tasks_pct, 100)
        # Weights 40 / 30 / 15 / 15; no milestones, so the mean is over 85; every report was on time.
        # 甲 answers for the red indicator of the task it leads; 乙 for its own red share.
        assert (a.red, a.led_red, b.red, b.led_red) == (0, 1, 1, 0)
        # The red indicator's first red week brings its task's lead unit, 甲, a yellow order (督办单): 1 point off.
        assert (a.order_penalty, b.order_penalty) == (1, 0)
        assert close(a.red_penalty, 2) and close(a.score, (40 * 100 + 30 * 50 + 15 * 100) / 85 - 2 - 1)
        assert close(b.red_penalty, 2) and close(b.score, (40 * 50 + 30 * 100 + 15 * 100) / 85 - 2)
        assert (a.rank, b.rank) == (1, 2) and (a.overall_rank, b.overall_rank) == (1, 2)

    def test_the_led_tasks_weight_comes_from_the_plan(self, two_tasks):
        Plan.objects.filter(pk=two_tasks.pk).update(score_weight_led=0)
        run(Plan.objects.get(pk=two_tasks.pk))
        a = DepartmentScore.objects.get(department__code="a")
        # The part is shown but weighs nothing; the score is out of the weights' sum, 70 here.
        assert close(a.led_tasks_pct, 50) and close(a.score, 70 - 2 - 1)  # and its yellow order

    def test_a_lead_unit_with_no_figures_of_its_own_is_ranked(self, two_tasks):
        c = Department.objects.create(code="c", name="丙园", short_name="丙园", kind="park")
        Task.objects.filter(number=1).update(lead_department=c)
        run(two_tasks)
        scores = {s.department.code: s for s in DepartmentScore.objects.select_related("department")}
        assert scores["c"].indicator_count == 0 and scores["c"].attainment_pct is None
        assert close(scores["c"].led_tasks_pct, 50) and close(scores["c"].score, 50 - 2 - 1)  # and its yellow order
        # Leagues by kind: 丙园 is the only park, first in its league; among all units it is last.
        assert (scores["c"].rank, scores["c"].overall_rank) == (1, 3)
        assert {scores["a"].rank, scores["b"].rank} == {1, 2} and {scores["a"].overall_rank, scores["b"].overall_rank} == {1, 2}

    def test_ranks_keep_the_week_before_for_the_change(self, two_tasks):
        run(two_tasks, today=D(2022, 5, 13))
        run(two_tasks)
        a = DepartmentScore.objects.get(department__code="a", week=D(2022, 5, 16))
        before = DepartmentScore.objects.get(department__code="a", week=D(2022, 5, 9))
        assert (a.previous_rank, a.previous_overall_rank) == (before.rank, before.overall_rank)


class SubTaskRollupTests:
    """The speech's two levels: a task groups sub-tasks, and its roll-up aggregates them."""

    def test_a_parent_task_rolls_up_its_sub_tasks_indicators_and_milestones(self, plan):
        parent = Task.objects.get(number=1, parent=None)
        a = Department.objects.get(code="a")
        first = Task.objects.create(action=parent.action, parent=parent, number=1, title="子任务一", lead_department=a, deadline=D(2022, 12, 31))
        second = Task.objects.create(action=parent.action, parent=parent, number=2, title="子任务二", lead_department=a, deadline=D(2022, 12, 31))
        green, red = indicator(plan, "green"), indicator(plan, "red")
        Indicator.objects.filter(pk=green.pk).update(task=first, weight=3)
        Indicator.objects.filter(pk=red.pk).update(task=second)
        figures(green, {m: 10 for m in MONTHS[:4]})  # attainment 100
        figures(red, {m: 5 for m in MONTHS[:4]})  # attainment 50
        Milestone.objects.create(task=second, number=1, title="节点", planned_date=D(2022, 4, 30), done_date=D(2022, 4, 29))
        run(plan)
        rows = {r.task_id: r for r in Rollup.objects.filter(level="task")}
        assert (rows[first.pk].indicator_count, rows[second.pk].indicator_count) == (1, 1)
        top = rows[parent.pk]
        assert (top.indicator_count, top.green, top.red, top.milestones_due, top.milestones_on_time) == (2, 1, 1, 1, 1)
        assert close(top.attainment_pct, (3 * 100 + 1 * 50 + 1 * 100) / 5)
        for level in ("action", "plan"):  # every part counted once, not once per level of task
            row = Rollup.objects.get(level=level)
            assert (row.indicator_count, row.milestones_due) == (2, 1) and close(row.attainment_pct, top.attainment_pct)
        # The lead unit of the parent and of its sub-tasks answers for the group once.
        assert DepartmentScore.objects.get(department=a).led_task_count == 1

    def test_an_incremental_run_rewrites_the_parent_of_a_touched_sub_task(self, plan):
        parent = Task.objects.get(number=1, parent=None)
        child = Task.objects.create(action=parent.action, parent=parent, number=1, title="子任务", lead_department=parent.lead_department, deadline=D(2022, 12, 31))
        ind = indicator(plan, "x")
        Indicator.objects.filter(pk=ind.pk).update(task=child)
        figures(ind, {m: 5 for m in MONTHS[:4]})
        run(plan)
        Figure.objects.filter(indicator=ind).update(value=10)
        rollup_week(Week.of(plan, MAY20, MAY20), indicator_ids=[ind.pk], department_ids=[parent.lead_department_id])
        assert close(Rollup.objects.get(level="task", task=parent).attainment_pct, 100)
