"""Supervision (督查): red and yellow items, overdue milestones, missing reports, and 催办 (supervisors only)."""

import datetime

import pytest
from django.urls import reverse

from actions.models import Milestone
from metrics.models import DepartmentIndicatorProgress, IndicatorProgress, Reminder
from tests.conftest import count_queries

URL = "/supervision/"


@pytest.fixture
def rolled(cast, settings):
    from metrics.rollup.services import rollup_plan_weeks

    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    return cast


def remind(client, cast, **overrides):
    data = {"department": cast.dept_a.pk, "kind": "red", "subject": "产值", "week": "2022-05-18"}
    data.update(overrides)
    return client.post(reverse("metrics:remind"), data)


@pytest.mark.django_db
class SupervisionPageTests:
    def test_its_url(self):
        assert reverse("metrics:supervision") == URL

    def test_it_lists_lagging_indicators_overdue_milestones_and_missing_reports(self, client, rolled):
        client.force_login(rolled.supervisor)
        response = client.get(URL)
        week = datetime.date(2022, 5, 16)
        lagging = IndicatorProgress.objects.filter(week=week, light__in=["red", "yellow"]).count()
        assert len(response.context["lagging"].rows) == lagging
        # Every task of the small plan has a milestone planned for 31 March, none done.
        assert len(response.context["overdue"].rows) == 8
        missing = {r.record["department_id"]: r.record["missing"] for r in response.context["missing"].rows}
        for department in [rolled.dept_a, rolled.dept_b]:
            rows = DepartmentIndicatorProgress.objects.filter(week=week, department=department)
            expected = sum(r.period_due for r in rows) - sum(r.period_entered for r in rows)
            assert missing.get(department.pk, 0) == expected
        assert expected > 0  # nothing was reported in the small plan

    def test_a_milestone_done_in_time_is_not_overdue(self, client, rolled):
        Milestone.objects.filter(task__action__number=1).update(done_date=datetime.date(2022, 3, 30))
        client.force_login(rolled.supervisor)
        assert len(client.get(URL).context["overdue"].rows) == 7

    def test_a_supervisor_records_a_reminder_and_sees_it_listed(self, client, rolled):
        client.force_login(rolled.supervisor)
        response = remind(client, rolled)
        assert response.status_code == 302 and response.url == URL + "?week=2022-05-16"
        reminder = Reminder.objects.get()
        assert (reminder.department, reminder.kind, reminder.subject, reminder.week, reminder.reminded_by) == (
            rolled.dept_a, "red", "产值", datetime.date(2022, 5, 16), rolled.supervisor)
        html = client.get(URL).content.decode()
        assert "产值" in html and "supervisor" in html
        remind(client, rolled, kind="missing_report", subject="3")
        assert Reminder.objects.filter(kind="missing_report").get().subject == "2022-05-16 所在周缺报 3 项"

    def test_the_supervisor_gets_remind_buttons_others_do_not(self, client, rolled):
        client.force_login(rolled.supervisor)
        assert 'action="/supervision/remind/"' in client.get(URL).content.decode()
        for who in [rolled.leader, rolled.staff_a]:
            client.force_login(who)
            assert 'action="/supervision/remind/"' not in client.get(URL).content.decode()

    @pytest.mark.parametrize("bad", [{"kind": "nonsense"}, {"week": "someday"}, {"subject": " "}])
    def test_a_bad_reminder_is_refused_with_a_message(self, client, rolled, bad):
        client.force_login(rolled.supervisor)
        response = remind(client, rolled, **bad)
        assert response.status_code == 302
        assert not Reminder.objects.exists()

    def test_a_reminder_to_an_unknown_department_is_refused_with_a_message(self, client, rolled):
        client.force_login(rolled.supervisor)
        for department in [99999, "x"]:
            response = remind(client, rolled, department=department)
            assert response.status_code == 302
            assert "催办未记录" in client.get(response.url).content.decode()
        assert not Reminder.objects.exists()


@pytest.mark.django_db
class SupervisionAccessTests:
    @pytest.mark.parametrize("who", ["leader", "supervisor", "staff_a", "staff_b"])
    def test_every_role_reads_the_page(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        assert client.get(URL).status_code == 200

    @pytest.mark.parametrize("who", ["leader", "staff_a", "staff_b"])
    def test_only_supervisors_may_remind(self, client, rolled, who):
        client.force_login(getattr(rolled, who))
        assert remind(client, rolled).status_code == 403
        assert not Reminder.objects.exists()

    def test_anonymous_visitors_are_sent_to_log_in(self, client, rolled):
        assert client.get(URL).url.startswith(reverse("login"))
        response = remind(client, rolled)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert not Reminder.objects.exists()

    def test_reminding_needs_a_post(self, client, rolled):
        client.force_login(rolled.supervisor)
        assert client.get(reverse("metrics:remind")).status_code == 405


@pytest.mark.django_db
class SupervisionQueryTests:
    def test_its_query_count_is_the_same_with_the_small_plan_and_the_demo(self, client, two_plans, settings):
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="supervisor"))
        settings.PLANBOARD_TODAY = two_plans.small_today
        small = count_queries(client, URL)
        settings.PLANBOARD_TODAY = two_plans.demo_today
        assert count_queries(client, URL) == small


@pytest.mark.django_db
class ReminderAdminTests:
    def test_reminders_are_listed_read_only_in_the_admin(self, client, rolled):
        from django.contrib.auth import get_user_model

        from metrics.supervision.services import reminder_record

        reminder_record(user=rolled.supervisor, plan=rolled.plan, department=rolled.dept_a, kind="red", subject="产值",
                        week=datetime.date(2022, 5, 16))
        client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
        response = client.get(reverse("admin:metrics_reminder_changelist"), {"q": "产值"})
        assert response.status_code == 200 and len(response.context["cl"].result_list) == 1
        assert client.get(reverse("admin:metrics_reminder_add")).status_code == 403
