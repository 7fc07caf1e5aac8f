"""The action page: the ledger (台账) table, its filters, export, the indicators' chart data."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from actions.models import Task
from metrics.dashboards.selectors import indicator_progress
from metrics.management.commands.progress_report import report_row
from metrics.models import ProgressNote, Rollup
from planboard import formatting
from tests.conftest import chart_data, count_queries

URL = "/dashboards/actions/1/"


@pytest.fixture
def rolled(cast, settings):
    from metrics.rollup.services import rollup_plan_weeks

    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    return cast


@pytest.mark.django_db
class ActionPageTests:
    def test_its_url_is_the_action_number(self):
        assert reverse("metrics:action_detail", args=[1]) == URL

    def test_the_old_address_redirects_with_its_as_of_week(self, client, cast):
        client.force_login(cast.leader)
        assert reverse("actions:action_detail", args=[1]) == "/actions/1/"
        response = client.get("/actions/1/?week=2022-05-09")
        assert response.status_code == 301 and response.url == URL + "?week=2022-05-09"

    def test_it_shows_the_ledger_with_the_task_rollup_and_latest_note(self, client, rolled):
        task = Task.objects.get(action__number=1)
        ProgressNote.objects.create(task=task, department=rolled.dept_a, period_start=datetime.date(2022, 5, 2), progress="旧进展")
        ProgressNote.objects.create(task=task, department=rolled.dept_a, period_start=datetime.date(2022, 5, 9), progress="新进展", problems="缺资金", next_steps="加快")
        ProgressNote.objects.create(task=task, department=rolled.dept_b, period_start=datetime.date(2022, 5, 16), progress="配合单位")
        client.force_login(rolled.leader)
        response = client.get(URL)
        html = response.content.decode()
        row = response.context["table"].rows[0].record
        assert (row.progress, row.problems, row.next_steps) == ("新进展", "缺资金", "加快")
        assert "新进展" in html and "配合单位" not in html
        assert "甲局（乙局）" in html
        # As of the week of 2 May, the note of 9 May did not exist yet.
        row = client.get(URL, {"week": "2022-05-02"}).context["table"].rows[0].record
        assert row.progress == "旧进展"

    def test_the_ledger_shows_sub_tasks_under_their_parent(self, client, rolled):
        from metrics.rollup.services import rollup_plan_week

        parent = Task.objects.get(action__number=1, parent=None)
        later = Task.objects.create(action=parent.action, number=2, title="任务二", lead_department=rolled.dept_b, deadline=datetime.date(2022, 12, 31))
        for n in (2, 1):
            Task.objects.create(action=parent.action, parent=parent, number=n, title=f"子任务{n}", lead_department=rolled.dept_b,
                                deadline=datetime.date(2022, 12, 31))
        parent.indicators.update(task=parent.subtasks.get(number=1))
        rollup_plan_week(plan=rolled.plan)
        client.force_login(rolled.leader)
        response = client.get(URL)
        rows = [r.record for r in response.context["table"].rows]
        assert [(r.outline_number, r.title) for r in rows] == [("1.1", "任务1.1"), ("1.1.1", "子任务1"), ("1.1.2", "子任务2"), ("1.2", later.title)]
        # The parent's row is its roll-up over its sub-task's indicator (and its own milestone).
        week = datetime.date(2022, 5, 16)
        assert Rollup.objects.get(level="task", task=parent, week=week).indicator_count == 1
        assert Rollup.objects.get(level="task", task=rows[1], week=week).indicator_count == 1
        html = response.content.decode()
        rows_html = dict(re.findall(r'<tr ([^>]*data-task="([\d.]+)"[^>]*)>', html)[i][::-1] for i in range(4))
        assert "subtask" in rows_html["1.1.1"] and "subtask" in rows_html["1.1.2"] and "subtask" not in rows_html["1.1"]

    def test_the_task_light_follows_its_rollup_row(self, client, rolled):
        client.force_login(rolled.leader)
        record = client.get(URL).context["table"].rows[0].record
        row = Rollup.objects.get(level="task", task__action__number=1, week=datetime.date(2022, 5, 16))
        expected = "red" if row.red or row.milestones_overdue else "yellow" if row.yellow else "green" if row.green else "none"
        assert record.light == expected
        assert record.completion_pct == row.completion_pct

    def test_each_weeks_ledger_shows_that_weeks_task_rows(self, client, rolled):
        """The ledger joins the task's roll-up row of the as-of week: every column of it, week by week."""
        columns = ["completion_pct", "attainment_pct", "schedule_pct", "red", "yellow", "green", "light"]
        Rollup.objects.filter(level="task", week=datetime.date(2022, 5, 9)).update(completion_pct=12.5, red=7)
        client.force_login(rolled.leader)
        for week in (datetime.date(2022, 5, 2), datetime.date(2022, 5, 9), datetime.date(2022, 5, 16)):
            records = [r.record for r in client.get(URL, {"week": week.isoformat()}).context["table"].rows]
            stored = {r.task_id: r for r in Rollup.objects.filter(level="task", week=week, task__action__number=1)}
            assert records and set(stored) == {r.pk for r in records}
            for record in records:
                row = stored[record.pk]
                assert [getattr(record, c) for c in columns] == [getattr(row, c) for c in columns], (week, record)
                assert (record.ms_due, record.ms_on_time, record.ms_overdue) == (
                    row.milestones_due, row.milestones_on_time, row.milestones_overdue)
            assert all(r.completion_pct == 12.5 and r.red == 7 for r in records) == (week == datetime.date(2022, 5, 9))

    def test_it_filters_by_light_department_status_and_text(self, client, rolled):
        client.force_login(rolled.leader)
        light = client.get(URL).context["table"].rows[0].record.light
        other = "green" if light != "green" else "red"
        assert len(client.get(URL, {"light": light}).context["table"].rows) == 1
        assert len(client.get(URL, {"light": other}).context["table"].rows) == 0
        assert len(client.get(URL, {"department": rolled.dept_b.pk}).context["table"].rows) == 1  # co-department
        assert len(client.get(URL, {"status": "done"}).context["table"].rows) == 0
        assert len(client.get(URL, {"q": "任务1"}).context["table"].rows) == 1
        assert len(client.get(URL, {"q": "没有这个"}).context["table"].rows) == 0

    def test_it_sorts_by_a_column(self, client, rolled):
        client.force_login(rolled.leader)
        assert client.get(URL, {"sort": "-attainment_pct"}).status_code == 200
        assert client.get(URL, {"sort": "departments"}).status_code == 200

    def test_it_exports_xlsx_and_csv(self, client, rolled):
        client.force_login(rolled.leader)
        response = client.get(URL, {"_export": "xlsx"})
        assert response.status_code == 200
        assert "ledger-2022-action1-2022-05-16.xlsx" in response["Content-Disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.values)
        assert rows[0][0] == "序号" and rows[0][1] == "工作任务"
        assert rows[1][1] == "任务1.1"
        response = client.get(URL, {"_export": "csv"})
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert lines[1][1] == "任务1.1" and lines[1][3] == "甲局（乙局）"

    def test_the_chart_data_and_table_agree_with_progress_report(self, client, rolled):
        client.force_login(rolled.leader)
        week = datetime.date(2022, 5, 9)
        report = [report_row(p) for p in indicator_progress(plan=rolled.plan, week=week) if p.indicator.task.action.number == 1]
        response = client.get(URL, {"week": "2022-05-09"})
        data = chart_data(response, "action-chart-data")
        assert data["labels"] == [r["indicator"] for r in report]
        assert data["attainment"] == [None if r["attainment_pct"] == "—" else float(r["attainment_pct"]) for r in report]
        assert data["lights"] == [r["light"] for r in report]
        html = response.content.decode()
        for r in report:
            assert f">{r['actual']}</td>" in html, r["actual"]
            if r["completion_pct"] != "—":
                gap = formatting.signed_pct(float(r["gap_pp"]))
                assert f"完成 {r['completion_pct']}%，序时 {r['schedule_pct']}%，差 {gap} 个百分点" in html, r

    def test_an_unknown_action_is_404(self, client, rolled):
        client.force_login(rolled.leader)
        assert client.get("/dashboards/actions/9/").status_code == 404


@pytest.mark.django_db
class ActionPageAccessTests:
    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_every_role_reads_the_page_and_its_data(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        assert client.get(URL).status_code == 200
        assert client.get(URL, {"_export": "csv"}).status_code == 200

    def test_anonymous_visitors_are_sent_to_log_in(self, client, rolled):
        for url in [URL, URL + "?_export=xlsx"]:
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_it_has_no_form_that_writes(self, client, rolled):
        client.force_login(rolled.staff_a)
        assert 'method="post"' not in client.get(URL).content.decode().split("<main")[1]

    def test_it_shows_before_any_roll_up(self, client, cast):
        client.force_login(cast.leader)
        assert client.get(URL).status_code == 200


@pytest.mark.django_db
class ActionPageQueryTests:
    def test_its_query_count_is_the_same_with_the_small_plan_and_the_demo(self, client, two_plans, settings):
        client.force_login(two_plans.leader)
        for url in [URL, URL + "?light=red&q=a"]:
            settings.PLANBOARD_TODAY = two_plans.small_today
            small = count_queries(client, url)
            settings.PLANBOARD_TODAY = two_plans.demo_today
            assert count_queries(client, url) == small, url


@pytest.mark.django_db
class AsOfLinkTests:
    def test_links_between_dashboard_pages_keep_the_as_of_week(self, client, rolled):
        from actions.models import Indicator

        client.force_login(rolled.leader)
        indicator = Indicator.objects.get(code="output-1")
        html = client.get(URL, {"week": "2022-05-09"}).content.decode()
        assert f'href="/dashboards/indicators/{indicator.pk}/?week=2022-05-09"' in html
        html = client.get(reverse("metrics:indicator_detail", args=[indicator.pk]), {"week": "2022-05-09"}).content.decode()
        assert f'href="/dashboards/departments/{rolled.dept_a.pk}/?week=2022-05-09"' in html
        html = client.get(reverse("metrics:rankings"), {"week": "2022-05-09"}).content.decode()
        assert f'href="/dashboards/departments/{rolled.dept_a.pk}/?week=2022-05-09"' in html
