import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Indicator
from metrics.choices import FigureState, SheetStatus
from metrics.models import Figure, Rollup, Sheet
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


@pytest.mark.django_db
class EntrySheetTests:
    def test_it_shows_the_departments_indicators_grouped_by_action_in_chinese(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.get(reverse("metrics:entry"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "填报表" in html and "甲局" in html
        assert html.count('class="entry-row') == 8
        assert "轰鸣" in html and "提升" in html
        assert "2022-05-16" in html  # the current ISO week is the default

    def test_it_saves_the_whole_sheet_and_queues_a_rollup_after_commit(self, client, cast, django_capture_on_commit_callbacks):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "12.5", inds[1]: "3"}))
        assert response.status_code == 302
        assert len(callbacks) == 1  # the save queues one thing after its commit: the roll-up
        with django_capture_on_commit_callbacks(execute=True):
            callbacks[0]()  # (the roll-up, run in-process, queues its own: the ladder's messages)
        figures = Figure.objects.filter(department=cast.dept_a, period_start=WEEK).order_by("indicator__task__action__number")
        assert [f.value for f in figures] == [Decimal("12.5"), Decimal("3")]
        assert all(f.entered_by == cast.staff_a and f.version == 1 and f.state == FigureState.REPORTED for f in figures)
        assert timezone.localtime(figures[0].entered_at).date() == TODAY
        assert Rollup.objects.filter(plan=cast.plan, level="plan").exists()
        assert Sheet.objects.get(department=cast.dept_a, period_start=WEEK).status == SheetStatus.DRAFT

    def test_it_keeps_the_first_entry_time_and_counts_versions_on_a_correction(self, client, cast):
        client.force_login(cast.staff_a)
        ind = indicators(cast.plan)[0]
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        figure = Figure.objects.get(indicator=ind, department=cast.dept_a)
        Figure.objects.filter(pk=figure.pk).update(entered_at=figure.entered_at - datetime.timedelta(hours=5))
        first = Figure.objects.get(pk=figure.pk)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "11", "version": 1}}))
        assert response.status_code == 302
        figure = Figure.objects.get(pk=figure.pk)
        assert figure.value == Decimal("11") and figure.version == 2
        assert figure.entered_at == first.entered_at
        assert figure.updated > first.updated

    def test_it_leaves_blank_cells_unreported_and_records_not_applicable_with_a_reason(self, client, cast):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "", inds[1]: ("na", "本周停产检修")}))
        assert not Figure.objects.filter(indicator=inds[0]).exists()
        figure = Figure.objects.get(indicator=inds[1])
        assert figure.state == FigureState.NOT_APPLICABLE and figure.value is None and figure.note == "本周停产检修"

    def test_it_derives_the_period_amount_when_staff_enter_the_cumulative(self, client, cast):
        ind = indicators(cast.plan)[0]
        Indicator.objects.filter(pk=ind.pk).update(entry_mode="cumulative")
        Figure.objects.create(indicator=ind, department=cast.dept_a, period_start=datetime.date(2022, 5, 2), value=40,
                              entered_at=datetime.datetime(2022, 5, 6, tzinfo=datetime.UTC))
        Figure.objects.create(indicator=ind, department=cast.dept_a, period_start=datetime.date(2022, 5, 9), value=10,
                              entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))
        client.force_login(cast.staff_a)
        page = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "输入累计值" in page
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: ("62", "提前完成全年目标")}))  # past the target of 60: a note
        assert Figure.objects.get(indicator=ind, period_start=WEEK).value == Decimal("12")
        page = client.get(sheet_url(cast.dept_a)).content.decode()
        assert 'value="62"' in page  # the input shows the cumulative again

    def test_it_refuses_to_submit_a_sheet_with_blank_cells_and_submits_a_full_one(self, client, cast):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "1"}, action="submit"))
        assert response.status_code == 400
        assert "7 个指标未填写" in response.content.decode()
        assert not Figure.objects.exists()
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: "1" for i in inds}, action="submit"))
        assert response.status_code == 302
        sheet = Sheet.objects.get(department=cast.dept_a, period_start=WEEK)
        assert sheet.status == SheetStatus.SUBMITTED and sheet.submitted_by == cast.staff_a
        assert Figure.objects.count() == 8

    def test_it_lets_a_member_of_two_departments_pick_one(self, client, cast):
        cast.dept_b.members.add(cast.staff_a)
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_b)).content.decode()
        assert '<option value="dept-b" selected>' in html and '<option value="dept-a"' in html
        client.post(sheet_url(cast.dept_b), sheet_post(cast.dept_b, {indicators(cast.plan)[0]: "2"}))
        assert Figure.objects.get().department == cast.dept_b

    def test_it_reaches_earlier_periods_from_the_sheet(self, client, cast):
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert 'id="previous-period"' in html and "period=2022-05-09" in html
        assert 'id="next-period"' not in html  # nothing after the current week
        monthly = client.get(sheet_url(cast.dept_a, frequency="monthly", period=datetime.date(2022, 4, 1)))
        assert monthly.status_code == 200 and "本部门在此频次下没有需要填报的指标" in monthly.content.decode()

    def test_it_still_saves_when_the_broker_is_down_and_marks_the_plan_stale(self, client, cast, django_capture_on_commit_callbacks):
        from kombu.exceptions import OperationalError

        client.force_login(cast.staff_a)
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=OperationalError("down")):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "5"}))
        assert response.status_code == 302
        assert Figure.objects.count() == 1
        assert cast.plan.stale_rollup is not None

    def test_a_broken_broker_install_never_turns_a_committed_save_into_a_500(self, client, cast, django_capture_on_commit_callbacks):
        client.force_login(cast.staff_a)
        missing = ModuleNotFoundError("No module named 'packaging'")  # kombu's Redis transport without its extra
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=missing):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "5"}))
        assert response.status_code == 302
        assert Figure.objects.count() == 1 and "packaging" in cast.plan.stale_rollup.reason


def add_old_figures(cast, weeks):
    rows = [
        Figure(indicator=ind, department=dept, period_start=WEEK - datetime.timedelta(weeks=w), value=10,
               entered_at=datetime.datetime(2022, 1, 10, tzinfo=datetime.UTC))
        for w in range(1, weeks + 1) for ind in indicators(cast.plan) for dept in (cast.dept_a, cast.dept_b)
    ]
    Figure.objects.bulk_create(rows)


@pytest.mark.django_db
class EntryQueryCountTests:
    def count(self, client, request):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = request()
        assert response.status_code in (200, 302)
        return len(captured.captured_queries)

    def test_saving_a_sheet_costs_the_same_queries_whatever_is_stored(self, client, cast):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: "10" for i in inds}))
        first = self.count(client, lambda: client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: {"value": "11", "version": 1} for i in inds})))
        add_old_figures(cast, 18)
        second = self.count(client, lambda: client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: {"value": "12", "version": 2} for i in inds})))
        assert first == second
        assert first <= 25

    def test_the_sheet_page_costs_the_same_queries_whatever_is_stored(self, client, cast):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "10"}))
        first = self.count(client, lambda: client.get(sheet_url(cast.dept_a)))
        add_old_figures(cast, 18)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: "10" for i in inds[1:]}))
        second = self.count(client, lambda: client.get(sheet_url(cast.dept_a)))
        assert first == second


@pytest.mark.django_db
class RollupTriggerTests:
    def test_a_milestone_date_queues_the_rollup_of_its_tasks_milestone_indicator(self, client, cast, django_capture_on_commit_callbacks):
        task = indicators(cast.plan)[0].task
        nodes = Indicator.objects.create(task=task, code="nodes", name="节点", unit="个", kind="milestone")
        milestone = task.milestones.get()
        client.force_login(cast.staff_a)
        with mock.patch("metrics.reporting.services.rollup_request") as rollup:
            with django_capture_on_commit_callbacks(execute=True):
                client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"ms-{milestone.pk}": "2022-03-30"}))
        assert rollup.call_args.kwargs["indicator_ids"] == [nodes.pk]
        assert rollup.call_args.kwargs["period_starts"] == [WEEK]

    def test_an_unchanged_sheet_queues_nothing(self, client, cast, django_capture_on_commit_callbacks):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "4"}))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "4", "version": 1}}))
        assert callbacks == []


@pytest.mark.django_db
class ProgressOnlySheetTests:
    def test_a_department_that_leads_tasks_but_reports_no_weekly_indicator_can_still_save_progress(self, client, cast):
        Indicator.objects.filter(task__action__plan=cast.plan).update(frequency="monthly")
        task = indicators(cast.plan)[0].task
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert "本部门在此频次下没有需要填报的指标" in html and 'id="save"' in html
        data = sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "按计划推进", f"nver-{task.pk}": "0"})
        assert client.post(sheet_url(cast.dept_a), data).status_code == 302
        assert task.progress_notes.get().progress == "按计划推进"


@pytest.mark.django_db
class NotApplicableWithValueTests:
    def test_it_refuses_a_value_in_a_cell_marked_not_applicable_and_saves_nothing(self, client, cast):
        client.force_login(cast.staff_a)
        inds = indicators(cast.plan)
        data = sheet_post(cast.dept_a, {inds[0]: "3", inds[1]: {"value": "12", "na": True, "note": "本周停产"}})
        response = client.post(sheet_url(cast.dept_a), data)
        assert response.status_code == 400
        html = response.content.decode()
        assert f'id="err-{inds[1].pk}"' in html and "已勾选“不适用”，却又填了数值" in html
        assert 'value="12"' in html  # what was typed is still there to correct
        assert not Figure.objects.exists()


@pytest.mark.django_db
class PeriodToActOnTests:
    """On 20 May April's monthly sheet closed on 8 May: the sheet to act on is May's."""

    @pytest.fixture
    def monthly(self, cast):
        ind = indicators(cast.plan)[0]
        Indicator.objects.filter(pk=ind.pk).update(frequency="monthly")
        return ind

    def test_the_other_sheet_link_opens_the_open_month_and_the_locked_one_is_a_link_beside_it(self, client, cast, monthly):
        client.force_login(cast.staff_a)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        link = html[html.index('id="other-sheet"') - 200:html.index('id="other-sheet"') + 600]
        assert "frequency=monthly&amp;period=2022-05-01" in link and "打开月报填报表 (2022-05)" in link
        assert 'id="other-due-sheet"' in link and "period=2022-04-01" in link and "月报 2022-04 (已锁定)" in link

    def test_a_sheet_opened_without_a_period_opens_the_one_to_act_on(self, client, cast, monthly):
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:entry") + "?department=dept-a&frequency=monthly").content.decode()
        assert "月报 2022-05" in html and 'id="save"' in html

    def test_a_returned_month_is_the_one_to_act_on_before_the_next(self, client, cast, monthly):
        Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="monthly", period_start=datetime.date(2022, 4, 1),
                             status=SheetStatus.RETURNED, reopened_until=datetime.date(2022, 5, 23), review_comment="请核实")
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:entry") + "?department=dept-a&frequency=monthly").content.decode()
        assert "月报 2022-04" in html and "请核实" in html

    def test_the_frequency_picker_offers_both_frequencies(self, client, cast, monthly):
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:entry") + "?department=dept-a&frequency=monthly").content.decode()
        assert '<option value="monthly" selected>每月</option>' in html and '<option value="weekly" >每周</option>' in html

    def test_the_weekly_sheet_still_opens_on_this_week(self, client, cast, monthly):
        client.force_login(cast.staff_a)
        html = client.get(reverse("metrics:entry")).content.decode()
        assert "周报 2022-05-16 至 2022-05-22" in html
@pytest.mark.postgres
@pytest.mark.django_db
class SheetSaveLockTests:
    def test_a_save_locks_only_its_own_rows_not_the_plan_they_join(self, client, cast):
        """A bare FOR UPDATE over the default orderings' joins locked the plan row: concurrent saves deadlocked."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        assert connection.vendor == "postgresql"
        client.force_login(cast.staff_a)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "5"}))
        assert response.status_code == 302
        locking = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
        assert len(locking) >= 2
        assert all(" FOR UPDATE OF " in sql and '"actions_plan"' not in sql.split(" FOR UPDATE OF ")[1] for sql in locking)
