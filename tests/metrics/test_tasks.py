import datetime
from unittest import mock

import pytest
from celery import current_app
from kombu.exceptions import OperationalError as BrokerError

from metrics.models import Figure, IndicatorProgress, Rollup, StaleRollup
from metrics.tasks import close_previous_week, rollup_current_plan, rollup_indicators, rollup_plan, rollup_plan_range, rollup_request

AS_OF = datetime.date(2022, 5, 20)
WEEK = datetime.date(2022, 5, 16)


def add_figure(indicator, department, period_start, value=1):
    return Figure.objects.create(
        indicator=indicator,
        department=department,
        period_start=period_start,
        value=value,
        entered_at=datetime.datetime(2022, 5, 20, 1, tzinfo=datetime.UTC),
    )


@pytest.fixture
def today(settings):
    settings.PLANBOARD_TODAY = AS_OF
    return AS_OF


def output(cast):
    return cast.plan.actions.get(number=1).tasks.get().indicators.get()


@pytest.mark.django_db
class RollupTaskTests:
    def test_it_counts_departments_that_sent_every_figure_due_this_period(self, cast, today):
        for action in cast.plan.actions.all():
            add_figure(action.tasks.get().indicators.get(), cast.dept_a, WEEK)
        add_figure(output(cast), cast.dept_b, WEEK)  # department B sent one of its eight
        result = rollup_plan(cast.plan.pk)
        assert (result["departments_reported"], result["departments_expected"]) == (1, 2)
        assert result["week"] == "2022-05-16" and result["as_of"] == "2022-05-20" and result["figures"] == 9

    def test_running_it_twice_leaves_one_identical_row(self, cast, today):
        first = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get()
        row = Rollup.objects.get(level="plan")
        second = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get()
        assert first == second
        again = Rollup.objects.get(level="plan")
        assert again.pk == row.pk and again.computed_at >= row.computed_at

    def test_the_incremental_task_recomputes_what_a_save_touched(self, cast, today):
        rollup_plan(cast.plan.pk)
        add_figure(output(cast), cast.dept_a, WEEK, value=30)
        assert rollup_indicators(cast.plan.pk, [output(cast).pk], [WEEK.isoformat()], [cast.dept_a.pk]) == 1
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual == 30

    def test_a_range_task_and_the_beat_entries(self, cast, today):
        assert rollup_plan_range(cast.plan.pk, "2022-05-01", "2022-05-20") == 4
        assert rollup_current_plan()["week"] == "2022-05-16"
        assert close_previous_week()["as_of"] == "2022-05-15"

    def test_the_beat_entries_do_nothing_without_a_plan_for_the_year(self, cast, settings):
        settings.PLANBOARD_TODAY = datetime.date(2031, 1, 1)
        assert rollup_current_plan() is None and close_previous_week() is None


@pytest.mark.django_db
class RollupRequestTests:
    def test_it_queues_the_incremental_rollup(self, cast, today):
        assert rollup_request(plan=cast.plan, indicator_ids=[output(cast).pk], period_starts=[WEEK])
        assert Rollup.objects.filter(plan=cast.plan, week=WEEK, level="plan").exists()
        assert not StaleRollup.objects.exists()

    def test_a_broker_outage_marks_the_plan_stale_until_the_next_full_run(self, cast, client, today):
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=BrokerError("connection refused")):
            assert not rollup_request(plan=cast.plan, indicator_ids=[1], period_starts=[WEEK])
            assert not rollup_request(plan=cast.plan, indicator_ids=[1], period_starts=[datetime.date(2022, 3, 7)])
        stale = StaleRollup.objects.get(plan=cast.plan)
        assert stale.reason == "OperationalError: connection refused" and stale.earliest_period == datetime.date(2022, 3, 7)
        client.force_login(cast.leader)
        assert "以来保存的数据尚未汇总" in client.get("/", follow=True).content.decode()
        rollup_current_plan()
        assert not StaleRollup.objects.exists()
        assert Rollup.objects.filter(level="plan").count() == 11  # every week from 7 March to 16 May

    @pytest.mark.parametrize("failure", [
        ModuleNotFoundError("No module named 'packaging'"),  # a broken install of the Redis transport
        RuntimeError("anything else"),
    ])
    def test_any_failure_to_queue_marks_the_plan_stale_instead_of_failing_the_save(self, cast, today, failure):
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=failure):
            assert not rollup_request(plan=cast.plan, indicator_ids=[1], period_starts=[WEEK])
        stale = StaleRollup.objects.get(plan=cast.plan)
        assert type(failure).__name__ in stale.reason and stale.earliest_period == WEEK


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
class RealWorkerTests:
    """Runs only in .ci/run, which starts a Celery worker on Redis against this test database."""

    def test_a_real_worker_rolls_up_the_plan(self, cast):
        assert not current_app.conf.task_always_eager, "CELERY_BROKER_URL must point at a running broker"
        add_figure(output(cast), cast.dept_a, WEEK)
        result = rollup_plan.delay(cast.plan.pk, AS_OF.isoformat()).get(timeout=60)
        assert result["figures"] == 1 and result["week"] == "2022-05-16"
        row = Rollup.objects.get(plan=cast.plan, week=WEEK, level="plan")
        assert row.figure_count == 1 and row.departments_expected == 2
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual == 1
