"""The table of the reporting issue, checked for every role and every view, and crafted requests."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from actions.models import IndicatorDepartment
from metrics.choices import ReopenStatus, SheetStatus
from metrics.models import Evidence, Figure, ProgressNote, ReopenRequest, Sheet
from tests.metrics.reporting import CLOSED_WEEK, NEXT_WEEK, TODAY, WEEK, indicators, sheet_post, sheet_url

ROLES = ["staff_a", "staff_b", "supervisor", "leader", "anonymous"]


@pytest.fixture(autouse=True)
def pinned_today(settings, tmp_path):
    settings.PLANBOARD_TODAY = TODAY
    settings.MEDIA_ROOT = tmp_path


def login(client, cast, role):
    if role != "anonymous":
        client.force_login(getattr(cast, role))


def assert_login_page(response):
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.fixture
def things(cast):
    """A figure, a progress note, an evidence file and a submitted sheet of department A, and a reopen request."""
    ind = indicators(cast.plan)[0]
    figure = Figure.objects.create(indicator=ind, department=cast.dept_a, period_start=WEEK, value=5,
                                   entered_at=datetime.datetime(2022, 5, 20, 9, tzinfo=datetime.UTC), entered_by=cast.staff_a)
    task = ind.task
    note = ProgressNote.objects.create(task=task, department=cast.dept_a, period_start=WEEK, progress="已开工")
    evidence = Evidence(task=task, department=cast.dept_a, period_start=WEEK, original_name="a.pdf",
                        content_type="application/pdf", size=9, uploaded_by=cast.staff_a)
    evidence.file.save("a.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    evidence.save()
    sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK,
                                 status=SheetStatus.SUBMITTED)
    closed = Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=CLOSED_WEEK)
    reopen = ReopenRequest.objects.create(sheet=closed, reason="录错了", requested_by=cast.staff_a)
    return {"figure": figure, "note": note, "evidence": evidence, "sheet": sheet, "reopen": reopen, "closed": closed}


@pytest.mark.django_db
class SheetPermissionTests:
    @pytest.mark.parametrize("role,status", [("staff_a", 200), ("staff_b", 403), ("supervisor", 200), ("leader", 200), ("anonymous", 302)])
    def test_it_shows_the_sheet_to_those_the_table_allows(self, client, cast, role, status):
        login(client, cast, role)
        response = client.get(sheet_url(cast.dept_a))
        if role == "anonymous":
            assert_login_page(response)
        else:
            assert response.status_code == status
        if role == "staff_b":
            assert "只有甲局本单位填报人员、督查办和区领导可以查看其填报表" in response.content.decode()

    @pytest.mark.parametrize("role", ["supervisor", "leader"])
    def test_it_shows_the_sheet_read_only_to_officials(self, client, cast, role):
        login(client, cast, role)
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert 'id="save"' not in html and 'id="submit"' not in html
        assert html.count("disabled") >= 8 * 3

    @pytest.mark.parametrize("role", ROLES)
    def test_only_staff_of_the_department_may_save(self, client, cast, role):
        login(client, cast, role)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "7"}))
        if role == "staff_a":
            assert response.status_code == 302 and Figure.objects.count() == 1
        else:
            assert Figure.objects.count() == 0
            if role == "anonymous":
                assert_login_page(response)
            else:
                assert response.status_code == 403

    @pytest.mark.parametrize("role", ROLES)
    def test_only_staff_of_the_department_may_submit(self, client, cast, role):
        login(client, cast, role)
        data = sheet_post(cast.dept_a, {i: "1" for i in indicators(cast.plan)}, action="submit")
        response = client.post(sheet_url(cast.dept_a), data)
        assert Sheet.objects.filter(status=SheetStatus.SUBMITTED).count() == (1 if role == "staff_a" else 0)
        assert response.status_code == (302 if role in ("staff_a", "anonymous") else 403)


@pytest.mark.django_db
class CraftedRequestTests:
    def test_it_refuses_another_departments_indicator_and_saves_nothing_of_the_request(self, client, cast):
        inds = indicators(cast.plan)
        IndicatorDepartment.objects.filter(indicator=inds[7], department=cast.dept_a).delete()
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "1", inds[7]: "99"}))
        assert response.status_code == 403
        assert "本单位不负责填报的指标" in response.content.decode()
        assert Figure.objects.count() == 0

    def test_it_refuses_a_post_naming_another_department(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_b), sheet_post(cast.dept_b, {indicators(cast.plan)[0]: "1"}))
        assert response.status_code == 403 and Figure.objects.count() == 0

    def test_it_refuses_a_locked_period_and_says_why(self, client, cast):
        ind = indicators(cast.plan)[0]
        Figure.objects.create(indicator=ind, department=cast.dept_a, period_start=CLOSED_WEEK, value=3,
                              entered_at=datetime.datetime(2022, 5, 6, 9, tzinfo=datetime.UTC))
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a, CLOSED_WEEK), sheet_post(cast.dept_a, {ind: {"value": "30", "version": 1}}, period=CLOSED_WEEK))
        assert response.status_code == 403
        assert "本期已于 2022-05-09 截止修改" in response.content.decode()
        assert Figure.objects.get().value == 3

    def test_it_refuses_a_future_period(self, client, cast):
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a, NEXT_WEEK), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "1"}, period=NEXT_WEEK))
        assert response.status_code == 403
        assert "该周期尚未开始" in response.content.decode()
        assert Figure.objects.count() == 0

    def test_it_refuses_an_approved_sheet(self, client, cast):
        Sheet.objects.create(plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=WEEK, status=SheetStatus.APPROVED)
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {indicators(cast.plan)[0]: "1"}))
        assert response.status_code == 403 and "督查办已于" in response.content.decode()
        assert Figure.objects.count() == 0

    def test_it_refuses_progress_on_a_task_the_department_does_not_lead(self, client, cast):
        task = indicators(cast.plan)[0].task  # led by department A
        client.force_login(cast.staff_b)
        data = sheet_post(cast.dept_b, {indicators(cast.plan)[0]: "1"}, **{f"progress-{task.pk}": "伪造", f"nver-{task.pk}": "0"})
        response = client.post(sheet_url(cast.dept_b), data)
        assert response.status_code == 403
        assert Figure.objects.count() == 0 and ProgressNote.objects.count() == 0

    def test_it_refuses_progress_posted_to_a_monthly_sheet(self, client, cast):
        task = indicators(cast.plan)[0].task
        client.force_login(cast.staff_a)
        month = datetime.date(2022, 5, 1)  # open: May's report is due in June
        data = sheet_post(cast.dept_a, {}, period=month, frequency="monthly", **{f"progress-{task.pk}": "x", f"nver-{task.pk}": "0"})
        response = client.post(sheet_url(cast.dept_a, month, "monthly"), data)
        assert response.status_code == 403 and "任务进展在周报填报表中填写" in response.content.decode()
        assert ProgressNote.objects.count() == 0

    def test_it_refuses_a_milestone_of_a_task_the_department_does_not_lead(self, client, cast):
        milestone = indicators(cast.plan)[0].task.milestones.get()
        client.force_login(cast.staff_b)
        response = client.post(sheet_url(cast.dept_b), sheet_post(cast.dept_b, {}, **{f"ms-{milestone.pk}": "2022-05-01"}))
        assert response.status_code == 403
        milestone.refresh_from_db()
        assert milestone.done_date is None


@pytest.mark.django_db
class OtherViewPermissionTests:
    @pytest.mark.parametrize("role,status", [("staff_a", 403), ("staff_b", 403), ("supervisor", 200), ("leader", 403), ("anonymous", 302)])
    def test_the_review_queue_is_the_supervisors(self, client, cast, things, role, status):
        login(client, cast, role)
        response = client.get(reverse("metrics:queue"))
        assert response.status_code == status

    @pytest.mark.parametrize("role", ROLES)
    def test_only_the_supervisor_approves_or_returns(self, client, cast, things, role):
        login(client, cast, role)
        response = client.post(reverse("metrics:sheet_review", args=[things["sheet"].pk]), {"decision": "approve"})
        sheet = Sheet.objects.get(pk=things["sheet"].pk)
        assert sheet.status == (SheetStatus.APPROVED if role == "supervisor" else SheetStatus.SUBMITTED)
        assert response.status_code == (302 if role in ("supervisor", "anonymous") else 403)

    @pytest.mark.parametrize("role", ROLES)
    def test_only_the_supervisor_grants_a_reopen_request(self, client, cast, things, role):
        login(client, cast, role)
        response = client.post(reverse("metrics:reopen_decide", args=[things["reopen"].pk]), {"decision": "grant"})
        request = ReopenRequest.objects.get(pk=things["reopen"].pk)
        assert request.status == (ReopenStatus.GRANTED if role == "supervisor" else ReopenStatus.PENDING)
        assert response.status_code == (302 if role in ("supervisor", "anonymous") else 403)

    @pytest.mark.parametrize("role", ROLES)
    def test_only_staff_of_the_department_ask_to_reopen(self, client, cast, role):
        login(client, cast, role)
        data = {"department": cast.dept_a.code, "frequency": "weekly", "period": CLOSED_WEEK.isoformat(), "reason": "补报"}
        response = client.post(reverse("metrics:reopen_request"), data)
        assert ReopenRequest.objects.count() == (1 if role == "staff_a" else 0)
        assert response.status_code == (302 if role in ("staff_a", "anonymous") else 403)

    @pytest.mark.parametrize("view", ["figure_history", "note_history", "evidence_download"])
    @pytest.mark.parametrize("role,status", [("staff_a", 200), ("staff_b", 403), ("supervisor", 200), ("leader", 200), ("anonymous", 302)])
    def test_history_and_evidence_follow_who_may_see_the_sheet(self, client, cast, things, view, role, status):
        login(client, cast, role)
        obj = {"figure_history": things["figure"], "note_history": things["note"], "evidence_download": things["evidence"]}[view]
        response = client.get(reverse(f"metrics:{view}", args=[obj.pk]))
        if role == "anonymous":
            assert_login_page(response)
        else:
            assert response.status_code == status

    @pytest.mark.parametrize("role,status", [("staff_a", 200), ("staff_b", 403), ("supervisor", 200), ("leader", 200), ("anonymous", 302)])
    def test_the_excel_download_follows_who_may_see_the_sheet(self, client, cast, role, status):
        login(client, cast, role)
        response = client.get(reverse("metrics:xlsx_download") + f"?department={cast.dept_a.code}&frequency=weekly&period={WEEK}")
        if role == "anonymous":
            assert_login_page(response)
        else:
            assert response.status_code == status

    @pytest.mark.parametrize("role", ["staff_b", "supervisor", "leader"])
    def test_only_staff_of_the_department_may_upload_a_workbook(self, client, cast, role):
        login(client, cast, role)
        response = client.post(reverse("metrics:xlsx_upload"), {"department": cast.dept_a.code, "frequency": "weekly", "period": WEEK.isoformat()})
        assert response.status_code == 403


@pytest.mark.django_db
class SegregationOfDutiesTests:
    """An account both in the staff and the supervisor groups never reviews its own department."""

    @pytest.fixture
    def both(self, cast):
        from django.contrib.auth.models import Group

        cast.staff_a.groups.add(Group.objects.get(name="supervisor"))
        return cast.staff_a

    def test_it_refuses_to_approve_its_own_departments_sheet(self, client, cast, things, both):
        client.force_login(both)
        response = client.post(reverse("metrics:sheet_review", args=[things["sheet"].pk]), {"decision": "approve"})
        assert response.status_code == 403
        assert "您是甲局的填报人员：其填报表和重新开放申请须由督查办其他人员审核" in response.content.decode()
        assert Sheet.objects.get(pk=things["sheet"].pk).status == SheetStatus.SUBMITTED

    def test_it_refuses_to_grant_its_own_departments_reopen_request(self, client, cast, things, both):
        client.force_login(both)
        response = client.post(reverse("metrics:reopen_decide", args=[things["reopen"].pk]), {"decision": "grant"})
        assert response.status_code == 403
        assert ReopenRequest.objects.get(pk=things["reopen"].pk).status == ReopenStatus.PENDING

    def test_it_shows_no_review_buttons_on_its_own_departments_sheet(self, client, cast, things, both):
        client.force_login(both)
        assert 'id="review-form"' not in client.get(sheet_url(cast.dept_a)).content.decode()
        client.force_login(cast.supervisor)
        assert 'id="review-form"' in client.get(sheet_url(cast.dept_a)).content.decode()

    def test_it_may_still_review_another_departments_sheet(self, client, cast, things, both):
        sheet = Sheet.objects.create(plan=cast.plan, department=cast.dept_b, frequency="weekly", period_start=WEEK,
                                     status=SheetStatus.SUBMITTED)
        client.force_login(both)
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "approve"})
        assert Sheet.objects.get(pk=sheet.pk).status == SheetStatus.APPROVED
