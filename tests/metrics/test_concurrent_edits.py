"""Two colleagues fill different cells of one sheet at once: each writes only the cells they changed."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from actions.models import Department
from metrics.models import Figure, ProgressNote
from planboard.roles import Role
from tests.factories import make_user
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


class SheetFormParser(HTMLParser):
    """What a browser would post from #sheet-form: its enabled inputs, checked boxes only."""

    def __init__(self):
        super().__init__()
        self.inside, self.data, self.textarea = False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == "sheet-form"
        elif self.inside and tag == "textarea" and "disabled" not in attrs:
            self.textarea = attrs["name"]
            self.data[self.textarea] = ""
        elif self.inside and tag == "input" and "name" in attrs and "disabled" not in attrs:
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            if attrs.get("type") != "file":
                self.data[attrs["name"]] = attrs.get("value", "")

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None


def loaded_form(client, department) -> dict:
    parser = SheetFormParser()
    parser.feed(client.get(sheet_url(department)).content.decode())
    return parser.data


@pytest.fixture
def colleagues(cast, client, django_user_model):
    from django.test import Client

    other = make_user("staff-a2", role=Role.STAFF, departments=[Department.objects.get(code="dept-a")])
    first, second = Client(), Client()
    first.force_login(cast.staff_a)
    second.force_login(other)
    inds = indicators(cast.plan)
    first.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[0]: "10", inds[1]: "20"}))
    return first, second, inds


@pytest.mark.django_db
class ConcurrentEditTests:
    def test_two_colleagues_editing_different_cells_both_save(self, cast, colleagues):
        first, second, inds = colleagues
        form_a, form_b = loaded_form(first, cast.dept_a), loaded_form(second, cast.dept_a)
        form_a.update({f"v-{inds[0].pk}": "11", "action": "save"})
        form_b.update({f"v-{inds[1].pk}": "22", "action": "save"})
        assert first.post(sheet_url(cast.dept_a), form_a).status_code == 302
        response = second.post(sheet_url(cast.dept_a), form_b)
        assert response.status_code == 302, response.content.decode()
        values = {f.indicator_id: f.value for f in Figure.objects.filter(period_start=WEEK)}
        assert values == {inds[0].pk: Decimal("11"), inds[1].pk: Decimal("22")}

    def test_a_cell_both_changed_is_still_a_conflict_told_to_the_second(self, cast, colleagues):
        first, second, inds = colleagues
        form_a, form_b = loaded_form(first, cast.dept_a), loaded_form(second, cast.dept_a)
        form_a.update({f"v-{inds[0].pk}": "11", "action": "save"})
        form_b.update({f"v-{inds[0].pk}": "12", f"v-{inds[1].pk}": "22", "action": "save"})
        first.post(sheet_url(cast.dept_a), form_a)
        response = second.post(sheet_url(cast.dept_a), form_b)
        assert response.status_code == 400
        html = response.content.decode()
        assert html.count("冲突") >= 1 and f'id="err-{inds[0].pk}"' in html and f'id="err-{inds[1].pk}"' not in html
        assert Figure.objects.get(indicator=inds[0], period_start=WEEK).value == Decimal("11")
        # Saving again from the refused page overrides knowingly, and the untouched-by-them cell stays untouched.
        parser = SheetFormParser()
        parser.feed(html)
        parser.data["action"] = "save"
        assert second.post(sheet_url(cast.dept_a), parser.data).status_code == 302
        values = {f.indicator_id: f.value for f in Figure.objects.filter(period_start=WEEK)}
        assert values == {inds[0].pk: Decimal("12"), inds[1].pk: Decimal("22")}

    def test_an_untouched_cell_is_not_written_even_if_blank(self, cast, colleagues):
        first, second, inds = colleagues
        form_b = loaded_form(second, cast.dept_a)
        first.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {inds[2]: "5"}))
        form_b.update({f"v-{inds[1].pk}": "22", "action": "save"})
        assert second.post(sheet_url(cast.dept_a), form_b).status_code == 302
        assert Figure.objects.get(indicator=inds[2], period_start=WEEK).value == Decimal("5")

    def test_colleagues_writing_different_tasks_progress_and_milestones_both_save(self, cast, colleagues):
        first, second, inds = colleagues
        tasks = [inds[0].task, inds[1].task]
        first.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"progress-{tasks[0].pk}": "第一行\r\n第二行",
                                                                        f"nver-{tasks[0].pk}": "0"}))
        form_a, form_b = loaded_form(first, cast.dept_a), loaded_form(second, cast.dept_a)
        milestones = [t.milestones.get() for t in tasks]
        form_a.update({f"progress-{tasks[0].pk}": "甲改了进展", f"ms-{milestones[0].pk}": "2022-03-30", "action": "save"})
        form_b.update({f"progress-{tasks[1].pk}": "乙写了进展", f"ms-{milestones[1].pk}": "2022-04-01", "action": "save"})
        assert first.post(sheet_url(cast.dept_a), form_a).status_code == 302
        response = second.post(sheet_url(cast.dept_a), form_b)
        assert response.status_code == 302, response.content.decode()
        notes = {n.task_id: n.progress for n in ProgressNote.objects.filter(period_start=WEEK)}
        assert notes == {tasks[0].pk: "甲改了进展", tasks[1].pk: "乙写了进展"}
        for milestone in milestones:
            milestone.refresh_from_db()
        assert [m.done_date.isoformat() for m in milestones] == ["2022-03-30", "2022-04-01"]

    def test_a_note_posted_as_shown_with_browser_line_breaks_is_untouched(self, cast, colleagues):
        first, second, inds = colleagues
        task = inds[0].task
        first.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "第一行\n第二行", f"nver-{task.pk}": "0"}))
        form = loaded_form(second, cast.dept_a)
        form = {k: v.replace("\n", "\r\n") for k, v in form.items()}  # as a browser posts them
        first.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "改过", f"nver-{task.pk}": "1"}))
        form["action"] = "save"
        assert second.post(sheet_url(cast.dept_a), form).status_code == 302
        assert ProgressNote.objects.get(task=task).progress == "改过"
