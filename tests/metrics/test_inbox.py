"""我的待办: what each role has to do, from hand-built data; the page, who sees it, and where home lands."""

import datetime

import pytest
from django.urls import reverse

from metrics.choices import OrderLevel, OrderStatus, ReopenStatus, SheetStatus
from metrics.inbox.selectors import inbox_items, leader_names
from metrics.models import ReopenRequest, Sheet
from planboard.roles import Role
from tests.factories import make_user
from tests.metrics.inbox import order, reply, returned_sheet
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


def keys(inbox) -> list[str]:
    return [s.key for s in inbox.sections]


def objects(inbox, key) -> list:
    return [item.obj for item in inbox.section(key).items]


@pytest.mark.django_db
class StaffInboxTests:
    def test_it_lists_this_weeks_sheet_due_by_the_deadline(self, cast):
        inbox = inbox_items(user=cast.staff_a, today=TODAY)
        assert keys(inbox) == ["sheets_due", "returned_sheets", "open_orders", "reopen_decisions", "closeoff_decisions"]
        [item] = inbox.section("sheets_due").items
        assert item.obj.start == WEEK and item.obj.department == cast.dept_a
        assert item.deadline.strftime("%Y-%m-%d %H:%M") == "2022-05-20 17:00" and not item.overdue
        assert item.url == sheet_url(cast.dept_a)

    def test_a_submitted_sheet_is_no_longer_due(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: "1" for i in indicators(cast.plan, cast.dept_a)}, action="submit"))
        assert response.status_code == 302
        assert Sheet.objects.get(department=cast.dept_a, period_start=WEEK).status == SheetStatus.SUBMITTED
        assert inbox_items(user=cast.staff_a, today=TODAY).section("sheets_due").items == []

    def test_a_draft_is_still_due(self, client, cast):
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "1"}))
        [item] = inbox_items(user=cast.staff_a, today=TODAY).section("sheets_due").items
        assert item.obj.sheet is not None and "草稿" in item.detail

    def test_it_shows_a_returned_sheet_with_the_reviewers_comment_and_until_when(self, cast):
        sheet = returned_sheet(cast)
        [item] = inbox_items(user=cast.staff_a, today=TODAY).section("returned_sheets").items
        assert item.obj == sheet and item.detail == "第3项产值单位有误，请核对"
        assert item.deadline == datetime.date(2022, 5, 23)

    def test_it_shows_the_units_open_orders_with_their_deadline(self, cast):
        waiting = order(cast, number=1)
        sent_back = order(cast, number=2, status=OrderStatus.RETURNED)
        reply(sent_back, cast.staff_a, verdict=ReopenStatus.REFUSED, comment="措施不具体")
        replied = order(cast, number=3, status=OrderStatus.REPLIED)  # waits for the office, not the unit
        order(cast, number=4, closed_on=datetime.date(2022, 5, 19), status=OrderStatus.CLOSED)
        order(cast, cast.dept_b, number=5)
        inbox = inbox_items(user=cast.staff_a, today=TODAY)
        assert objects(inbox, "open_orders") == [waiting, sent_back]
        first, second = inbox.section("open_orders").items
        assert first.deadline == datetime.date(2022, 5, 25) and first.detail == waiting.reason
        assert "措施不具体" in second.detail
        assert replied not in objects(inbox, "open_orders")

    def test_an_order_past_its_deadline_is_overdue(self, cast):
        order(cast, deadline=datetime.date(2022, 5, 19))
        [item] = inbox_items(user=cast.staff_a, today=TODAY).section("open_orders").items
        assert item.overdue

    def test_it_shows_recent_decisions_on_reopen_requests(self, cast):
        sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=datetime.date(2022, 5, 2),
                                     reopened_until=datetime.date(2022, 5, 23))
        granted = ReopenRequest.objects.create(sheet=sheet, reason="漏报", requested_by=cast.staff_a, status=ReopenStatus.GRANTED,
                                               decided_by=cast.supervisor, decided_at=datetime.datetime(2022, 5, 19, 8, tzinfo=datetime.UTC), decision_note="同意")
        ReopenRequest.objects.create(sheet=sheet, reason="旧的", requested_by=cast.staff_a, status=ReopenStatus.REFUSED,
                                     decided_by=cast.supervisor, decided_at=datetime.datetime(2022, 4, 1, 8, tzinfo=datetime.UTC))
        ReopenRequest.objects.create(sheet=sheet, reason="待定", requested_by=cast.staff_a)
        [item] = inbox_items(user=cast.staff_a, today=TODAY).section("reopen_decisions").items
        assert item.obj == granted and item.detail == "同意" and item.deadline == datetime.date(2022, 5, 23)

    def test_staff_see_only_their_own_departments(self, cast):
        returned_sheet(cast)
        order(cast)
        inbox = inbox_items(user=cast.staff_b, today=TODAY)
        assert inbox.section("returned_sheets").items == [] and inbox.section("open_orders").items == []
        assert [i.obj.department for i in inbox.section("sheets_due").items] == [cast.dept_b]


@pytest.mark.django_db
class OfficeInboxTests:
    def test_it_lists_sheets_to_review_replies_to_verify_and_overdue_orders(self, cast):
        submitted = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK,
                                         status=SheetStatus.SUBMITTED, submitted_at=datetime.datetime(2022, 5, 19, 2, tzinfo=datetime.UTC))
        replied = order(cast, number=1, status=OrderStatus.REPLIED)
        pending = reply(replied, cast.staff_a)
        reply(order(cast, number=2, status=OrderStatus.ACCEPTED), cast.staff_a, verdict=ReopenStatus.GRANTED)
        late = order(cast, cast.dept_b, number=3, deadline=datetime.date(2022, 5, 19))
        order(cast, number=4, deadline=datetime.date(2022, 5, 30))  # not late yet
        inbox = inbox_items(user=cast.supervisor, today=TODAY)
        assert keys(inbox) == ["to_review", "reopen_requests", "replies_to_verify", "orders_overdue", "closeoff_requests"]
        assert objects(inbox, "to_review") == [submitted]
        assert objects(inbox, "replies_to_verify") == [pending]
        assert objects(inbox, "orders_overdue") == [late]

    def test_a_supervisor_who_is_staff_of_a_department_does_not_review_it(self, cast):
        from django.contrib.auth.models import Group

        both = make_user("both", role=Role.SUPERVISOR, departments=[cast.dept_a])
        both.groups.add(Group.objects.get(name=Role.STAFF.value))
        Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK, status=SheetStatus.SUBMITTED)
        assert inbox_items(user=both, today=TODAY).section("to_review").items == []


@pytest.mark.django_db
class LeaderInboxTests:
    def test_a_leader_sees_open_orders_on_the_actions_they_lead(self, cast):
        cast.leader.first_name = "张三"  # the small plan's lead leader of every action
        cast.leader.save()
        mine = order(cast, level=OrderLevel.RED)
        order(cast, number=2, closed_on=datetime.date(2022, 5, 19), status=OrderStatus.CLOSED)
        inbox = inbox_items(user=cast.leader, today=TODAY)
        assert keys(inbox) == ["led_orders"]
        assert objects(inbox, "led_orders") == [mine]

    def test_the_plans_lead_leader_may_carry_a_title_in_brackets(self, cast):
        from actions.models import Action

        Action.objects.filter(plan=cast.plan).update(lead_leader="张三（管委会副主任）")
        cast.leader.first_name = "张三"
        cast.leader.save()
        mine = order(cast)
        assert objects(inbox_items(user=cast.leader, today=TODAY), "led_orders") == [mine]

    def test_another_leader_sees_none_and_a_longer_name_does_not_match(self, cast):
        order(cast)
        other = make_user("leader2", role=Role.LEADER)
        other.first_name = "张"  # 张三 starts with 张, but is not 张
        other.save()
        assert inbox_items(user=other, today=TODAY).section("led_orders").items == []

    def test_leader_names_try_both_orders_of_the_name(self):
        from django.contrib.auth.models import User

        assert leader_names(User(first_name="立新", last_name="陈")) == ["立新 陈", "立新陈", "陈立新"]
        assert leader_names(User()) == []


@pytest.mark.django_db
class InboxPageTests:
    def test_its_url(self):
        assert reverse("metrics:inbox") == "/inbox/"

    def test_staff_see_their_returned_sheet_and_open_order(self, client, cast):
        returned_sheet(cast)
        order(cast)
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:inbox")).content.decode()
        assert "我的待办" in html
        assert "第3项产值单位有误，请核对" in html
        assert "产值慢于序时进度 12.0 个百分点" in html and "2022-05-25" in html
        assert "2022-05-20 17:00" in html

    def test_nobody_sees_anothers_inbox(self, client, cast):
        returned_sheet(cast)
        client.force_login(cast.staff_b)
        html = client.get(reverse("metrics:inbox")).content.decode()
        assert "第3项产值单位有误" not in html and "乙局" in html

    def test_anonymous_visitors_are_sent_to_login(self, client, cast):
        response = client.get(reverse("metrics:inbox"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_it_is_in_english_on_request(self, client, cast):
        client.force_login(cast.staff_a)
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        html = client.get(reverse("metrics:inbox")).content.decode()
        assert "My to-do list" in html and "Report sheets due" in html

    def test_the_nav_links_the_inbox(self, client, cast):
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:overview")).content.decode()
        assert f'href="{reverse("metrics:inbox")}"' in html

    @pytest.mark.parametrize("who", ["staff_a", "supervisor", "leader"])
    def test_its_query_count_does_not_grow_with_the_data(self, client, cast, who):
        from tests.conftest import count_queries

        client.force_login(getattr(cast, who))
        returned_sheet(cast)
        reply(order(cast, number=1, deadline=datetime.date(2022, 5, 19)), cast.staff_a)
        before = count_queries(client, reverse("metrics:inbox"))
        returned_sheet(cast, week=datetime.date(2022, 5, 2))
        for number in range(2, 7):
            reply(order(cast, number=number, deadline=datetime.date(2022, 5, 19)), cast.staff_a)
        assert count_queries(client, reverse("metrics:inbox")) == before


@pytest.mark.django_db
class HomeLandingTests:
    @pytest.mark.parametrize("who, target", [("staff_a", "metrics:inbox"), ("supervisor", "metrics:inbox"), ("leader", "metrics:overview")])
    def test_home_lands_each_role_on_its_page(self, client, cast, who, target):
        client.force_login(getattr(cast, who))
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url == reverse(target)

    def test_a_leader_keeps_the_as_of_week(self, client, cast):
        client.force_login(cast.leader)
        assert client.get(reverse("home") + "?week=2022-05-09").url == reverse("metrics:overview") + "?week=2022-05-09"

    def test_an_account_without_a_role_reads_the_overview(self, client, cast):
        client.force_login(make_user("nobody"))
        assert client.get(reverse("home")).url == reverse("metrics:overview")


@pytest.mark.django_db
class CloseOffInboxTests:
    """销号 and 延期: the office sees the requests to decide, the unit the decisions on its own."""

    def test_requests_reach_the_office_and_decisions_the_unit(self, cast):
        from actions.models import Task
        from metrics.closeoff.services import closeoff_decide, closeoff_request, extension_decide, extension_request

        task = Task.objects.filter(action__plan=cast.plan, lead_department=cast.dept_a).order_by("pk").first()
        Task.objects.filter(pk=task.pk).update(deadline=datetime.date(2022, 10, 31))
        task.refresh_from_db()
        proposal = closeoff_request(user=cast.staff_a, task=task, note="已全部完成，见佐证")
        extension = extension_request(user=cast.staff_a, task=task, reason="征地未完成", new_deadline=datetime.date(2022, 11, 30))
        office = inbox_items(user=cast.supervisor, today=TODAY)
        assert objects(office, "closeoff_requests") == [proposal, extension]
        assert "甲局" in office.section("closeoff_requests").items[0].title
        assert office.section("closeoff_requests").items[0].url == reverse("metrics:task_closeoff", args=[task.pk])
        assert objects(inbox_items(user=cast.staff_a, today=TODAY), "closeoff_decisions") == []

        extension_decide(user=cast.supervisor, request=extension, grant=True)
        closeoff_decide(user=cast.supervisor, request=proposal, accept=False, note="缺少验收报告")
        assert objects(inbox_items(user=cast.supervisor, today=TODAY), "closeoff_requests") == []
        unit = inbox_items(user=cast.staff_a, today=TODAY).section("closeoff_decisions")
        assert {item.obj for item in unit.items} == {proposal, extension}
        assert any("2022-11-30" in item.title for item in unit.items)
        assert any(item.detail == "缺少验收报告" for item in unit.items)
        assert objects(inbox_items(user=cast.staff_b, today=TODAY), "closeoff_decisions") == []
