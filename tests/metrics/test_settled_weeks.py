"""A week run on its own carries the week before's sums only when nothing they read has changed uncovered.

PostgreSQL triggers log every write to what running sums read (metrics.models.InputChange); the run that
covers a change deletes it (metrics.rollup.inputs). The hourly run of the week in progress carries the week
before's stored sums when it is settled, and adds up the figures when a change before the week is left: a
save whose roll-up was lost, a change to the plan's structure. Each case is compared with the week added up
from the figures. Real transactions: the log's visibility rules are about other transactions' commits.
"""

import datetime
import json
from unittest import mock

import psycopg2
import pytest
from django.db import connection, transaction
from django.db.models import F
from django.forms.models import model_to_dict

from actions.models import Department, IndicatorDepartment, Plan
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, IndicatorProgress, InputChange, Rollup
from metrics.rollup import inputs, services
from metrics.rollup.engine import Week, carries, rollup_week
from metrics.rollup.services import rollup_plan_catch_up, rollup_repair, rollup_touched
from tests.factories import seed_demo

TODAY = datetime.date(2022, 5, 20)  # a Friday
MONDAY = datetime.date(2022, 5, 16)
MODELS = [IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore]


def week_rows(week: datetime.date) -> dict:
    return {
        model.__name__: sorted(
            json.dumps({k: str(v) for k, v in model_to_dict(r).items() if k not in ("id", "computed_at")}, sort_keys=True)
            for r in model.objects.filter(week=week)
        )
        for model in MODELS
    }


def from_figures(plan: Plan) -> dict:
    """This week's rows added up from the figures, in a transaction rolled back."""
    with transaction.atomic():
        rollup_week(Week.of(plan, MONDAY, TODAY), announce=False)
        rows = week_rows(MONDAY)
        transaction.set_rollback(True)
    return rows


def carried(plan: Plan) -> dict:
    """This week's rows carried from the week before's stored ones, in a transaction rolled back."""
    with transaction.atomic():
        rollup_week(Week.of(plan, MONDAY, TODAY), carry=True, announce=False)
        rows = week_rows(MONDAY)
        transaction.set_rollback(True)
    return rows


def hourly(plan: Plan) -> list[bool]:
    """The hourly run (the catch-up of the week in progress); returns the `carry` of each week it rolled up."""
    with mock.patch.object(services, "rollup_week", wraps=services.rollup_week) as spy:
        rollup_plan_catch_up(plan=plan)
    return [call.kwargs["carry"] for call in spy.call_args_list]


def logged(plan: Plan) -> list[tuple]:
    return sorted(
        (c.plan_id, c.indicator_id, c.period_start)
        for c in InputChange.objects.all()
        if c.plan_id == plan.pk or c.indicator_id is not None
    )


@pytest.fixture
def plan(settings):
    assert connection.vendor == "postgresql" and carries()
    settings.PLANBOARD_TODAY = TODAY
    seed_demo(verbosity=0)  # the year rolled up from January: every change to the seeded figures covered
    return Plan.objects.get(year=TODAY.year)


def late_figure(plan: Plan) -> Figure:
    return Figure.objects.filter(
        indicator__task__action__plan=plan, indicator__kind="amount", period_start=datetime.date(2022, 4, 1)
    ).exclude(value=None).first()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class SettledWeekTests:
    def test_the_log_holds_every_write_to_what_the_sums_read_and_nothing_else(self, plan):
        assert logged(plan) == []
        figure = late_figure(plan)
        Figure.objects.filter(pk=figure.pk).update(note="checked")  # not read by the sums
        assert logged(plan) == []
        Figure.objects.filter(pk=figure.pk).update(value=F("value") + 1)
        assert logged(plan) == [(None, figure.indicator_id, figure.period_start)]
        InputChange.objects.all().delete()
        moved = Figure.objects.filter(indicator__task__action__plan=plan, period_start=datetime.date(2022, 5, 9)).first()
        Figure.objects.filter(pk=moved.pk).update(entered_at=F("entered_at") + datetime.timedelta(days=1))
        Figure.objects.filter(pk=moved.pk).delete()
        assert logged(plan) == [(None, moved.indicator_id, datetime.date(2022, 5, 9))] * 2
        InputChange.objects.all().delete()
        task = figure.indicator.task
        task.status = "done" if task.status != "done" else "in_progress"
        task.save()  # a task's state: not read by the sums
        assert logged(plan) == []
        indicator = figure.indicator
        indicator.name += " (renamed)"
        indicator.save()
        assert logged(plan) == []
        indicator.frequency = "weekly" if indicator.frequency == "monthly" else "monthly"
        indicator.save()
        unassigned = Department.objects.exclude(assignments__indicator=indicator).first()
        IndicatorDepartment.objects.create(indicator=indicator, department=unassigned)
        plan.checkpoint += datetime.timedelta(days=1)
        plan.save()
        assert logged(plan) == [(plan.pk, None, None)] * 3

    def test_the_hourly_run_carries_a_settled_week_before_and_equals_the_week_from_the_figures(self, plan):
        # Edits with their roll-ups: one in the week in progress, one late (April); both covered.
        current = Figure.objects.filter(indicator__task__action__plan=plan, period_start=MONDAY).exclude(value=None).first()
        for figure in (current, late_figure(plan)):
            Figure.objects.filter(pk=figure.pk).update(value=F("value") + 7)
            rollup_touched(plan=plan, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start])
        assert logged(plan) == []
        assert hourly(plan) == [True]
        assert week_rows(MONDAY) == from_figures(plan)

    def test_a_late_edit_whose_roll_up_was_lost_is_added_up_from_the_figures_until_it_is_covered(self, plan):
        figure = late_figure(plan)
        Figure.objects.filter(pk=figure.pk).update(value=F("value") + 1000)  # saved; its roll-up lost
        expected = from_figures(plan)
        assert carried(plan) != expected  # the week before's stored sums miss the edit
        assert hourly(plan) == [False]
        assert week_rows(MONDAY) == from_figures(plan)
        # The sweep rolls the save up again: every week from April holds it, and the next run carries.
        rollup_touched(plan=plan, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start])
        assert logged(plan) == []
        assert hourly(plan) == [True]
        assert week_rows(MONDAY) == from_figures(plan)

    def test_a_change_to_the_plan_structure_is_added_up_from_the_figures_until_the_nightly_check(self, plan):
        figure = late_figure(plan)
        IndicatorDepartment.objects.filter(indicator=figure.indicator, department=figure.department).delete()
        assert hourly(plan) == [False]
        assert week_rows(MONDAY) == from_figures(plan)
        # The nightly check finds and repairs the weeks the change moved (and the ladder may move orders, whose
        # deductions move the scores: each run is compared with the figures as they stand after it).
        rollup_repair(plan=plan, first=datetime.date(2022, 1, 1), last=TODAY)
        assert logged(plan) == []
        assert hourly(plan) == [True]
        assert week_rows(MONDAY) == from_figures(plan)

    def test_a_run_deletes_only_the_changes_it_saw(self, plan):
        figure = late_figure(plan)
        Figure.objects.filter(pk=figure.pk).update(value=F("value") + 1)
        mark = inputs.seen()
        other = Figure.objects.filter(indicator=figure.indicator, period_start=datetime.date(2022, 3, 1)).first()
        Figure.objects.filter(pk=other.pk).update(value=F("value") + 1)  # committed after the run started
        with transaction.atomic():
            pending = Figure.objects.filter(indicator=figure.indicator, period_start=datetime.date(2022, 2, 1)).first()
            Figure.objects.filter(pk=pending.pk).update(value=F("value") + 1)  # this transaction's own, after the mark
            inputs.consume(mark, plan, from_week=datetime.date(2022, 1, 3), every_week=True)
            assert logged(plan) == [(None, figure.indicator_id, datetime.date(2022, 2, 1)),
                                    (None, figure.indicator_id, datetime.date(2022, 3, 1))]
        # Changes to other indicators, or before the first week covered, stay too.
        mark = inputs.seen()
        inputs.consume(mark, plan, from_week=datetime.date(2022, 2, 28), indicator_ids=[figure.indicator_id])
        assert logged(plan) == [(None, figure.indicator_id, datetime.date(2022, 2, 1))]
        inputs.consume(mark, plan, from_week=datetime.date(2022, 1, 3), indicator_ids=[figure.indicator_id + 1])
        assert logged(plan) == [(None, figure.indicator_id, datetime.date(2022, 2, 1))]

    def test_a_run_leaves_a_change_committed_after_it_started_whatever_its_id(self, plan):
        # Ids are handed out when a row is written, not when it is committed: a save still open when the run
        # starts has an id below a later save's that committed first. The run's snapshot tells them apart.
        figure, other = late_figure(plan), Figure.objects.filter(indicator__task__action__plan=plan, period_start=datetime.date(2022, 3, 7)).first()
        open_save = psycopg2.connect(**connection.get_connection_params())
        with open_save.cursor() as cursor:
            cursor.execute(f"UPDATE {Figure._meta.db_table} SET value = value + 1 WHERE id = %s", [figure.pk])
        Figure.objects.filter(pk=other.pk).update(value=F("value") + 1)  # a later save, committed at once
        mark = inputs.seen()
        open_save.commit()
        open_save.close()
        inputs.consume(mark, plan, from_week=datetime.date(2022, 1, 3), every_week=True)
        assert logged(plan) == [(None, figure.indicator_id, figure.period_start)]
