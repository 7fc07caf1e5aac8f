"""No silent failure: roll-ups that fail are retried long enough, or leave the plan marked stale with the reason,
every page says so, and the next full roll-up (the command, the beat or the sweep) clears the mark.
"""

import datetime
from io import StringIO
from unittest import mock

import pytest
from celery import current_app
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from metrics.models import Figure, IndicatorProgress, StaleRollup
from metrics.rollup import services
from metrics.rollup.services import stale_mark
from metrics.tasks import RETRY_COUNTDOWNS, rollup_current_plan, rollup_indicators, rollup_plan, rollup_stale, rollup_touched

AS_OF = datetime.date(2022, 5, 20)
WEEK = datetime.date(2022, 5, 16)
MARCH = datetime.date(2022, 3, 7)


@pytest.fixture
def today(settings):
    settings.PLANBOARD_TODAY = AS_OF
    return AS_OF


def output(cast):
    return cast.plan.actions.get(number=1).tasks.get().indicators.get()


def add_figure(cast, value):
    return Figure.objects.create(
        indicator=output(cast), department=cast.dept_a, period_start=WEEK, value=value,
        entered_at=datetime.datetime(2022, 5, 20, 1, tzinfo=datetime.UTC),
    )


def incremental_args(cast):
    return (cast.plan.pk, [output(cast).pk], [WEEK.isoformat()], [cast.dept_a.pk])


class QueryCanceled(Exception):
    """Stands in for psycopg2's error class: what Django's OperationalError wraps on a statement timeout."""

    pgcode = "57014"


def statement_timeout() -> OperationalError:
    exc = OperationalError("canceling statement due to statement timeout")
    exc.__cause__ = QueryCanceled("canceling statement due to statement timeout")
    return exc


@pytest.mark.django_db
class RetryTests:
    def test_it_rides_out_a_ten_minute_database_outage(self, cast, today):
        rollup_plan(cast.plan.pk)
        add_figure(cast, 30)
        clock = {"now": 0}  # seconds since the database went away; the broker's countdowns advance it

        def touched(**kwargs):
            if clock["now"] < 600:
                raise OperationalError("could not connect to server: Connection refused")
            return rollup_touched(**kwargs)

        waits = []
        with mock.patch("metrics.tasks.rollup_touched", side_effect=touched):
            for retries in range(len(RETRY_COUNTDOWNS) + 1):
                try:
                    rollup_indicators.apply(incremental_args(cast), retries=retries)
                    break
                except Retry as retry:
                    waits.append(retry.when)
                    clock["now"] += retry.when
        assert min(waits) >= 5, "no retry may come at once (no zero-second jitter)"
        assert clock["now"] >= 600
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual == 30
        assert not StaleRollup.objects.exists()

    def test_the_schedule_is_fixed_and_lasts_longer_than_a_database_restart(self):
        assert rollup_indicators.max_retries == len(RETRY_COUNTDOWNS)
        assert sum(RETRY_COUNTDOWNS) >= 10 * 60 and min(RETRY_COUNTDOWNS) > 0
        # Redis would hand a task waiting longer than the visibility timeout to a second worker.
        assert max(RETRY_COUNTDOWNS) < django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]

    def test_when_the_retries_are_spent_the_plan_is_marked_stale_with_the_reason(self, cast, today, client):
        down = OperationalError("server closed the connection unexpectedly")
        with mock.patch("metrics.tasks.rollup_touched", side_effect=down):
            result = rollup_indicators.apply(incremental_args(cast), retries=len(RETRY_COUNTDOWNS), throw=False)
        assert result.state == "FAILURE" and isinstance(result.result, OperationalError)
        stale = StaleRollup.objects.get(plan=cast.plan)
        assert stale.earliest_period == WEEK
        assert "server closed the connection unexpectedly" in stale.reason and "rollup_indicators" in stale.reason
        client.force_login(cast.leader)
        assert "以来保存的数据尚未汇总" in client.get("/", follow=True).content.decode()

    def test_a_statement_timeout_is_not_retried_and_marks_the_plan_stale_at_once(self, cast, today):
        with mock.patch("metrics.tasks.rollup_touched", side_effect=statement_timeout()):
            result = rollup_indicators.apply(incremental_args(cast), retries=0, throw=False)
        assert result.state == "FAILURE"  # an OperationalError, yet not retried
        assert "statement timeout" in StaleRollup.objects.get(plan=cast.plan).reason

    def test_any_other_error_marks_the_plan_stale_from_the_week_asked_for(self, cast, today):
        with mock.patch("metrics.tasks.rollup_plan_week", side_effect=ZeroDivisionError("division by zero")):
            assert rollup_plan.apply((cast.plan.pk, "2022-03-09"), throw=False).state == "FAILURE"
        stale = StaleRollup.objects.get(plan=cast.plan)
        assert stale.earliest_period == datetime.date(2022, 3, 9) and "ZeroDivisionError" in stale.reason

    def test_the_beat_tasks_without_a_plan_argument_mark_the_current_plan(self, cast, today):
        with mock.patch("metrics.tasks.rollup_plan_catch_up", side_effect=statement_timeout()):
            assert rollup_current_plan.apply(throw=False).state == "FAILURE"
        assert StaleRollup.objects.get(plan=cast.plan).earliest_period is None


class WorkerLossSettingsTests:
    def test_a_task_whose_worker_dies_goes_back_to_the_queue(self):
        conf = current_app.conf
        assert conf.task_acks_late and conf.task_reject_on_worker_lost
        for task in (rollup_indicators, rollup_plan, rollup_stale, rollup_current_plan):
            assert task.acks_late and task.reject_on_worker_lost

    def test_a_killed_worker_s_task_comes_back_within_minutes_not_an_hour(self):
        timeout = current_app.conf.broker_transport_options["visibility_timeout"]
        assert current_app.conf.task_time_limit < timeout <= 10 * 60


@pytest.mark.django_db
class StaleClearingTests:
    def test_a_successful_rollup_command_clears_the_mark(self, cast, today):
        stale_mark(plan=cast.plan, earliest=MARCH, reason="test")
        out = StringIO()
        call_command("rollup", stdout=out)
        assert not StaleRollup.objects.exists()
        assert "11/11 week of 2022-05-16" in out.getvalue()  # caught up from the week of 7 March

    def test_a_rollup_that_does_not_reach_back_far_enough_keeps_the_mark_and_says_so(self, cast, today):
        stale_mark(plan=cast.plan, earliest=MARCH, reason="test")
        out = StringIO()
        call_command("rollup", "--from", "2022-05-01", stdout=out)
        assert StaleRollup.objects.exists() and "--from 2022-03-07" in out.getvalue()
        call_command("rollup", "--from", "2022-03-01", stdout=out)
        assert not StaleRollup.objects.exists()

    def test_the_one_week_task_clears_a_mark_of_this_week(self, cast, today):
        stale_mark(plan=cast.plan, earliest=WEEK, reason="test")
        rollup_plan(cast.plan.pk)
        assert not StaleRollup.objects.exists()

    def test_the_sweep_catches_up_a_stale_plan(self, cast, today):
        rollup_plan(cast.plan.pk)
        add_figure(cast, 30)
        stale_mark(plan=cast.plan, earliest=WEEK, reason="test")
        assert rollup_stale() == [cast.plan.pk]
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual == 30
        assert not StaleRollup.objects.exists() and rollup_stale() == []

    def test_a_catch_up_of_last_years_plan_stops_at_its_last_week(self, cast, settings):
        from metrics.models import Rollup

        settings.PLANBOARD_TODAY = datetime.date(2023, 2, 15)  # the 2022 plan is last year's
        stale_mark(plan=cast.plan, earliest=datetime.date(2022, 12, 5), reason="test")
        assert rollup_stale() == [cast.plan.pk]
        weeks = sorted(Rollup.objects.filter(plan=cast.plan, level="plan").values_list("week", flat=True))
        # ISO 2022's weeks 49 to 52; 2 January 2023 starts ISO 2023, another plan's year.
        assert weeks == [datetime.date(2022, 12, 5) + datetime.timedelta(weeks=n) for n in range(4)]
        assert not StaleRollup.objects.exists()

    def test_the_weight_sums_migration_marks_every_rolled_up_plan_stale_from_its_first_week(self, cast, today):
        import importlib

        from django.apps import apps

        from metrics.rollup.services import rollup_plan_weeks

        migration = importlib.import_module("metrics.migrations.0015_rollup_weight_sums")
        rollup_plan_weeks(plan=cast.plan, first=MARCH, last=WEEK)
        stale_mark(plan=cast.plan, earliest=WEEK, reason="a later one")
        migration.mark_rolled_up_plans_stale(apps, None)
        stale = StaleRollup.objects.get(plan=cast.plan)
        assert stale.earliest_period == MARCH and stale.reason == "a later one"
        StaleRollup.objects.all().delete()
        migration.mark_rolled_up_plans_stale(apps, None)
        assert StaleRollup.objects.get(plan=cast.plan).earliest_period == MARCH

    def test_the_sweep_rolls_up_again_a_save_whose_rollup_vanished_without_a_trace(self, cast, today, settings):
        rollup_plan_range_all(cast)
        figure = add_figure(cast, 30)  # saved, and its roll-up lost (a broker restarted without persistence)
        Figure.objects.filter(pk=figure.pk).update(period_start=MARCH)  # a late edit: every week since counts
        settings.PLANBOARD_ROLLUP_LOST_AFTER = 0
        rollup_stale()
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual == 30
        assert IndicatorProgress.objects.get(week=MARCH, indicator=output(cast)).actual == 30
        assert not StaleRollup.objects.exists()

    def test_the_sweep_leaves_a_save_whose_rollup_may_still_come(self, cast, today):
        rollup_plan_range_all(cast)
        add_figure(cast, 30)
        assert services.rollup_recent_saves(plan=cast.plan, before=timezone.now() - datetime.timedelta(minutes=10)) == 0
        rollup_stale()  # saved seconds ago: its own roll-up is queued or being retried
        assert IndicatorProgress.objects.get(week=WEEK, indicator=output(cast)).actual in (None, 0)

    def test_a_failed_rollup_command_reports_the_error_and_marks_the_plan(self, cast, today):
        with mock.patch("metrics.rollup.services.rollup_week", side_effect=statement_timeout()):
            with pytest.raises(CommandError, match="statement timeout") as failed:
                call_command("rollup", "--from", "2022-05-01", stdout=StringIO())
        assert "marked stale" in str(failed.value) and "nothing was changed" in str(failed.value)
        assert StaleRollup.objects.get(plan=cast.plan).earliest_period == datetime.date(2022, 5, 1)


def rollup_plan_range_all(cast):
    call_command("rollup", "--from", "2022-01-01", stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class StatementTimeoutOnPostgresTests:
    def test_a_real_statement_timeout_is_not_retried(self, cast, today):
        assert connection.vendor == "postgresql"

        def slow(**kwargs):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '50ms'")
                cursor.execute("SELECT pg_sleep(1)")

        with mock.patch("metrics.tasks.rollup_touched", side_effect=slow):
            assert rollup_indicators.apply(incremental_args(cast), retries=0, throw=False).state == "FAILURE"
        assert "statement timeout" in StaleRollup.objects.get(plan=cast.plan).reason
