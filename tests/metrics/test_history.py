import pytest
from django.urls import reverse

from metrics.models import Figure, ProgressNote
from tests.metrics.reporting import TODAY, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


@pytest.mark.django_db
class FigureHistoryTests:
    def test_it_records_every_change_with_who_and_the_old_and_new_value(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        cast.dept_a.members.add(cast.staff_b)  # a colleague corrects it
        client.force_login(cast.staff_b)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "12.5", "version": 1}}))
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"na": True, "note": "统计口径调整", "version": 2}}))
        figure = Figure.objects.get()
        records = list(figure.history.order_by("history_date", "history_id"))
        assert [(r.history_type, r.history_user.username, r.value) for r in records] == [
            ("+", "staff-a", 10), ("~", "staff-b", 12.5), ("~", "staff-b", None)
        ]
        client.force_login(cast.supervisor)
        response = client.get(reverse("metrics:figure_history", args=[figure.pk]))
        html = response.content.decode()
        assert response.status_code == 200 and "修改记录" in html
        rows = html.split("<tbody>")[1].split("</tr>")
        assert "修改" in rows[0] and "12.5" in rows[0] and "不适用" in rows[0] and "统计口径调整" in rows[0]
        assert "录入" in rows[2] and "staff-a" in rows[2]

    def test_an_unchanged_cell_records_nothing(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "10.00", "version": 1}}))
        figure = Figure.objects.get()
        assert figure.version == 1 and figure.history.count() == 1

    def test_it_links_the_history_from_the_sheet(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        html = client.get(sheet_url(cast.dept_a)).content.decode()
        assert reverse("metrics:figure_history", args=[Figure.objects.get().pk]) in html


@pytest.mark.django_db
class ProgressNoteHistoryTests:
    def test_it_records_progress_note_changes_and_shows_them(self, client, cast):
        task = indicators(cast.plan)[0].task
        client.force_login(cast.staff_a)
        data = sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "完成选址", f"problems-{task.pk}": "", f"next-{task.pk}": "办理用地",
                                              f"nver-{task.pk}": "0"})
        assert client.post(sheet_url(cast.dept_a), data).status_code == 302
        data.update({f"progress-{task.pk}": "完成选址并开工", f"nver-{task.pk}": "1"})
        assert client.post(sheet_url(cast.dept_a), data).status_code == 302
        note = ProgressNote.objects.get()
        assert note.progress == "完成选址并开工" and note.version == 2 and note.entered_by == cast.staff_a
        assert note.history.count() == 2
        html = client.get(reverse("metrics:note_history", args=[note.pk])).content.decode()
        assert "完成选址并开工" in html and "完成选址" in html and "staff-a" in html


@pytest.mark.django_db
class ReportingAdminTests:
    @pytest.mark.parametrize("model", ["sheet", "reopenrequest", "progressnote", "evidence"])
    def test_reporting_records_are_shown_but_not_changed_in_the_admin(self, client, cast, admin_user, model):
        client.force_login(admin_user)
        assert client.get(reverse(f"admin:metrics_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:metrics_{model}_add")).status_code == 403


@pytest.mark.django_db
class HistoryBeforeRecordingTests:
    def test_a_figure_entered_before_history_was_kept_says_its_old_value_is_not_recorded(self, client, cast):
        import datetime

        ind = indicators(cast.plan)[0]
        Figure.objects.bulk_create([Figure(indicator=ind, department=cast.dept_a, period_start=datetime.date(2022, 5, 16), value=1,
                                           entered_at=datetime.datetime(2022, 5, 20, tzinfo=datetime.UTC))])
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "2", "version": 1}}))
        html = client.get(reverse("metrics:figure_history", args=[Figure.objects.get().pk])).content.decode()
        assert "无记录（录入时尚未开始留痕）" in html
