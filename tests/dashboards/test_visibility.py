"""Who sees what on the dashboards (metrics.permissions): roll-ups and rankings are public to every signed-in
user; a department's raw figures and progress notes are seen by its staff, the supervision office and leaders."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from actions.models import Indicator, Task
from metrics.models import Figure, ProgressNote
from metrics.rollup.services import rollup_plan_weeks

SEES_DEPT_A = {"leader": True, "supervisor": True, "staff_a": True, "staff_b": False}
ROLES = list(SEES_DEPT_A)


@pytest.fixture
def records(cast, settings):
    """Department A's figure of 4321 and its progress note on a task it leads, rolled up."""
    settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
    indicator = Indicator.objects.get(code="output-1")
    Figure.objects.create(indicator=indicator, department=cast.dept_a, period_start=datetime.date(2022, 5, 9), value=4321,
                          entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))
    Figure.objects.create(indicator=indicator, department=cast.dept_b, period_start=datetime.date(2022, 5, 9), value=8765,
                          entered_at=datetime.datetime(2022, 5, 13, tzinfo=datetime.UTC))
    task = Task.objects.get(action__number=1)
    ProgressNote.objects.create(task=task, department=cast.dept_a, period_start=datetime.date(2022, 5, 9),
                                progress="甲局内部进展", problems="甲局内部问题", next_steps="甲局下步")
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=datetime.date(2022, 5, 20))
    cast.indicator = indicator
    return cast


@pytest.mark.django_db
class VisibilityTests:
    @pytest.mark.parametrize("role", ROLES)
    def test_the_indicator_page_lists_another_departments_figures_only_to_those_who_may_see_them(self, client, records, role):
        client.force_login(getattr(records, role))
        response = client.get(reverse("metrics:indicator_detail", args=[records.indicator.pk]))
        figures = {row.record.department_id for row in response.context["figures"].rows}
        assert (records.dept_a.pk in figures) is SEES_DEPT_A[role]
        assert (records.dept_b.pk in figures) is (role != "staff_a")
        # The per-department roll-up is public: every role sees both departments' progress rows.
        departments = {row.record.department_id for row in response.context["departments"].rows}
        assert departments == {records.dept_a.pk, records.dept_b.pk}

    @pytest.mark.parametrize("role", ROLES)
    def test_the_ledger_shows_a_departments_notes_only_to_those_who_may_see_them(self, client, records, role):
        client.force_login(getattr(records, role))
        html = client.get("/dashboards/actions/1/").content.decode()
        assert ("甲局内部进展" in html) is SEES_DEPT_A[role]
        assert "任务1.1" in html  # the task and its roll-up are public
        export = client.get("/dashboards/actions/1/", {"_export": "csv"}).content.decode("utf-8-sig")
        cells = [cell for line in csv.reader(io.StringIO(export)) for cell in line]
        assert ("甲局内部问题" in cells) is SEES_DEPT_A[role]
        # Nor can the search find what is hidden.
        found = client.get("/dashboards/actions/1/", {"q": "甲局内部"}).context["table"].rows
        assert (len(found) == 1) is SEES_DEPT_A[role]

    @pytest.mark.parametrize("role", ROLES)
    def test_the_department_page_shows_its_notes_only_to_those_who_may_see_them(self, client, records, role):
        client.force_login(getattr(records, role))
        response = client.get(reverse("metrics:department_detail", args=[records.dept_a.pk]))
        assert response.status_code == 200  # its roll-up numbers and scores are public
        assert ("甲局下步" in response.content.decode()) is SEES_DEPT_A[role]

    @pytest.mark.parametrize("role", ROLES)
    def test_rankings_and_roll_ups_are_public_to_every_signed_in_user(self, client, records, role):
        client.force_login(getattr(records, role))
        for url in [reverse("metrics:rankings"), reverse("metrics:overview"), "/dashboards/actions/1/"]:
            assert client.get(url).status_code == 200
