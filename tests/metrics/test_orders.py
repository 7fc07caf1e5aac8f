"""The supervision ladder (督办单): issued, escalated, stepped down and closed by the rules after each roll-up.

Expectations are worked out here by hand from the figures (序时进度 = day of the year ÷ 365 for weekly
indicators), not read back from the code under test.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from actions.choices import TaskStatus
from actions.models import Department, Indicator, IndicatorDepartment, Milestone, Plan, Task
from metrics.choices import Light, OrderEventKind, OrderLevel, OrderStatus, OrderSubject
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    Interview,
    OrderEvent,
    SupervisionOrder,
)
from metrics.rollup.engine import Week, rescore_week, rollup_week
from metrics.supervision import services
from metrics.supervision.orders import issue_orders
from planboard.roles import Role
from tests.factories import make_user

D = datetime.date
WEEK = datetime.timedelta(days=7)
TODAY = D(2022, 6, 20)


@pytest.fixture
def plan(db, settings):
    settings.PLANBOARD_TODAY = TODAY
    plan = Plan.objects.create(year=2022, title="测试", order_reply_days=30, order_red_weeks=3, interview_red_orders=2)
    dept = Department.objects.create(code="a", name="甲局", short_name="甲")
    Department.objects.create(code="b", name="乙局", short_name="乙")
    action = plan.actions.create(number=1, codename="轰鸣", title="t", lead_department=dept)
    task = action.tasks.create(number=1, title="任务", lead_department=dept, deadline=D(2022, 12, 31))
    ind = Indicator.objects.create(task=task, code="out", name="产值", unit="亿元", kind="amount", frequency="weekly", annual_target=52)
    IndicatorDepartment.objects.create(indicator=ind, department=dept)
    return plan


def weeks_from(first: D, last: D):
    day = first
    while day <= last:
        yield day
        day += WEEK


def enter(plan, values: dict[D, float]):
    ind = Indicator.objects.get(code="out")
    dept = Department.objects.get(code="a")
    for start, value in values.items():
        Figure.objects.update_or_create(
            indicator=ind, department=dept, period_start=start,
            defaults={"value": Decimal(str(value)), "entered_at": datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC)},
        )


def roll(plan, day: D) -> Week:
    week = Week.of(plan, day, TODAY)
    rollup_week(week)  # its signal runs the ladder
    return week


def indicator_order(plan):
    return SupervisionOrder.objects.filter(plan=plan, subject_key=f"indicator:{Indicator.objects.get(code='out').pk}").order_by("pk").last()


def expected_gap(total: float, as_of: D) -> float:
    """Completion minus 序时进度, in points: the figures' sum over 52, against the day of the year over 365."""
    return total / 52 * 100 - as_of.timetuple().tm_yday / 365 * 100


MAY2, MAY9, MAY16, MAY23, MAY30 = D(2022, 5, 2), D(2022, 5, 9), D(2022, 5, 16), D(2022, 5, 23), D(2022, 5, 30)


def test_red_light_opens_a_yellow_order_that_turns_red_after_k_weeks_then_steps_down_and_closes(plan):
    # Half the pace from January: by May about 19 points behind schedule, red.
    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY2)
    order = indicator_order(plan)
    assert (order.level, order.status, order.department.code) == (OrderLevel.YELLOW, OrderStatus.AWAITING_REPLY, "a")
    total = 0.5 * len(list(weeks_from(D(2022, 1, 3), MAY2)))
    gap = expected_gap(total, D(2022, 5, 8))
    assert gap < -5
    assert f"{-gap:.1f}" in order.reason  # "behind schedule by 19.x points", from the stored roll-up

    roll(plan, MAY9)
    assert indicator_order(plan).level == OrderLevel.YELLOW  # two red weeks: not yet the plan's three
    roll(plan, MAY16)
    order = indicator_order(plan)
    assert order.level == OrderLevel.RED and "3" in order.reason
    assert list(order.events.values_list("kind", "level")) == [
        (OrderEventKind.ISSUED, OrderLevel.YELLOW), (OrderEventKind.ESCALATED, OrderLevel.RED),
    ]

    # Running the rules again on the same week creates nothing new.
    events = OrderEvent.objects.count()
    outcome = issue_orders(Week.of(plan, MAY16, TODAY))
    assert outcome.changed == 0 and OrderEvent.objects.count() == events
    assert SupervisionOrder.objects.filter(plan=plan).count() == 1

    # Recovering: the week of 23 May brings the cumulative to 2 points behind (yellow light) ...
    as_of = D(2022, 5, 29)
    before = 0.5 * len(list(weeks_from(D(2022, 1, 3), MAY16)))
    needed = (as_of.timetuple().tm_yday / 365 * 100 - 2) / 100 * 52 - before
    enter(plan, {MAY23: round(needed, 4)})
    assert -5 < expected_gap(before + round(needed, 4), as_of) < 0
    roll(plan, MAY23)
    order = indicator_order(plan)
    assert IndicatorProgress.objects.get(indicator__code="out", week=MAY23).light == Light.YELLOW
    assert (order.level, order.closed_on) == (OrderLevel.YELLOW, None)
    assert order.events.last().kind == OrderEventKind.STEPPED_DOWN

    # ... and the week of 30 May makes up the shortfall: the order closes (by the numbers, not a reply).
    enter(plan, {MAY30: 10})
    roll(plan, MAY30)
    order.refresh_from_db()
    assert order.closed_on == D(2022, 6, 5) and order.status == OrderStatus.CLOSED
    assert order.events.last().kind == OrderEventKind.CLOSED
    assert SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True).count() == 0


def test_an_order_left_without_reply_climbs_and_a_reply_stops_the_climb(plan):
    plan.order_reply_days = 3
    plan.save()
    # Department a reports every week but the last three; the latest due week is missing: a blue order.
    enter(plan, {w: 1 for w in weeks_from(D(2022, 1, 3), D(2022, 4, 25))})
    roll(plan, MAY2)
    missing = SupervisionOrder.objects.get(plan=plan, subject_kind=OrderSubject.MISSING_REPORT)
    assert missing.level == OrderLevel.BLUE and missing.deadline == D(2022, 5, 8) + datetime.timedelta(days=3)
    assert "应报 1 项，缺报 1 项" in missing.reason
    roll(plan, MAY9)  # past its deadline without a reply: yellow
    missing.refresh_from_db()
    assert missing.level == OrderLevel.YELLOW and missing.status == OrderStatus.AWAITING_REPLY
    assert "2022-05-11" in missing.events.last().text

    staff = make_user("staff-a", role=Role.STAFF, departments=[Department.objects.get(code="a")])
    services.order_reply(user=staff, order=missing, measures="本周补报", expected_date=TODAY)
    missing.refresh_from_db()
    assert missing.status == OrderStatus.REPLIED
    roll(plan, MAY16)  # still missing, but answered: it stays yellow, and a reply alone does not close it
    missing.refresh_from_db()
    assert (missing.level, missing.closed_on) == (OrderLevel.YELLOW, None)

    enter(plan, {MAY2: 1, MAY9: 1, MAY16: 1})
    roll(plan, MAY16)  # the same week again (the hourly run): every report is in, the order closes
    missing.refresh_from_db()
    assert missing.closed_on is not None and "已全部报送" in missing.close_reason


def test_milestones_blue_when_due_soon_red_when_overdue_closed_when_done(plan):
    task = Task.objects.get(title="任务")
    enter(plan, {w: 1 for w in weeks_from(D(2022, 1, 3), MAY30)})
    node = Milestone.objects.create(task=task, number=1, title="开工", planned_date=D(2022, 5, 12))
    roll(plan, MAY2)  # as of 8 May: due in 4 days, within the plan's 7
    order = SupervisionOrder.objects.get(subject_key=f"milestone:{node.pk}")
    assert order.level == OrderLevel.BLUE and "2022-05-12" in order.reason
    roll(plan, MAY9)  # as of 15 May: 3 days overdue
    order.refresh_from_db()
    assert order.level == OrderLevel.RED and "3" in order.reason
    node.done_date = D(2022, 5, 18)
    node.save()
    roll(plan, MAY16)
    order.refresh_from_db()
    assert order.closed_on == D(2022, 5, 22)


def test_red_orders_open_an_interview_and_cost_points_in_the_ranking(plan):
    plan.score_order_penalty_red = Decimal("3")
    plan.score_interview_penalty = Decimal("5")
    plan.save()
    task = Task.objects.get(title="任务")
    enter(plan, {w: 1 for w in weeks_from(D(2022, 1, 3), MAY30)})
    for n in (1, 2):
        Milestone.objects.create(task=task, number=n, title=f"节点{n}", planned_date=D(2022, 5, n))
    week = roll(plan, MAY2)  # both overdue by 8 May: two red orders, and the plan's two red orders open a 约谈
    assert SupervisionOrder.objects.filter(level=OrderLevel.RED, closed_on__isnull=True).count() == 2
    interview = Interview.objects.get(department__code="a")
    assert interview.orders.count() == 2 and interview.closed_on is None
    score = DepartmentScore.objects.get(plan=plan, week=week.start, department__code="a")
    assert score.order_penalty == pytest.approx(2 * 3 + 5)

    # With the plan's deductions at zero the same week scores exactly that much more.
    with_orders = score.score
    Plan.objects.filter(pk=plan.pk).update(score_order_penalty_red=0, score_interview_penalty=0)
    rescore_week(Week.of(Plan.objects.get(pk=plan.pk), MAY2, TODAY))
    score.refresh_from_db()
    assert score.order_penalty == 0 and score.score == pytest.approx(with_orders + 11)


def test_orders_move_forward_only(plan):
    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY16)
    events = list(OrderEvent.objects.values_list("pk", flat=True))
    outcome = issue_orders(Week.of(plan, MAY2, TODAY))  # a late roll-up of an earlier week
    assert outcome.skipped
    roll(plan, MAY2)
    assert list(OrderEvent.objects.values_list("pk", flat=True)) == events


def test_a_closed_off_task_leaves_the_ladder(plan):
    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY2)
    assert indicator_order(plan).is_open
    Task.objects.filter(title="任务").update(status=TaskStatus.CLOSED)
    roll(plan, MAY9)
    order = indicator_order(plan)
    assert not order.is_open and "已销号" in order.close_reason


def test_who_may_reply_verify_and_close(plan):
    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY2)
    order = indicator_order(plan)
    dept_a, dept_b = Department.objects.get(code="a"), Department.objects.get(code="b")
    staff_a = make_user("staff-a", role=Role.STAFF, departments=[dept_a])
    staff_b = make_user("staff-b", role=Role.STAFF, departments=[dept_b])
    office = make_user("office", role=Role.SUPERVISOR)
    office_of_a = make_user("office-a", role=Role.SUPERVISOR)
    office_of_a.groups.add(*staff_a.groups.all())
    dept_a.members.add(office_of_a)
    leader = make_user("leader", role=Role.LEADER)

    with pytest.raises(PermissionDenied):
        services.order_reply(user=staff_b, order=order, measures="x", expected_date=TODAY)
    with pytest.raises(PermissionDenied):
        services.order_reply(user=office, order=order, measures="x", expected_date=TODAY)
    with pytest.raises(ValidationError):
        services.order_reply(user=staff_a, order=order, measures="  ", expected_date=TODAY)
    with pytest.raises(ValidationError):
        services.order_reply(user=staff_a, order=order, measures="加快进度", expected_date=D(9999, 12, 31))
    assert order.replies.count() == 0
    reply = services.order_reply(user=staff_a, order=order, measures="加快进度", expected_date=D(2022, 6, 30))

    with pytest.raises(PermissionDenied):
        services.reply_verify(user=staff_a, reply=reply, accept=True)
    with pytest.raises(PermissionDenied):
        services.reply_verify(user=office_of_a, reply=reply, accept=True)  # segregation of duties
    with pytest.raises(ValidationError):
        services.reply_verify(user=office, reply=reply, accept=False, comment="")
    services.reply_verify(user=office, reply=reply, accept=False, comment="措施不具体")
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED and order.is_open

    for user in (leader, staff_a):
        with pytest.raises(PermissionDenied):
            services.order_close(user=user, order=order, reason="x")
    with pytest.raises(ValidationError):
        services.order_close(user=office, order=order, reason="")
    services.order_close(user=office, order=order, reason="已并入专项督查")
    order.refresh_from_db()
    assert order.closed_on == TODAY
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == [OrderEventKind.ISSUED, OrderEventKind.REPLIED, OrderEventKind.RETURNED, OrderEventKind.CLOSED]


def test_issue_by_hand_raises_the_open_order_instead_of_duplicating(plan):
    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY2)
    office = make_user("office", role=Role.SUPERVISOR)
    ind = Indicator.objects.get(code="out")
    order = services.order_issue(user=office, plan=plan, subject=ind, level=OrderLevel.RED, reason="领导批示")
    assert order.level == OrderLevel.RED and SupervisionOrder.objects.filter(subject_key=f"indicator:{ind.pk}").count() == 1
    with pytest.raises(ValidationError):
        services.order_issue(user=office, plan=plan, subject=ind, level=OrderLevel.BLUE, reason="again")
    with pytest.raises(PermissionDenied):
        services.order_issue(user=make_user("l", role=Role.LEADER), plan=plan, subject=ind, level=OrderLevel.RED, reason="x")


def test_demo_has_orders_for_every_red_item_and_missing_report_with_the_roll_ups_reasons(demo_plan):
    """Seeded as of 2022-05-20: every red indicator and every unit with missing reports has an open order."""
    plan = demo_plan
    week = D(2022, 5, 16)
    red = IndicatorProgress.objects.filter(plan=plan, week=week, light=Light.RED).exclude(indicator__kind="milestone")
    assert red.exists()
    open_keys = set(SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True).values_list("subject_key", flat=True))
    for row in red:
        assert f"indicator:{row.indicator_id}" in open_keys, row.indicator.name
    missing = {}
    for row in DepartmentIndicatorProgress.objects.filter(plan=plan, week=week):
        missing[row.department_id] = missing.get(row.department_id, 0) + row.period_due - row.period_entered
    assert any(missing.values())
    for department_id, n in missing.items():
        if n > 0:
            order = SupervisionOrder.objects.get(plan=plan, subject_key=f"missing:{department_id}", closed_on__isnull=True)
            assert order.reason.startswith(f"{n} ") or f"{n} " in order.reason
    # Each open indicator order's reason is the stored roll-up's gap, as pages print it.
    for order in SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True, subject_kind=OrderSubject.INDICATOR):
        row = IndicatorProgress.objects.get(indicator=order.indicator, week=order.week)
        if row.gap_pp is not None and row.gap_pp < 0 and order.indicator.measure == "amount":
            assert f"{-row.gap_pp:.1f}" in order.reason
    # Running the issuer again creates nothing new.
    orders, events = SupervisionOrder.objects.count(), OrderEvent.objects.count()
    call_command("issue_orders", "--as-of", "2022-05-20")
    assert (SupervisionOrder.objects.count(), OrderEvent.objects.count()) == (orders, events)


def test_an_order_issued_by_hand_is_closed_by_the_office_only(plan):
    enter(plan, {w: 1 for w in weeks_from(D(2022, 1, 3), MAY30)})  # on schedule: the rules see nothing
    roll(plan, MAY2)
    assert not SupervisionOrder.objects.exists()
    office = make_user("office", role=Role.SUPERVISOR)
    order = services.order_issue(user=office, plan=plan, subject=Indicator.objects.get(code="out"), level=OrderLevel.YELLOW, reason="领导批示：加快进度")
    roll(plan, MAY9)
    order.refresh_from_db()
    assert order.is_open and order.level == OrderLevel.YELLOW


def test_accepting_a_closeoff_closes_the_tasks_orders_at_once(plan):
    from metrics.closeoff.services import closeoff_decide, closeoff_request

    enter(plan, {w: 0.5 for w in weeks_from(D(2022, 1, 3), MAY30)})
    roll(plan, MAY2)
    order = indicator_order(plan)
    staff = make_user("staff-a", role=Role.STAFF, departments=[Department.objects.get(code="a")])
    office = make_user("office", role=Role.SUPERVISOR)
    proposal = closeoff_request(user=staff, task=Task.objects.get(title="任务"), note="按计划调整，任务已完成")
    closeoff_decide(user=office, request=proposal, accept=True)
    order.refresh_from_db()
    assert order.closed_on == TODAY and "已销号" in order.close_reason
