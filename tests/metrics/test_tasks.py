import datetime

from unittest import mock

import pytest
from celery import current_app
from kombu.exceptions import OperationalError as BrokerError

from metrics.models import Figure, PlanRollup, StaleRollup
from metrics.services import rollup_request
from metrics.tasks import rollup_current_plan, rollup_plan

AS_OF = datetime.date(2022, 5, 20)


def add_figure(indicator, department, period_start):
    return Figure.objects.create(
        indicator=indicator,
        department=department,
        period_start=period_start,
        value=1,
        entered_at=datetime.datetime(2022, 5, 20, 9, tzinfo=datetime.UTC),
    )


@pytest.mark.django_db
class RollupPlanTaskTests:
    def test_it_counts_departments_that_sent_every_figure_due(self, cast):
        week = datetime.date(2022, 5, 16)
        for indicator in cast.plan.actions.get(number=1).tasks.get().indicators.all():
            add_figure(indicator, cast.dept_a, week)
        result = rollup_plan(cast.plan.pk, AS_OF.isoformat())
        # Department A reports on all eight indicators and sent only one: not reported yet.
        assert result["departments_reported"] == 0 and result["departments_expected"] == 2
        for action in cast.plan.actions.exclude(number=1):
            add_figure(action.tasks.get().indicators.get(), cast.dept_a, week)
        assert rollup_plan(cast.plan.pk, AS_OF.isoformat())["departments_reported"] == 1

    def test_last_weeks_figures_do_not_count_for_this_week(self, cast):
        for action in cast.plan.actions.all():
            add_figure(action.tasks.get().indicators.get(), cast.dept_b, datetime.date(2022, 5, 9))
        assert rollup_plan(cast.plan.pk, AS_OF.isoformat())["departments_reported"] == 0

    def test_running_it_twice_leaves_one_identical_row(self, cast):
        first = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get()
        row = PlanRollup.objects.get()
        second = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get()
        assert first == second
        again = PlanRollup.objects.get()
        fields = ["plan_id", "as_of", "figure_count", "departments_expected", "departments_reported"]
        assert [getattr(row, f) for f in fields] == [getattr(again, f) for f in fields]
        assert again.computed_at >= row.computed_at

    def test_the_hourly_entry_rolls_up_the_plan_of_the_current_year(self, cast, settings):
        settings.PLANBOARD_TODAY = AS_OF
        assert rollup_current_plan()["as_of"] == "2022-05-20"
        settings.PLANBOARD_TODAY = datetime.date(2031, 1, 1)
        assert rollup_current_plan() is None


@pytest.mark.django_db
class RollupRequestTests:
    def test_it_queues_the_incremental_rollup(self, cast, settings):
        settings.PLANBOARD_TODAY = AS_OF
        indicator = cast.plan.actions.get(number=1).tasks.get().indicators.get()
        assert rollup_request(plan=cast.plan, indicator_ids=[indicator.pk], period_starts=[datetime.date(2022, 5, 16)])
        assert PlanRollup.objects.filter(plan=cast.plan, as_of=AS_OF).exists()
        assert not StaleRollup.objects.exists()

    def test_a_broker_outage_marks_the_plan_stale_until_the_next_full_run(self, cast, client, settings):
        settings.PLANBOARD_TODAY = AS_OF
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=BrokerError("connection refused")):
            assert not rollup_request(plan=cast.plan, indicator_ids=[1], period_starts=[AS_OF])
        assert StaleRollup.objects.get(plan=cast.plan).reason == "connection refused"
        client.force_login(cast.leader)
        assert "以来保存的数据尚未汇总" in client.get("/").content.decode()
        rollup_plan(cast.plan.pk)
        assert not StaleRollup.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
class RealWorkerTests:
    """Runs only in .ci/run, which starts a Celery worker on Redis against this test database."""

    def test_a_real_worker_rolls_up_the_plan(self, cast):
        assert not current_app.conf.task_always_eager, "CELERY_BROKER_URL must point at a running broker"
        add_figure(cast.plan.actions.get(number=1).tasks.get().indicators.get(), cast.dept_a, datetime.date(2022, 5, 16))
        result = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get(timeout=60)
        assert result["figures"] == 1
        row = PlanRollup.objects.get(plan=cast.plan, as_of=AS_OF)
        assert row.figure_count == 1 and row.departments_expected == 2
