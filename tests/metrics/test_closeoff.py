"""销号 (close-off) and 延期 (extension): the objective test, who may ask and decide, the red lists, the deadline, history."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actions.choices import TaskStatus
from actions.models import Milestone, Task
from metrics.choices import CloseOffCriterion, CloseOffStatus, ExtensionStatus
from metrics.closeoff import selectors, services
from metrics.closeoff.selectors import closeoff_check, pending_closeoffs, pending_extensions, requests_of
from metrics.models import CloseOffRequest, Evidence, ExtensionRequest, Figure
from metrics.rollup.services import rollup_plan_weeks
from metrics.supervision.selectors import lagging_indicators, overdue_milestones
from planboard.roles import Role
from tests.conftest import count_queries
from tests.factories import make_user
from tests.metrics.test_bad_input import pdf_bytes

D = datetime.date
TODAY = D(2022, 5, 20)
WEEK = D(2022, 5, 16)  # the as-of week of TODAY


@pytest.fixture
def office(cast, settings, tmp_path):
    """The small plan on 20 May 2022; task 1.1 (lead unit 甲局, 产值 target 100 split 60/40, one milestone)."""
    settings.PLANBOARD_TODAY = TODAY
    settings.MEDIA_ROOT = tmp_path
    cast.task = Task.objects.get(action__plan=cast.plan, action__number=1, number=1)
    cast.indicator = cast.task.indicators.get()
    cast.milestone = cast.task.milestones.get()
    return cast


def report(cast, *, a, b, week=D(2022, 5, 9)):
    for department, value in [(cast.dept_a, a), (cast.dept_b, b)]:
        Figure.objects.create(indicator=cast.indicator, department=department, period_start=week, value=value,
                              entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))


def roll(cast):
    rollup_plan_weeks(plan=cast.plan, first=D(2022, 5, 2), last=TODAY)


def evidence(cast, task=None):
    task = task or cast.task
    item = Evidence(task=task, department=task.lead_department, period_start=D(2022, 5, 16), original_name="验收报告.pdf",
                    content_type="application/pdf", size=10, uploaded_by=cast.staff_a)
    item.file.save("report.pdf", ContentFile(pdf_bytes()), save=False)
    item.save()
    return item


@pytest.fixture
def finished(office):
    """Task 1.1 done: 60 + 40 = 100 of 100 reported, its milestone done on time, one evidence file."""
    report(office, a=60, b=40)
    Milestone.objects.filter(pk=office.milestone.pk).update(done_date=D(2022, 3, 30))
    roll(office)
    office.evidence = evidence(office)
    return office


def met(check) -> dict:
    return {c.code: c.met for c in check.criteria}


@pytest.mark.django_db
class CloseoffCheckTests:
    def test_it_is_met_when_the_indicator_is_at_100_the_milestone_done_and_evidence_present(self, finished):
        check = closeoff_check(finished.task, TODAY)
        assert check.week == WEEK
        assert met(check) == {"indicators": True, "milestones": True, "evidence": True} and check.all_met
        indicators = check.criteria[0]
        assert indicators.detail == "1 / 1 项指标在 2022-05-16 当周的汇总中达标。"

    def test_it_says_which_criteria_fail_with_hand_computed_numbers(self, office):
        report(office, a=50, b=40)  # 90 of 100: 90 %
        roll(office)
        check = closeoff_check(office.task, TODAY)
        assert met(check) == {"indicators": False, "milestones": False, "evidence": False}
        assert check.criteria[0].items[0].startswith("产值（亿元）: 完成 90")
        assert check.criteria[1].detail == "0 / 1 个节点已完成。"
        assert check.criteria[1].items == ("开工（计划 2022-03-31）未完成",)
        assert check.criteria[2].detail == "还没有佐证材料：请随申请附上。"

    def test_it_says_so_when_nothing_was_rolled_up(self, office):
        check = closeoff_check(office.task, TODAY)
        assert check.week is None
        assert not check.criteria[0].met and check.criteria[0].detail == "尚未汇总：无法判断指标。"

    def test_a_cumulative_past_the_target_counts_and_a_milestone_done_after_the_day_does_not(self, office):
        report(office, a=80, b=40)  # 120 %
        Milestone.objects.filter(pk=office.milestone.pk).update(done_date=D(2022, 5, 19))
        roll(office)
        assert met(closeoff_check(office.task, TODAY))["indicators"] is True
        assert met(closeoff_check(office.task, TODAY))["milestones"] is True
        assert met(closeoff_check(office.task, D(2022, 5, 18)))["milestones"] is False

    def test_a_parent_task_answers_for_its_sub_tasks(self, finished):
        sub = Task.objects.create(action=finished.task.action, parent=finished.task, number=1, title="子任务",
                                  lead_department=finished.dept_b, deadline=D(2022, 12, 31))
        Milestone.objects.create(task=sub, number=1, title="子节点", planned_date=D(2022, 9, 30))
        check = closeoff_check(finished.task, TODAY)
        assert met(check)["milestones"] is False and check.criteria[1].items == ("子节点（计划 2022-09-30）未完成",)

    def test_a_rate_is_met_at_its_target_and_a_cap_within_its_allowance(self, office):
        from types import SimpleNamespace

        from actions.choices import Direction, IndicatorKind
        from actions.models import Indicator

        rate = Indicator(kind=IndicatorKind.GROWTH_RATE, direction=Direction.HIGHER)
        cap = Indicator(kind=IndicatorKind.COUNT, direction=Direction.LOWER)
        row = lambda actual, target, completion=None: SimpleNamespace(actual=actual, target=target, completion_pct=completion)  # noqa: E731
        assert selectors.indicator_met(rate, row(8, 8)) and not selectors.indicator_met(rate, row(7.9, 8))
        assert selectors.indicator_met(cap, row(0, 0)) and not selectors.indicator_met(cap, row(1, 0))
        assert not selectors.indicator_met(rate, None)


@pytest.mark.django_db
class CloseoffRequestTests:
    def test_staff_of_the_lead_unit_propose_with_evidence_and_the_test_is_kept(self, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task, evidence=[finished.evidence])
        assert request.status == CloseOffStatus.PENDING and list(request.evidence.all()) == [finished.evidence]
        assert [c["code"] for c in request.test_result] == list(CloseOffCriterion.values)
        assert all(c["met"] for c in request.test_result)
        assert list(pending_closeoffs(finished.plan)) == [request]

    def test_a_failing_test_needs_a_note_and_then_the_proposal_goes_through(self, office):
        with pytest.raises(ValidationError) as exc:
            services.closeoff_request(user=office.staff_a, task=office.task)
        assert "note" in exc.value.message_dict
        assert not CloseOffRequest.objects.exists()
        request = services.closeoff_request(user=office.staff_a, task=office.task, note="已完成，数据下周补报")
        assert [c["met"] for c in request.test_result] == [False, False, False]

    def test_an_upload_goes_through_the_evidence_checks(self, finished):
        bad = SimpleUploadedFile("scan.pdf", b"<html>not a pdf</html>")
        with pytest.raises(ValidationError) as exc:
            services.closeoff_request(user=finished.staff_a, task=finished.task, upload=bad)
        assert exc.value.message_dict["file"] == ["“scan.pdf”的内容与扩展名（.pdf）不符：文件未被接受。"]
        assert Evidence.objects.count() == 1 and not CloseOffRequest.objects.exists()
        good = SimpleUploadedFile("验收.pdf", pdf_bytes())
        request = services.closeoff_request(user=finished.staff_a, task=finished.task, upload=good)
        assert [e.original_name for e in request.evidence.all()] == ["验收.pdf"]
        assert request.evidence.get().task == finished.task

    def test_an_upload_counts_as_the_evidence_the_test_asks_for(self, office):
        report(office, a=60, b=40)
        Milestone.objects.filter(pk=office.milestone.pk).update(done_date=D(2022, 3, 30))
        roll(office)
        request = services.closeoff_request(user=office.staff_a, task=office.task, upload=SimpleUploadedFile("a.pdf", pdf_bytes()))
        assert all(c["met"] for c in request.test_result)

    @pytest.mark.parametrize("who", ["staff_b", "supervisor", "leader"])
    def test_only_the_lead_units_staff_may_propose(self, finished, who):
        with pytest.raises(PermissionDenied):
            services.closeoff_request(user=getattr(finished, who), task=finished.task, note="x")

    def test_a_second_proposal_waits_for_the_first(self, finished):
        services.closeoff_request(user=finished.staff_a, task=finished.task)
        with pytest.raises(ValidationError, match="已在等待"):
            services.closeoff_request(user=finished.staff_a, task=finished.task)

    def test_evidence_of_another_task_is_refused(self, finished):
        other = evidence(finished, task=Task.objects.get(action__plan=finished.plan, action__number=2, number=1))
        with pytest.raises(ValidationError) as exc:
            services.closeoff_request(user=finished.staff_a, task=finished.task, evidence=[other])
        assert "evidence" in exc.value.message_dict


@pytest.mark.django_db
class CloseoffDecideTests:
    def test_accepting_closes_the_task_off_and_it_leaves_the_red_lists(self, office):
        report(office, a=10, b=5)  # far behind: red
        roll(office)
        assert office.indicator.pk in {p.indicator_id for p in lagging_indicators(plan=office.plan, week=WEEK)}
        assert office.milestone in overdue_milestones(plan=office.plan, as_of=TODAY)
        request = services.closeoff_request(user=office.staff_a, task=office.task, note="现场核验已完成")
        services.closeoff_decide(user=office.supervisor, request=request, accept=True, note="核验通过")
        office.task.refresh_from_db()
        assert office.task.status == TaskStatus.CLOSED
        assert office.indicator.pk not in {p.indicator_id for p in lagging_indicators(plan=office.plan, week=WEEK)}
        assert office.milestone not in overdue_milestones(plan=office.plan, as_of=TODAY)
        # Other tasks stay on the lists.
        assert overdue_milestones(plan=office.plan, as_of=TODAY).count() == 7

    def test_accepting_a_parent_closes_its_sub_tasks(self, finished):
        sub = Task.objects.create(action=finished.task.action, parent=finished.task, number=1, title="子任务",
                                  lead_department=finished.dept_b, deadline=D(2022, 12, 31))
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        services.closeoff_decide(user=finished.supervisor, request=request, accept=True)
        assert Task.objects.get(pk=sub.pk).status == TaskStatus.CLOSED

    def test_sending_back_needs_a_note_and_leaves_the_task_open(self, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        with pytest.raises(ValidationError, match="需要说明"):
            services.closeoff_decide(user=finished.supervisor, request=request, accept=False)
        services.closeoff_decide(user=finished.supervisor, request=request, accept=False, note="缺验收报告")
        request.refresh_from_db()
        assert request.status == CloseOffStatus.RETURNED and request.decision_note == "缺验收报告"
        assert Task.objects.get(pk=finished.task.pk).status != TaskStatus.CLOSED
        # Sent back, staff may propose again.
        services.closeoff_request(user=finished.staff_a, task=finished.task, note="补充了材料")

    @pytest.mark.parametrize("who", ["staff_a", "staff_b", "leader"])
    def test_only_the_supervision_office_decides(self, finished, who):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        with pytest.raises(PermissionDenied):
            services.closeoff_decide(user=getattr(finished, who), request=request, accept=True)

    def test_a_supervisor_who_is_staff_of_the_lead_unit_may_not_decide(self, finished):
        both = make_user("both", role=Role.SUPERVISOR, departments=[finished.dept_a])
        both.groups.add(*finished.staff_a.groups.all())
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        with pytest.raises(PermissionDenied, match="甲局"):
            services.closeoff_decide(user=both, request=request, accept=True)
        Task.objects.filter(pk=finished.task.pk).update(deadline=D(2022, 10, 31))
        extension = services.extension_request(user=both, task=finished.task, reason="x", new_deadline=D(2022, 12, 31))
        with pytest.raises(PermissionDenied, match="甲局"):
            services.extension_decide(user=both, request=extension, grant=True)
        assert CloseOffRequest.objects.get().status == CloseOffStatus.PENDING
        assert ExtensionRequest.objects.get().status == ExtensionStatus.PENDING

    def test_a_decided_request_cannot_be_decided_again_and_a_closed_task_takes_no_request(self, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        services.closeoff_decide(user=finished.supervisor, request=request, accept=True)
        with pytest.raises(ValidationError, match="已处理"):
            services.closeoff_decide(user=finished.supervisor, request=request, accept=False, note="x")
        with pytest.raises(ValidationError, match="已销号"):
            services.closeoff_request(user=finished.staff_a, task=finished.task)
        with pytest.raises(ValidationError, match="已销号"):
            services.extension_request(user=finished.staff_a, task=finished.task, reason="x", new_deadline=D(2022, 12, 31))

    def test_every_step_has_its_history(self, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        services.closeoff_decide(user=finished.supervisor, request=request, accept=True, note="通过")
        steps = list(request.history.order_by("history_date", "history_id").values_list("status", "decided_by__username"))
        assert steps == [(CloseOffStatus.PENDING, None), (CloseOffStatus.ACCEPTED, "supervisor")]


@pytest.fixture
def due_in_october(office):
    Task.objects.filter(pk=office.task.pk).update(deadline=D(2022, 10, 31))
    office.task.refresh_from_db()
    return office


@pytest.mark.django_db
class ExtensionTests:
    def test_granting_moves_the_deadline_and_keeps_the_old_one(self, due_in_october):
        cast = due_in_october
        request = services.extension_request(user=cast.staff_a, task=cast.task, reason="设备延迟到货", new_deadline=D(2022, 11, 30))
        assert request.current_deadline == D(2022, 10, 31) and list(pending_extensions(cast.plan)) == [request]
        services.extension_decide(user=cast.supervisor, request=request, grant=True)
        cast.task.refresh_from_db()
        assert cast.task.deadline == D(2022, 11, 30)
        steps = list(request.history.order_by("history_date", "history_id").values_list("status", flat=True))
        assert steps == [ExtensionStatus.PENDING, ExtensionStatus.GRANTED]

    def test_refusing_needs_a_note_and_leaves_the_deadline(self, due_in_october):
        cast = due_in_october
        request = services.extension_request(user=cast.staff_a, task=cast.task, reason="原因", new_deadline=D(2022, 11, 30))
        with pytest.raises(ValidationError):
            services.extension_decide(user=cast.supervisor, request=request, grant=False)
        services.extension_decide(user=cast.supervisor, request=request, grant=False, note="理由不充分")
        assert Task.objects.get(pk=cast.task.pk).deadline == D(2022, 10, 31)

    @pytest.mark.parametrize("day, message", [
        (D(2022, 10, 31), "新的完成时限必须晚于当前时限（2022-10-31）。"),
        (D(2022, 9, 30), "新的完成时限必须晚于当前时限（2022-10-31）。"),
        (D(2023, 1, 15), "新的完成时限必须在 2022 年计划之内：最晚 2022-12-31。"),
    ])
    def test_the_new_date_is_after_the_deadline_and_within_the_plan_year(self, due_in_october, day, message):
        with pytest.raises(ValidationError) as exc:
            services.extension_request(user=due_in_october.staff_a, task=due_in_october.task, reason="x", new_deadline=day)
        assert exc.value.message_dict["new_deadline"] == [message]
        assert not ExtensionRequest.objects.exists()

    def test_a_reason_is_required(self, due_in_october):
        with pytest.raises(ValidationError) as exc:
            services.extension_request(user=due_in_october.staff_a, task=due_in_october.task, reason="  ", new_deadline=D(2022, 11, 30))
        assert "reason" in exc.value.message_dict

    @pytest.mark.parametrize("who", ["staff_b", "supervisor", "leader"])
    def test_only_the_lead_units_staff_ask(self, due_in_october, who):
        with pytest.raises(PermissionDenied):
            services.extension_request(user=getattr(due_in_october, who), task=due_in_october.task, reason="x", new_deadline=D(2022, 11, 30))

    @pytest.mark.parametrize("who", ["staff_a", "staff_b", "leader"])
    def test_only_the_office_decides(self, due_in_october, who):
        request = services.extension_request(user=due_in_october.staff_a, task=due_in_october.task, reason="x", new_deadline=D(2022, 11, 30))
        with pytest.raises(PermissionDenied):
            services.extension_decide(user=getattr(due_in_october, who), request=request, grant=True)

    def test_requests_of_a_department_are_its_led_tasks(self, due_in_october):
        cast = due_in_october
        extension = services.extension_request(user=cast.staff_a, task=cast.task, reason="x", new_deadline=D(2022, 11, 30))
        assert list(requests_of(cast.dept_a).extensions) == [extension]
        assert list(requests_of(cast.dept_b).extensions) == []


@pytest.mark.django_db
class CloseoffPageTests:
    def url(self, cast):
        return reverse("metrics:task_closeoff", args=[cast.task.pk])

    def test_its_urls(self, office):
        assert self.url(office) == f"/supervision/tasks/{office.task.pk}/"
        assert reverse("metrics:closeoff_requests") == "/supervision/closeoff/"

    def test_staff_of_the_lead_unit_see_the_button_beside_the_test(self, client, office):
        client.force_login(office.staff_a)
        html = client.get(self.url(office)).content.decode()
        assert 'id="closeoff-button"' in html and 'id="objective-test"' in html and 'data-met="0"' in html
        assert "已经是计划年度的最后一天" in html  # deadline 12-31: no extension within the plan

    @pytest.mark.parametrize("who", ["staff_b", "supervisor", "leader"])
    def test_others_see_the_test_but_no_button(self, client, office, who):
        client.force_login(getattr(office, who))
        html = client.get(self.url(office)).content.decode()
        assert 'id="objective-test"' in html and 'id="closeoff-button"' not in html and 'id="extension-button"' not in html

    def test_a_post_by_an_outsider_is_403_and_saves_nothing(self, client, office):
        client.force_login(office.staff_b)
        response = client.post(reverse("metrics:closeoff_request", args=[office.task.pk]), {"note": "x"})
        assert response.status_code == 403 and not CloseOffRequest.objects.exists()
        response = client.post(reverse("metrics:extension_request", args=[office.task.pk]), {"reason": "x", "new_deadline": "2022-12-31"})
        assert response.status_code == 403 and not ExtensionRequest.objects.exists()

    def test_bad_input_says_why_in_chinese_and_saves_nothing(self, client, due_in_october):
        client.force_login(due_in_october.staff_a)
        url = reverse("metrics:extension_request", args=[due_in_october.task.pk])
        response = client.post(url, {"reason": "设备延迟", "new_deadline": "2022-02-30"})
        assert response.status_code == 400 and "请输入日期，例如 2022-11-30。" in response.content.decode()
        response = client.post(url, {"reason": "设备延迟", "new_deadline": "2023-01-10"})
        assert response.status_code == 400 and "最晚 2022-12-31" in response.content.decode()
        response = client.post(reverse("metrics:closeoff_request", args=[due_in_october.task.pk]), {"note": ""})
        assert response.status_code == 400 and "客观标准未满足" in response.content.decode()
        assert not ExtensionRequest.objects.exists() and not CloseOffRequest.objects.exists()

    def test_a_post_for_a_deadline_that_cannot_move_shows_why(self, client, office):
        client.force_login(office.staff_a)
        response = client.post(reverse("metrics:extension_request", args=[office.task.pk]), {"reason": "x", "new_deadline": "2022-12-31"})
        assert response.status_code == 400 and "新的完成时限必须晚于当前时限（2022-12-31）。" in response.content.decode()

    def test_the_office_queue_is_for_the_office_and_leaders(self, client, finished):
        services.closeoff_request(user=finished.staff_a, task=finished.task)
        url = reverse("metrics:closeoff_requests")
        client.force_login(finished.staff_a)
        assert client.get(url).status_code == 403
        client.force_login(finished.leader)
        html = client.get(url).content.decode()
        assert "任务1.1" in html and "metrics/closeoff" not in html and 'name="decision"' not in html
        client.force_login(finished.supervisor)
        assert 'name="decision" value="accept"' in client.get(url).content.decode()

    def test_the_office_decides_on_the_queue_and_the_ledger_shows_closed(self, client, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        client.force_login(finished.supervisor)
        response = client.post(reverse("metrics:closeoff_decide", args=[request.pk]), {"decision": "accept"})
        assert response.status_code == 302 and response.url == reverse("metrics:closeoff_requests")
        html = client.get(reverse("metrics:action_detail", args=[1])).content.decode()
        assert "已销号" in html

    def test_staff_cannot_post_a_decision(self, client, finished):
        request = services.closeoff_request(user=finished.staff_a, task=finished.task)
        client.force_login(finished.staff_a)
        assert client.post(reverse("metrics:closeoff_decide", args=[request.pk]), {"decision": "accept"}).status_code == 403
        assert CloseOffRequest.objects.get().status == CloseOffStatus.PENDING

    def test_the_ledger_shows_the_old_deadline_after_an_extension(self, client, due_in_october):
        cast = due_in_october
        roll(cast)
        request = services.extension_request(user=cast.staff_a, task=cast.task, reason="x", new_deadline=D(2022, 11, 30))
        services.extension_decide(user=cast.supervisor, request=request, grant=True)
        client.force_login(cast.leader)
        html = client.get(reverse("metrics:action_detail", args=[1])).content.decode()
        assert "2022-11-30（原定 2022-10-31）" in html
        csv = client.get(reverse("metrics:action_detail", args=[1]), {"_export": "csv"}).content.decode("utf-8-sig")
        row = next(line for line in csv.splitlines() if line.startswith("1.1,"))
        assert ",2022-11-30," in row and "原定 2022-10-31" in row

    def test_the_pages_cost_a_fixed_number_of_queries(self, client, finished):
        client.force_login(finished.supervisor)
        first = services.closeoff_request(user=finished.staff_a, task=finished.task)
        services.closeoff_decide(user=finished.supervisor, request=first, accept=False, note="补充材料")
        services.closeoff_request(user=finished.staff_a, task=finished.task, evidence=[finished.evidence])
        task_url, queue_url = self.url(finished), reverse("metrics:closeoff_requests")
        before = count_queries(client, task_url), count_queries(client, queue_url)
        second = services.closeoff_request(user=finished.staff_a, task=Task.objects.get(action__plan=finished.plan, action__number=5, number=1), note="x")
        services.closeoff_decide(user=finished.supervisor, request=second, accept=False, note="补充材料")
        for number in range(2, 5):
            task = Task.objects.get(action__plan=finished.plan, action__number=number, number=1)
            services.closeoff_request(user=finished.staff_a, task=task, note="x")
        assert (count_queries(client, task_url), count_queries(client, queue_url)) == before


@pytest.mark.django_db
class ExtendedDeadlineReloadTests:
    def test_reloading_the_plan_keeps_a_granted_extension(self, due_in_october):
        from tests.factories import load_small_plan

        cast = due_in_october
        request = services.extension_request(user=cast.staff_a, task=cast.task, reason="x", new_deadline=D(2022, 11, 30))
        services.extension_decide(user=cast.supervisor, request=request, grant=True)
        load_small_plan()  # the file says 2022-12-31 for every task
        assert Task.objects.get(pk=cast.task.pk).deadline == D(2022, 11, 30)
        assert Task.objects.get(action__plan=cast.plan, action__number=2, number=1).deadline == D(2022, 12, 31)
