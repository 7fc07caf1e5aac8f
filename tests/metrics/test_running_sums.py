"""Running sums: a week carried from the week before's stored sums is the week recomputed from the figures.

On PostgreSQL (exact NUMERIC sums) a range of weeks, and the weeks after a late edit, carry the running sums
of the week before (metrics.rollup.engine, `carry`); every week recomputed from the figures must leave
exactly the same rows, at every week of the demo year: amounts, counts, caps, rates, monthly figures, "not
applicable" ones, late and missing reports, the checkpoint week.
"""

import datetime
import json

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from actions.models import Plan
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, IndicatorProgress, MonthlyRanking, Rollup
from metrics.rollup.engine import Week, carries, rollup_week
from metrics.rollup.services import rollup_plan_weeks, rollup_touched
from tests.factories import seed_demo

MODELS = [IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore, MonthlyRanking]


def rows():
    out = {}
    for model in MODELS:
        out[model.__name__] = sorted(
            json.dumps({k: str(v) for k, v in model_to_dict(r).items() if k not in ("id", "computed_at", "frozen_at")}, sort_keys=True)
            for r in model.objects.all()
        )
    return out


def clear_rollups():
    for model in MODELS:
        model.objects.all().delete()


@pytest.fixture
def demo(db, settings):
    assert connection.vendor == "postgresql" and carries()
    settings.PLANBOARD_TODAY = datetime.date(2022, 7, 15)  # past the checkpoint: its week and the weeks after it
    seed_demo(verbosity=0)
    return Plan.objects.get(year=2022)


@pytest.mark.postgres
class RunningSumTests:
    def test_a_year_carried_week_by_week_is_the_year_recomputed_from_the_figures(self, demo):
        clear_rollups()
        weeks = rollup_plan_weeks(plan=demo, first=datetime.date(2022, 1, 1), last=datetime.date(2022, 7, 15))
        assert len(weeks) == 28
        carried = rows()
        assert len(carried["DepartmentIndicatorProgress"]) > 28 * 50
        clear_rollups()
        rollup_plan_weeks(plan=demo, first=datetime.date(2022, 1, 1), last=datetime.date(2022, 7, 15), from_figures=True)
        assert rows() == carried

    def test_the_weeks_after_a_late_edit_carried_are_the_weeks_recomputed(self, demo):
        for figure in (
            Figure.objects.filter(indicator__frequency="weekly", indicator__kind="amount", period_start=datetime.date(2022, 2, 7)).first(),
            Figure.objects.filter(indicator__frequency="monthly", period_start=datetime.date(2022, 3, 1)).exclude(value=None).first(),
        ):
            figure.value += 1000
            figure.save()
            rollup_touched(plan=demo, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start],
                           department_ids=[figure.department_id])
        touched = rows()
        # A full run moves supervision orders after the edit (and their deductions move the scores): compare
        # the progress rows with the incremental run's, and every row of a carried range with a recomputed one.
        year = {"plan": demo, "first": datetime.date(2022, 1, 1), "last": datetime.date(2022, 7, 15)}
        rollup_plan_weeks(**year)
        carried = rows()
        rollup_plan_weeks(**year, from_figures=True)
        recomputed = rows()
        assert recomputed == carried
        for model in (IndicatorProgress, DepartmentIndicatorProgress, Rollup):
            assert touched[model.__name__] == recomputed[model.__name__]

    def test_a_carried_week_reads_the_week_before_and_not_the_old_figures(self, demo):
        """The carry is really used: a figure of March changed behind the engine's back (no roll-up) is
        invisible to a carried week, and seen by the week recomputed from the figures."""
        week = Week.of(demo, datetime.date(2022, 5, 16), datetime.date(2022, 7, 15))
        figure = Figure.objects.filter(indicator__kind="amount", indicator__frequency="weekly", period_start=datetime.date(2022, 3, 7)).first()
        stored = DepartmentIndicatorProgress.objects.get(week=week.start, indicator=figure.indicator, department=figure.department)
        Figure.objects.filter(pk=figure.pk).update(value=figure.value + 500)
        rollup_week(week, carry=True)
        stored.refresh_from_db()
        carried_actual = stored.actual
        rollup_week(week)
        stored.refresh_from_db()
        assert stored.actual - carried_actual == 500


def test_rows_stored_with_an_empty_window_as_null_agree_with_the_figures_after_the_migration(db, settings):
    """Migration 0018: an amount's recent total was stored as null while its window held no amount; it is 0
    now (a running sum cannot tell the two apart). Rows stored before it must not look wrong to the nightly check."""
    import importlib

    from django.apps import apps

    from actions.choices import SUMMED_KINDS
    from metrics.rollup.services import rollup_verify

    settings.PLANBOARD_TODAY = datetime.date(2022, 7, 15)
    seed_demo(verbosity=0)
    plan = Plan.objects.get(year=2022)
    span = {"plan": plan, "first": datetime.date(2022, 1, 1), "last": datetime.date(2022, 7, 15)}
    assert rollup_verify(**span) == {}
    for model in (DepartmentIndicatorProgress, IndicatorProgress):
        empty = model.objects.filter(plan=plan, recent_total=0, indicator__kind__in=SUMMED_KINDS)
        assert empty.exists()
        empty.update(recent_total=None)  # as the engine stored them before
    assert rollup_verify(**span)
    importlib.import_module("metrics.migrations.0018_recent_total_zero").zero_empty_windows(apps, None)
    assert rollup_verify(**span) == {}
