"""Notifications: the daily digest (locmem e-mail), the department robots (a fake robot server on 127.0.0.1),
the pre-deadline reminders and their muting, the immediate messages, 催办 as a delivery, and the delivery log."""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.urls import reverse

from metrics.choices import ChannelKind, DeliveryAbout, OrderLevel, SheetStatus
from metrics.models import Delivery, DepartmentChannel, Reminder, Sheet
from metrics.notifications import services
from metrics.notifications.channels import DeliveryFailed, DingTalkRobot, Message, WeComRobot
from metrics.tasks import send_daily_digests, send_deadline_reminders
from tests.metrics.inbox import order, returned_sheet
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url

THURSDAY = datetime.date(2022, 5, 19)
WEDNESDAY = datetime.date(2022, 5, 18)


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PLANBOARD_SITE_URL = "https://planboard.example"


@pytest.fixture
def addresses(cast):
    for user, email in [(cast.staff_a, "a@example.gov.cn"), (cast.staff_b, "b@example.gov.cn"),
                        (cast.supervisor, "office@example.gov.cn"), (cast.leader, "leader@example.gov.cn")]:
        user.email = email
        user.save()
    return cast


class FakeRobot:
    """A group robot on 127.0.0.1 (port 0: any free one): records each JSON body, answers as told."""

    def __init__(self, *, status=200, answer=None):
        self.received: list[dict] = []
        self.status, self.answer = status, answer if answer is not None else {"errcode": 0, "errmsg": "ok"}
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                robot.received.append({"path": self.path, "type": self.headers.get("Content-Type"), "json": json.loads(self.rfile.read(length))})
                body = json.dumps(robot.answer).encode()
                self.send_response(robot.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/cgi-bin/webhook/send?key=secret-key") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot():
    server = FakeRobot()
    yield server
    server.close()


def texts(robot) -> list[str]:
    return [r["json"]["text"]["content"] for r in robot.received]


@pytest.mark.django_db
class DigestTests:
    def test_the_digest_lists_what_the_inbox_lists(self, addresses):
        returned_sheet(addresses)
        order(addresses)
        deliveries = services.digests_send(today=TODAY)
        by_address = {m.to[0]: m for m in mail.outbox}
        message = by_address["a@example.gov.cn"]
        assert message.subject == "我的待办（2022-05-20）：3 项"
        assert "应报送的报表" in message.body and "2022-05-20 17:00" in message.body
        assert "第3项产值单位有误，请核对" in message.body
        assert "产值慢于序时进度 12.0 个百分点" in message.body and "2022-05-25" in message.body
        assert "https://planboard.example/inbox/" in message.body
        assert {d.about for d in deliveries} == {DeliveryAbout.DIGEST}
        delivery = Delivery.objects.get(recipient=addresses.staff_a)
        assert delivery.ok and delivery.kind == ChannelKind.EMAIL and delivery.object_key == "digest:2022-05-20"
        assert delivery.body == message.body

    def test_it_sends_one_digest_per_person_per_day(self, addresses):
        first = send_daily_digests()
        assert first > 0 and len(mail.outbox) == first
        assert send_daily_digests() == 0
        assert len(mail.outbox) == first
        assert send_daily_digests("2022-05-21") > 0  # the next day, a new one

    def test_an_empty_inbox_sends_nothing(self, addresses):
        # The leader leads nothing that has an order; the office has nothing to review.
        services.digests_send(today=TODAY)
        assert {m.to[0] for m in mail.outbox} == {"a@example.gov.cn", "b@example.gov.cn"}

    def test_a_unit_that_submitted_is_muted(self, client, addresses):
        client.force_login(addresses.staff_a)
        client.post(sheet_url(addresses.dept_a), sheet_post(addresses.dept_a, {i: "1" for i in indicators(addresses.plan, addresses.dept_a)}, action="submit"))
        services.digests_send(today=TODAY)
        assert "a@example.gov.cn" not in {m.to[0] for m in mail.outbox}
        # and the office now has a sheet to review
        assert "office@example.gov.cn" in {m.to[0] for m in mail.outbox}

    def test_a_failed_e_mail_is_logged_and_tried_again(self, addresses, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
        services.digest_send(user=addresses.staff_a, today=TODAY)
        failed = Delivery.objects.get()
        assert not failed.ok and "ConnectionRefusedError" in failed.error
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert services.digest_send(user=addresses.staff_a, today=TODAY).ok
        assert len(mail.outbox) == 1

    def test_nobody_without_an_address_gets_one(self, cast):
        assert services.digests_send(today=TODAY) == []
        assert mail.outbox == []


@pytest.mark.django_db
class RobotChannelTests:
    def test_wecom_and_dingtalk_get_the_text_message_as_json(self, robot):
        WeComRobot(url=robot.url()).send(Message(subject="标题", body="内容"))
        DingTalkRobot(url=robot.url("/robot/send?access_token=t")).send(Message(subject="标题", body="内容"))
        assert [r["json"] for r in robot.received] == [{"msgtype": "text", "text": {"content": "标题\n内容"}}] * 2
        assert robot.received[1]["path"] == "/robot/send?access_token=t"
        assert robot.received[0]["type"].startswith("application/json")

    def test_a_refusal_an_http_error_and_an_unreachable_robot_fail_saying_why(self):
        refusing = FakeRobot(answer={"errcode": 93000, "errmsg": "invalid webhook url"})
        broken = FakeRobot(status=500, answer={})
        try:
            with pytest.raises(DeliveryFailed, match="errcode 93000 invalid webhook url"):
                WeComRobot(url=refusing.url()).send(Message("s", "b"))
            with pytest.raises(DeliveryFailed, match="HTTP 500"):
                WeComRobot(url=broken.url()).send(Message("s", "b"))
        finally:
            refusing.close()
            broken.close()
        port = broken.server.server_port  # closed now: nothing listens
        with pytest.raises(DeliveryFailed, match="unreachable"):
            DingTalkRobot(url=f"http://127.0.0.1:{port}/x").send(Message("s", "b"))

    def test_the_log_keeps_the_robots_host_not_its_key(self, robot):
        assert WeComRobot(url=robot.url()).address == f"127.0.0.1:{robot.server.server_port}"

    def test_a_webhook_must_be_http_or_https(self, cast):
        from django.core.exceptions import ValidationError

        channel = DepartmentChannel(department=cast.dept_a, kind=ChannelKind.WECOM, webhook_url="ftp://robot.example/x")
        with pytest.raises(ValidationError):
            channel.full_clean()
        DepartmentChannel(department=cast.dept_a, kind=ChannelKind.WECOM, webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k").full_clean()


@pytest.mark.django_db
class DeadlineReminderTests:
    def test_on_thursday_units_that_have_not_submitted_are_told(self, addresses, robot):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.WECOM, webhook_url=robot.url())
        sent = services.deadline_reminders_send(today=THURSDAY)
        assert {(d.department.code, d.kind) for d in sent} == {("dept-a", "email"), ("dept-a", "wecom"), ("dept-b", "email")}
        [content] = texts(robot)
        assert "甲局" in content and "2022-05-20 17:00" in content and "尚未报送" in content
        assert Delivery.objects.filter(about=DeliveryAbout.DEADLINE, ok=True).count() == 3

    def test_muted_after_the_unit_submits(self, client, addresses, robot):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.DINGTALK, webhook_url=robot.url())
        client.force_login(addresses.staff_a)
        response = client.post(sheet_url(addresses.dept_a), sheet_post(addresses.dept_a, {i: "1" for i in indicators(addresses.plan, addresses.dept_a)}, action="submit"))
        assert response.status_code == 302
        sent = send_deadline_reminders(THURSDAY.isoformat())
        assert robot.received == []
        assert [m.to for m in mail.outbox] == [["b@example.gov.cn"]] and sent == 1

    def test_it_tells_each_unit_once_a_day(self, addresses):
        assert send_deadline_reminders(THURSDAY.isoformat()) == 2
        assert send_deadline_reminders(THURSDAY.isoformat()) == 0
        assert send_deadline_reminders(TODAY.isoformat()) == 2  # Friday morning, again

    def test_not_on_other_days_nor_after_the_deadline(self, addresses, settings):
        assert services.deadline_reminders_send(today=WEDNESDAY) == []
        evening = datetime.datetime(2022, 5, 20, 17, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
        assert services.deadline_reminders_send(today=TODAY, now=evening) == []
        assert mail.outbox == []

    def test_a_failed_robot_is_logged_and_the_e_mails_still_go(self, addresses):
        refusing = FakeRobot(answer={"errcode": 310000, "errmsg": "keywords not in content"})
        try:
            DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.DINGTALK, webhook_url=refusing.url())
            services.deadline_reminders_send(today=THURSDAY)
        finally:
            refusing.close()
        failed = Delivery.objects.get(kind=ChannelKind.DINGTALK)
        assert not failed.ok and "310000" in failed.error
        assert Delivery.objects.filter(kind=ChannelKind.EMAIL, ok=True).count() == 2
        # The next run tries the robot again (and only the robot).
        again = FakeRobot()
        try:
            DepartmentChannel.objects.filter(pk=failed.channel_id).update(webhook_url=again.url())
            resent = services.deadline_reminders_send(today=THURSDAY)
        finally:
            again.close()
        assert [(d.kind, d.ok) for d in resent] == [(ChannelKind.DINGTALK, True)]

    def test_an_inactive_channel_is_not_used(self, addresses, robot):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.WECOM, webhook_url=robot.url(), active=False)
        services.deadline_reminders_send(today=THURSDAY)
        assert robot.received == []


@pytest.mark.django_db
class ImmediateMessageTests:
    def test_a_returned_sheet_is_told_at_once_with_the_comment(self, client, addresses, robot, django_capture_on_commit_callbacks):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.WECOM, webhook_url=robot.url())
        client.force_login(addresses.staff_a)
        client.post(sheet_url(addresses.dept_a), sheet_post(addresses.dept_a, {i: "1" for i in indicators(addresses.plan, addresses.dept_a)}, action="submit"))
        sheet = Sheet.objects.get(department=addresses.dept_a, period_start=WEEK)
        client.force_login(addresses.supervisor)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "return", "comment": "产值口径不对"})
        assert response.status_code == 302
        [message] = mail.outbox
        assert message.to == ["a@example.gov.cn"] and "退回" in message.subject and "产值口径不对" in message.body
        assert "产值口径不对" in texts(robot)[0]
        assert Delivery.objects.filter(about=DeliveryAbout.SHEET_RETURNED, ok=True).count() == 2

    def test_the_tasks_called_twice_send_once(self, addresses):
        from metrics.tasks import deliver_reminder, notify_sheet_returned

        sheet = returned_sheet(addresses)
        assert notify_sheet_returned(sheet.pk) == 1 and notify_sheet_returned(sheet.pk) == 0
        reminder = Reminder.objects.create(plan=addresses.plan, department=addresses.dept_a, kind="red", subject="产值",
                                           week=WEEK, reminded_by=addresses.supervisor)
        assert deliver_reminder(reminder.pk) == 1 and deliver_reminder(reminder.pk) == 0
        assert notify_sheet_returned(999_999) == 0
        assert len(mail.outbox) == 2

    def test_an_approved_sheet_sends_nothing(self, client, addresses, django_capture_on_commit_callbacks):
        client.force_login(addresses.staff_a)
        client.post(sheet_url(addresses.dept_a), sheet_post(addresses.dept_a, {i: "1" for i in indicators(addresses.plan, addresses.dept_a)}, action="submit"))
        sheet = Sheet.objects.get(department=addresses.dept_a, period_start=WEEK)
        client.force_login(addresses.supervisor)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("metrics:sheet_review", args=[sheet.pk]), {"decision": "approve"})
        assert mail.outbox == []

    def test_a_sheet_resubmitted_before_the_message_goes_is_muted(self, addresses):
        sheet = returned_sheet(addresses)
        Sheet.objects.filter(pk=sheet.pk).update(status=SheetStatus.SUBMITTED)
        assert services.sheet_returned_notify(sheet=sheet) == []

    def test_a_red_order_is_told_once(self, addresses, robot):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.DINGTALK, webhook_url=robot.url())
        red = order(addresses, level=OrderLevel.RED)
        sent = services.notify_red_order(red)
        assert {d.kind for d in sent} == {ChannelKind.EMAIL, ChannelKind.DINGTALK}
        assert "红色" in mail.outbox[0].subject and "2022-05-25" in mail.outbox[0].body
        assert red.reason in texts(robot)[0]
        assert services.notify_red_order(red) == []
        assert len(mail.outbox) == 1

    def test_an_order_that_is_not_red_or_not_waiting_is_not_told(self, addresses):
        assert services.notify_red_order(order(addresses, number=1, level=OrderLevel.YELLOW)) == []
        assert services.notify_red_order(order(addresses, number=2, level=OrderLevel.RED, closed_on=TODAY)) == []
        assert mail.outbox == []


@pytest.mark.django_db
class ReminderDeliveryTests:
    def test_the_remind_button_sends_the_reminder_and_the_page_shows_it(self, client, addresses, robot, django_capture_on_commit_callbacks):
        DepartmentChannel.objects.create(department=addresses.dept_a, kind=ChannelKind.WECOM, webhook_url=robot.url())
        client.force_login(addresses.supervisor)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("metrics:remind"), {"department": addresses.dept_a.pk, "kind": "red", "subject": "产值", "week": "2022-05-18", "note": "请本周内整改"})
        assert response.status_code == 302
        reminder = Reminder.objects.get()
        assert {(d.kind, d.ok) for d in reminder.deliveries.all()} == {(ChannelKind.EMAIL, True), (ChannelKind.WECOM, True)}
        assert "请本周内整改" in mail.outbox[0].body and "催办" in mail.outbox[0].subject
        assert "产值" in texts(robot)[0]
        html = client.get(reverse("metrics:supervision")).content.decode()
        assert "2 条已送达" in html

    def test_a_reminder_to_a_unit_without_channels_says_so(self, client, cast, django_capture_on_commit_callbacks):
        client.force_login(cast.supervisor)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("metrics:remind"), {"department": cast.dept_b.pk, "kind": "red", "subject": "产值", "week": "2022-05-18"})
        assert "未发送（无渠道）" in client.get(reverse("metrics:supervision")).content.decode()


@pytest.mark.django_db
class DeliveryLogPageTests:
    def test_its_url(self):
        assert reverse("metrics:deliveries") == "/notifications/deliveries/"

    def test_only_the_office_reads_it(self, client, addresses):
        for user in (addresses.staff_a, addresses.leader):
            client.force_login(user)
            assert client.get(reverse("metrics:deliveries")).status_code == 403
        client.force_login(addresses.supervisor)
        assert client.get(reverse("metrics:deliveries")).status_code == 200

    def test_it_shows_who_was_told_what_and_filters_by_department(self, client, addresses):
        services.deadline_reminders_send(today=THURSDAY)
        client.force_login(addresses.supervisor)
        html = client.get(reverse("metrics:deliveries")).content.decode()
        assert "a@example.gov.cn" in html and "b@example.gov.cn" in html and "报表即将到期" in html
        html = client.get(reverse("metrics:deliveries"), {"department": addresses.dept_a.pk}).content.decode()
        assert "a@example.gov.cn" in html and "b@example.gov.cn" not in html

    def test_a_failure_shows_its_error(self, client, cast):
        Delivery.objects.create(department=cast.dept_a, kind=ChannelKind.WECOM, address="qyapi.weixin.qq.com", about=DeliveryAbout.REMINDER,
                                object_key="reminder:1", subject="催办", body="…", ok=False, error="HTTP 502 from qyapi.weixin.qq.com")
        client.force_login(cast.supervisor)
        assert "HTTP 502 from qyapi.weixin.qq.com" in client.get(reverse("metrics:deliveries"), {"ok": "false"}).content.decode()

    def test_its_query_count_does_not_grow_with_the_data(self, client, addresses):
        from tests.conftest import count_queries

        services.deadline_reminders_send(today=THURSDAY)
        client.force_login(addresses.supervisor)
        before = count_queries(client, reverse("metrics:deliveries"))
        services.deadline_reminders_send(today=TODAY)
        assert count_queries(client, reverse("metrics:deliveries")) == before


class BeatScheduleTests:
    def test_the_digest_and_the_deadline_reminders_are_scheduled_tasks(self, settings):
        from celery import current_app

        schedule = settings.CELERY_BEAT_SCHEDULE
        assert schedule["daily-digest"]["task"] == "metrics.tasks.send_daily_digests"
        assert schedule["weekly-deadline-reminders"]["schedule"].day_of_week == {4, 5}  # Thursday and Friday
        for entry in schedule.values():
            assert entry["task"] in current_app.tasks
