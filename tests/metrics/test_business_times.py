"""Every stored business time takes the app's clock: under a pinned day the demo never shows another date,
and nothing lands after a deadline by accident. `created` / `updated` stay the real write times (audit)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from metrics.models import Evidence, Figure, ReopenRequest, Rollup, Sheet
from metrics.supervision.services import reminder_record
from planboard import clock
from tests.metrics.reporting import CLOSED_WEEK, TODAY, WEEK, indicators, sheet_post, sheet_url
from tests.metrics.test_bad_input import pdf_bytes

DEADLINE = timezone.make_aware(datetime.datetime(2022, 5, 20, 17, 0))


@pytest.fixture(autouse=True)
def pinned_today(settings, tmp_path):
    settings.PLANBOARD_TODAY = TODAY
    settings.MEDIA_ROOT = tmp_path


def on_the_pinned_morning(moment) -> bool:
    local = timezone.localtime(moment)
    return local.date() == TODAY and datetime.time(10, 0) <= local.time() and moment < DEADLINE


@pytest.mark.django_db
class BusinessTimeTests:
    def test_a_sheet_saved_submitted_and_reviewed_is_dated_by_the_pinned_clock(self, client, cast, django_capture_on_commit_callbacks):
        inds = indicators(cast.plan)
        client.force_login(cast.staff_a)
        data = sheet_post(cast.dept_a, {i: "1" for i in inds}, action="submit",
                          **{f"file-{inds[0].task.pk}": SimpleUploadedFile("进展.pdf", pdf_bytes())})
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(sheet_url(cast.dept_a), data).status_code == 302
        figure = Figure.objects.get(indicator=inds[0], department=cast.dept_a)
        sheet = Sheet.objects.get(department=cast.dept_a, period_start=WEEK)
        evidence = Evidence.objects.get()
        for moment in (figure.entered_at, sheet.submitted_at, evidence.uploaded_at, figure.history.get().history_date):
            assert on_the_pinned_morning(moment)
        assert all(on_the_pinned_morning(r.computed_at) for r in Rollup.objects.all())
        assert evidence.created.year != 2022  # the audit column keeps the real time
        assert "2022-05-20" in client.get(sheet_url(cast.dept_a)).content.decode().split("进展.pdf")[1][:200]

        client.force_login(cast.supervisor)
        queue = client.get(reverse("metrics:queue")).content.decode()
        assert f"{timezone.localtime(sheet.submitted_at):%Y-%m-%d %H:%M}" in queue and "2022-05-20 1" in queue
        client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "approve"})
        sheet.refresh_from_db()
        assert on_the_pinned_morning(sheet.reviewed_at) and sheet.reviewed_at > sheet.submitted_at
        history = client.get(reverse("metrics:figure_history", args=[figure.pk])).content.decode()
        assert "2022-05-20 1" in history

    def test_reopen_requests_decisions_and_reminders_take_the_clock(self, client, cast):
        client.force_login(cast.staff_a)
        client.post(reverse("metrics:reopen_request"), {
            "department": cast.dept_a.code, "frequency": "weekly", "period": CLOSED_WEEK.isoformat(), "reason": "数据有误",
        })
        request = ReopenRequest.objects.get()
        assert on_the_pinned_morning(request.requested_at)
        html = client.get(sheet_url(cast.dept_a, CLOSED_WEEK)).content.decode()
        assert f"{timezone.localtime(request.requested_at):%Y-%m-%d %H:%M}" in html
        client.force_login(cast.supervisor)
        client.post(reverse("metrics:reopen_decide", args=[request.pk]), {"decision": "grant"})
        request.refresh_from_db()
        assert on_the_pinned_morning(request.decided_at) and request.decided_at >= request.requested_at
        reminder = reminder_record(user=cast.supervisor, plan=cast.plan, department=cast.dept_a, kind="red", subject="产值", week=WEEK)
        assert on_the_pinned_morning(reminder.reminded_at)

    def test_a_pinned_datetime_dates_a_submission_exactly(self, client, cast, settings):
        settings.PLANBOARD_TODAY = datetime.datetime(2022, 5, 20, 16, 45)
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {i: "1" for i in indicators(cast.plan)}, action="submit"))
        sheet = Sheet.objects.get(department=cast.dept_a, period_start=WEEK)
        assert f"{timezone.localtime(sheet.submitted_at):%Y-%m-%d %H:%M}" == "2022-05-20 16:45"


@pytest.mark.django_db
class DemoTimeTests:
    def test_the_demo_enters_nothing_after_its_moment_and_rolls_up_on_its_day(self, demo_plan):
        moment = clock.pinned_moment()
        assert timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") == "2022-05-20 10:00"
        assert Figure.objects.exists() and not Figure.objects.filter(entered_at__gt=moment).exists()
        computed = {timezone.localtime(r.computed_at).date() for r in Rollup.objects.filter(plan=demo_plan)}
        assert computed == {TODAY}
