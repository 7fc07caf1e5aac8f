"""Running roll-ups: idempotent, incremental equals full, late edits, scores and ranks, concurrency, catch-up."""

import datetime
import json
import re
import threading
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.forms.models import model_to_dict
from kombu.exceptions import OperationalError as BrokerError

from actions.models import Department, Indicator
from metrics.dashboards.selectors import indicator_progress
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    Figure,
    IndicatorProgress,
    Rollup,
    RollupCorrection,
    StaleRollup,
)
from metrics.rollup.engine import Week, rollup_week
from metrics.rollup.services import rollup_plan_catch_up, rollup_plan_weeks, rollup_repair, rollup_touched, rollup_verify
from metrics.tasks import rollup_plan, rollup_request
from tests.factories import seed_demo

TODAY = datetime.date(2022, 5, 20)
MODELS = [IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore]


def rows():
    """Every stored roll-up row, without ids and times of computation."""
    out = {}
    for model in MODELS:
        out[model.__name__] = sorted(
            json.dumps({k: str(v) for k, v in model_to_dict(r).items() if k not in ("id", "computed_at")}, sort_keys=True)
            for r in model.objects.all()
        )
    return out


@pytest.fixture
def demo(db, settings):
    settings.PLANBOARD_TODAY = TODAY
    seed_demo(verbosity=0)  # loads the 2022 plan, figures up to TODAY, and rolls up every week
    from actions.models import Plan

    return Plan.objects.get(year=2022)


class RollupRunTests:
    def test_running_it_twice_leaves_exactly_the_same_rows(self, demo):
        first = rows()
        assert all(first.values())
        rollup_plan_weeks(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY)
        assert rows() == first

    def test_every_week_since_january_is_kept(self, demo):
        weeks = sorted(set(Rollup.objects.filter(level="plan").values_list("week", flat=True)))
        assert weeks[0] == datetime.date(2022, 1, 3) and weeks[-1] == datetime.date(2022, 5, 16)
        assert len(weeks) == 20
        past = Rollup.objects.get(level="plan", week=datetime.date(2022, 3, 7))
        assert past.as_of == datetime.date(2022, 3, 13)

    def test_the_incremental_rollup_after_a_late_edit_equals_a_full_one(self, demo):
        figure = Figure.objects.filter(indicator__frequency="weekly", period_start=datetime.date(2022, 3, 7)).first()
        figure.value += 1000
        figure.save()
        weeks = rollup_touched(
            plan=demo, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start],
            department_ids=[figure.department_id],
        )
        assert weeks == 11  # the week of 7 March and every week after it
        incremental = rows()
        rollup_plan_weeks(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY, from_figures=True)
        assert rows() == incremental
        before = DepartmentIndicatorProgress.objects.get(
            week=datetime.date(2022, 2, 28), indicator=figure.indicator, department=figure.department
        )
        after = DepartmentIndicatorProgress.objects.get(week=datetime.date(2022, 3, 7), indicator=figure.indicator, department=figure.department)
        assert after.actual - before.actual >= 1000

    def test_the_weeks_after_a_late_edit_rolled_up_together_are_the_weeks_rolled_up_one_by_one(self, demo):
        """engine.rollup_weeks computes every week of a late edit in one statement per step; each week's
        ranks compare with the week before's, which the same statement computes. A late correction of a
        unit's March sheet that moves it up the ranking in the weeks after must leave what rolling the
        weeks up in order does."""
        march = datetime.date(2022, 3, 7)
        sheet = Figure.objects.filter(
            indicator__frequency="weekly", indicator__kind="amount", indicator__direction="higher", period_start=march,
        ).select_related("indicator")
        ranked = DepartmentScore.objects.filter(week=march, overall_rank__gt=3).order_by("-overall_rank")
        unit = max(ranked, key=lambda score: sheet.filter(department_id=score.department_id).count()).department
        ranks_before = dict(DepartmentScore.objects.filter(department=unit).values_list("week", "overall_rank"))
        for figure in sheet.filter(department=unit):
            figure.value = figure.indicator.annual_target  # the year's target in one week: ahead of schedule
            figure.save()
        touched = {
            "indicator_ids": sorted(sheet.filter(department=unit).values_list("indicator_id", flat=True)),
            "department_ids": [unit.pk],
        }
        rollup_touched(plan=demo, period_starts=[march], **touched)
        together = rows()
        ranks_after = dict(DepartmentScore.objects.filter(department=unit).values_list("week", "overall_rank"))
        moved = sorted(week for week in ranks_after if ranks_after[week] != ranks_before[week])
        assert len(moved) >= 2 and moved[0] >= march  # a wrong previous rank would show
        last = DepartmentScore.objects.get(department=unit, week=moved[-1])
        assert last.previous_overall_rank == ranks_after[moved[-1] - datetime.timedelta(weeks=1)]
        # Week by week, each reading the week before's ranks as just rewritten: what a wrong previous rank
        # stored by the run together would be corrected to.
        for monday in [march + datetime.timedelta(weeks=n) for n in range(11)]:
            rollup_week(Week.of(demo, monday, TODAY), **touched)
        assert rows() == together
        # And each week whole from the figures (without the supervision ladder, which a whole week's run
        # tells: it would issue orders for the new figures, and their deductions move the scores).
        for monday in [march + datetime.timedelta(weeks=n) for n in range(11)]:
            rollup_week(Week.of(demo, monday, TODAY), announce=False)
        assert rows() == together

    def test_after_a_late_edit_the_touched_weeks_go_together_and_a_never_rolled_week_whole_in_its_place(self, demo):
        """The weeks after a late edit that are stored as of their day take the touched indicators, together
        (one statement per step over all of them); a week rolled up whole (its plan row gone: never rolled)
        goes in its place in the order, from the figures (the week before it was partial), and the weeks
        after it together again."""
        Rollup.objects.filter(level="plan", week=datetime.date(2022, 4, 18)).delete()
        figure = Figure.objects.filter(indicator__frequency="weekly", period_start=datetime.date(2022, 4, 4)).first()
        runs = mock.Mock()
        with mock.patch("metrics.rollup.services.rollup_week", runs.week), mock.patch("metrics.rollup.services.rollup_weeks", runs.weeks):
            rollup_touched(plan=demo, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start])
        calls = []
        for name, args, kwargs in runs.mock_calls:
            if name == "weeks":
                calls.append(("touched", [w.start for w in args[0]], kwargs["indicator_ids"]))
            else:
                calls.append(("whole", args[0].start, kwargs["carry"]))
        monday = datetime.date(2022, 4, 25)
        assert calls == [
            ("touched", [datetime.date(2022, 4, 4), datetime.date(2022, 4, 11)], [figure.indicator_id]),  # from the edited week
            ("whole", datetime.date(2022, 4, 18), False),  # whole, after partial weeks: from the figures
            ("touched", [monday + datetime.timedelta(weeks=n) for n in range(4)], [figure.indicator_id]),
        ]

    def test_the_nightly_check_finds_a_week_that_disagrees_with_its_figures_and_repairs_it(self, demo, caplog):
        assert rollup_verify(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY) == {}
        # A figure of March changed behind the engine's back (a save whose roll-up was lost for good).
        figure = Figure.objects.filter(indicator__kind="amount", indicator__frequency="weekly", period_start=datetime.date(2022, 3, 7)).first()
        Figure.objects.filter(pk=figure.pk).update(value=figure.value + 500)
        may = {"week": datetime.date(2022, 5, 16), "indicator": figure.indicator, "department": figure.department}
        before = DepartmentIndicatorProgress.objects.get(**may).actual
        stored = rows()
        differing = rollup_verify(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY)
        assert min(differing) == datetime.date(2022, 3, 7) and set(differing) <= {
            datetime.date(2022, 3, 7) + datetime.timedelta(weeks=n) for n in range(11)}
        assert rows() == stored  # verifying changes nothing
        out = StringIO()
        call_command("rollup", "--verify", "--as-of", "2022-05-20", stdout=out)
        assert "week of 2022-03-07:" in out.getvalue() and "rolled up again from the week of 2022-03-07" in out.getvalue()
        assert "differed from its figures" in caplog.text
        correction = RollupCorrection.objects.get(plan=demo)
        assert correction.differing == {week.isoformat(): n for week, n in differing.items()}
        assert rollup_verify(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY) == {}
        assert DepartmentIndicatorProgress.objects.get(**may).actual - before == 500
        out = StringIO()
        call_command("rollup", "--verify", "--as-of", "2022-05-20", stdout=out)
        assert "agrees with its figures" in out.getvalue()
        assert RollupCorrection.objects.filter(plan=demo).count() == 1  # a check that finds nothing records nothing

    def test_the_pages_of_a_corrected_week_say_so(self, demo, client):
        figure = Figure.objects.filter(indicator__kind="amount", indicator__frequency="weekly", period_start=datetime.date(2022, 4, 4)).first()
        Figure.objects.filter(pk=figure.pk).update(value=figure.value + 500)
        differing = rollup_repair(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY)
        assert min(differing) == datetime.date(2022, 4, 4)
        client.force_login(get_user_model().objects.get(username="leader"))
        for url in ("/dashboards/", "/dashboards/actions/1/", "/dashboards/rankings/"):
            for week in (datetime.date(2022, 3, 28), *differing):
                html = client.get(url, {"week": week.isoformat()}).content.decode()
                marks = re.findall(r'data-corrected="(\d+)"', html)
                assert marks == ([str(differing[week])] if week in differing else []), (url, week)
        html = client.get("/dashboards/", {"week": "2022-04-04"}).content.decode()
        assert "夜间核对" in html

    def test_the_plans_row_is_the_weighted_mean_of_all_its_parts_and_the_sum_of_its_actions(self, demo):
        """The plan's row is summed from its actions' rows (their stored numerators and denominators): the same
        as averaging every part of the plan (each indicator with its weight, each task's milestones as one part
        of weight 1, 未报 indicators counted but not averaged), computed here from the stored indicator rows."""
        from actions.choices import IndicatorKind
        from actions.models import Milestone

        for week in (datetime.date(2022, 3, 7), datetime.date(2022, 5, 16)):
            plan_row = Rollup.objects.get(plan=demo, level="plan", week=week)
            actions = Rollup.objects.filter(plan=demo, level="action", week=week)
            assert plan_row.indicator_count == sum(a.indicator_count for a in actions)
            assert plan_row.red == sum(a.red for a in actions) and plan_row.missing == sum(a.missing for a in actions)
            parts = {"attainment": [], "completion": [], "schedule": []}
            for p in IndicatorProgress.objects.filter(plan=demo, week=week).select_related("indicator"):
                if p.indicator.kind == IndicatorKind.MILESTONE or p.light == "missing":
                    continue
                for mean in parts:
                    value = getattr(p, f"{mean}_pct")
                    if value is not None:
                        parts[mean].append((float(p.indicator.weight), value))
            milestones = {}
            for m in Milestone.objects.filter(task__action__plan=demo, planned_date__lte=plan_row.as_of):
                due, on_time = milestones.get(m.task_id, (0, 0))
                milestones[m.task_id] = (due + 1, on_time + (m.done_date is not None and m.done_date <= m.planned_date))
            for due, on_time in milestones.values():
                parts["attainment"].append((1, on_time * 100 / due))
                parts["completion"].append((1, on_time * 100 / due))
            for mean, values in parts.items():
                expected = sum(w * v for w, v in values) / sum(w for w, _ in values)
                assert getattr(plan_row, f"{mean}_pct") == pytest.approx(expected, rel=1e-9), (week, mean)
            assert len(parts["attainment"]) > 20

    def test_each_actions_row_counts_each_of_its_parts_once_even_after_a_task_lost_them(self, demo):
        """An action's row is summed from its top-level tasks' rows (each holds its sub-tasks' parts): it must
        count each indicator of the action once, as counted here from the indicators and their rows; a task
        whose indicators all moved to another task keeps no row, so that they are not counted twice."""
        from actions.choices import IndicatorKind
        from actions.models import Task
        from metrics.rollup.services import rollup_plan_week

        week = datetime.date(2022, 5, 16)

        def check():
            rows = Rollup.objects.filter(plan=demo, level="action", week=week).select_related("action")
            assert rows.count() == demo.actions.count()
            for row in rows:
                parts = IndicatorProgress.objects.filter(plan=demo, week=week, indicator__task__action=row.action).exclude(
                    indicator__kind=IndicatorKind.MILESTONE)
                assert row.indicator_count == parts.count() > 0
                assert (row.red, row.green) == (parts.filter(light="red").count(), parts.filter(light="green").count())
                assert row.figure_count == sum(p.figure_count for p in parts)

        check()
        task = Task.objects.filter(action__plan=demo, parent=None, subtasks=None, milestones=None).exclude(indicators=None).first()
        sibling = Task.objects.filter(action=task.action, parent=None).exclude(pk=task.pk).first()
        assert Rollup.objects.filter(plan=demo, week=week, task=task).exists()
        Indicator.objects.filter(task=task).update(task=sibling)
        rollup_plan_week(plan=demo, day=week)
        assert not Rollup.objects.filter(plan=demo, week=week, task=task).exists()
        check()

    def test_an_edit_never_sums_action_rows_stored_before_the_sums_were(self, demo):
        """Rows rolled up before migration 0015 have means without numerators and denominators: an incremental
        run leaves the plan's row as it was (it would otherwise be the touched action's alone); the next
        whole run of the week rewrites every action and the plan's row is right again."""
        week = datetime.date(2022, 5, 16)
        Rollup.objects.filter(plan=demo, week=week, level="action").update(
            attainment_num=None, attainment_den=None, completion_num=None, completion_den=None, schedule_num=None,
            schedule_den=None)
        before = model_to_dict(Rollup.objects.get(plan=demo, week=week, level="plan"))
        figure = Figure.objects.filter(indicator__kind="amount", indicator__frequency="weekly", period_start=week).first()
        figure.value += 1000
        figure.save()
        rollup_touched(plan=demo, indicator_ids=[figure.indicator_id], period_starts=[week], department_ids=[figure.department_id])
        assert model_to_dict(Rollup.objects.get(plan=demo, week=week, level="plan")) == before
        rollup_plan_weeks(plan=demo, first=week, last=TODAY)
        after = rows()
        rollup_plan_weeks(plan=demo, first=datetime.date(2022, 1, 1), last=TODAY, from_figures=True)
        assert rows() == after

    def test_departments_are_scored_and_ranked_with_rank_changes(self, demo):
        week = datetime.date(2022, 5, 16)
        scores = list(DepartmentScore.objects.filter(week=week).select_related("department").order_by("overall_rank"))
        assert len(scores) == Department.objects.count()
        assert [s.overall_rank for s in scores] == sorted(s.overall_rank for s in scores) and scores[0].overall_rank == 1
        assert all(a.score >= b.score for a, b in zip(scores, scores[1:]))
        for kind in {s.department.kind for s in scores}:  # each league is ranked on its own, in score order
            league = [s for s in scores if s.department.kind == kind]
            assert [s.rank for s in league] == sorted(s.rank for s in league) and league[0].rank == 1
        assert any(s.rank_change for s in scores), "some departments should have moved since last week"
        for s in scores:
            previous = DepartmentScore.objects.get(week=week - datetime.timedelta(days=7), department=s.department)
            assert (s.previous_rank, s.previous_overall_rank) == (previous.rank, previous.overall_rank)
            assert s.cells_entered <= s.cells_due and s.cells_on_time <= s.cells_entered
            assert s.period_entered <= s.period_due

    def test_completeness_and_timeliness_follow_what_was_entered_and_when(self, demo):
        week = datetime.date(2022, 5, 16)
        score = DepartmentScore.objects.get(week=week, department__code="ecology")
        figures = Figure.objects.filter(department=score.department, indicator__task__action__plan=demo)
        late = figures.filter(period_start=datetime.date(2022, 5, 9), indicator__frequency="weekly").first()
        late.entered_at = datetime.datetime(2022, 5, 19, 9, tzinfo=datetime.UTC)  # due Friday 13 May
        late.save()
        rollup_week(Week.of(demo, week, TODAY))
        again = DepartmentScore.objects.get(week=week, department=score.department)
        assert again.cells_on_time == score.cells_on_time - 1 and again.cells_entered == score.cells_entered
        late.delete()
        rollup_week(Week.of(demo, week, TODAY))
        again = DepartmentScore.objects.get(week=week, department=score.department)
        assert again.cells_entered == score.cells_entered - 1 and again.cells_due == score.cells_due
        assert again.completeness_pct == pytest.approx(again.cells_entered * 100 / again.cells_due)

    def test_a_broker_outage_is_caught_up_by_the_next_full_run(self, demo):
        figure = Figure.objects.filter(indicator__frequency="weekly", period_start=datetime.date(2022, 4, 4)).first()
        old = IndicatorProgress.objects.get(week=datetime.date(2022, 4, 4), indicator=figure.indicator).actual
        figure.value += 500
        figure.save()
        with mock.patch("metrics.tasks.rollup_indicators.delay", side_effect=BrokerError("down")):
            assert not rollup_request(plan=demo, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start])
        assert StaleRollup.objects.get().earliest_period == datetime.date(2022, 4, 4)
        assert IndicatorProgress.objects.get(week=datetime.date(2022, 4, 4), indicator=figure.indicator).actual == old
        rollup_plan_catch_up(plan=demo)
        assert not StaleRollup.objects.exists()
        assert IndicatorProgress.objects.get(week=datetime.date(2022, 4, 4), indicator=figure.indicator).actual == old + 500


class ProgressReportTests:
    def test_it_prints_the_stored_rows_as_the_pages_format_them(self, demo):
        out = StringIO()
        call_command("progress_report", "--as-of", "2022-05-20", "--format", "json", stdout=out)
        data = json.loads(out.getvalue())
        assert len(data) == Indicator.objects.count()
        stored = {p.indicator_id: p for p in indicator_progress(plan=demo, week=datetime.date(2022, 5, 16))}
        for row in data:
            progress = stored[row["indicator_id"]]
            assert row["light"] == progress.light
            assert row["completion_pct"] == ("—" if progress.completion_pct is None else f"{progress.completion_pct:.1f}")
        required = {"indicator_id", "action_number", "task", "indicator", "unit", "kind", "annual_target", "actual",
                    "completion_pct", "schedule_pct", "gap_pp", "light", "half_year_status"}
        assert required <= set(data[0])

    def test_csv_has_one_row_per_indicator(self, demo):
        out = StringIO()
        call_command("progress_report", "--as-of", "2022-03-09", "--format", "csv", stdout=out)
        lines = out.getvalue().strip().splitlines()
        assert lines[0].startswith("indicator_id,action_number,task,indicator,unit,kind,annual_target,actual")
        assert len(lines) == 1 + Indicator.objects.count()
        assert all(",2022-03-07," in line for line in lines[1:])

    def test_rollup_command_recomputes_a_range_with_a_progress_bar(self, demo):
        out = StringIO()
        call_command("rollup", "--from", "2022-05-01", "--as-of", "2022-05-20", stdout=out)
        assert "4/4 week of 2022-05-16" in out.getvalue()  # 1 May is the Sunday of the week of 25 April

    def test_rollup_from_figures_recomputes_every_week_and_leaves_the_same_rows(self, demo):
        before = rows()
        with mock.patch("metrics.rollup.services.rollup_week") as rollup_week_:
            call_command("rollup", "--from", "2022-05-01", "--as-of", "2022-05-20", "--from-figures", stdout=StringIO())
        assert [c.kwargs["carry"] for c in rollup_week_.call_args_list] == [False] * 4
        with mock.patch("metrics.rollup.services.rollup_week") as rollup_week_:
            call_command("rollup", "--from", "2022-05-01", "--as-of", "2022-05-20", stdout=StringIO())
        assert [c.kwargs["carry"] for c in rollup_week_.call_args_list] == [False, True, True, True]
        call_command("rollup", "--from", "2022-01-01", "--as-of", "2022-05-20", "--from-figures", stdout=StringIO())
        assert rows() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class ConcurrentRollupTests:
    """Two workers rolling up the same plan and week at once (PostgreSQL only: SQLite has one writer)."""

    def test_two_workers_at_once_leave_the_same_rows_as_one(self, settings):
        assert connection.vendor == "postgresql"
        settings.PLANBOARD_TODAY = TODAY
        seed_demo(verbosity=0)
        expected = rows()
        errors = []

        def worker():
            try:
                rollup_plan(Indicator.objects.first().task.action.plan_id, TODAY.isoformat())
            except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert rows() == expected


class NightlyCheckTaskTests:
    def test_the_beat_runs_the_check_of_the_current_plan(self, demo, settings):
        from django.conf import settings as conf

        from metrics.tasks import verify_current_plan

        assert conf.CELERY_BEAT_SCHEDULE["rollup-verify-nightly"]["task"] == "metrics.tasks.verify_current_plan"
        assert verify_current_plan.delay().get() == {"plan": demo.pk, "differing": {}}


@pytest.mark.django_db
def test_deleting_a_unit_or_a_plan_deletes_their_department_rows(settings):
    """The database checks only a department row's indicator (metrics.models.DepartmentIndicatorProgress):
    deleting a unit or a plan through Django must still leave none of their rows behind."""
    from actions.models import IndicatorDepartment, Plan
    from tests.factories import load_small_plan

    settings.PLANBOARD_TODAY = datetime.date(2022, 3, 9)
    plan = load_small_plan()
    # Not announced: supervision orders would protect the unit.
    rollup_week(Week.of(plan, datetime.date(2022, 3, 7), settings.PLANBOARD_TODAY), announce=False)
    unit = Department.objects.get(code="dept-b")
    assert DepartmentIndicatorProgress.objects.filter(department_id=unit.pk).count() == 8

    IndicatorDepartment.objects.filter(department=unit).delete()  # a unit assigned to an indicator is protected
    unit.delete()
    assert not DepartmentIndicatorProgress.objects.filter(department_id=unit.pk).exists()
    assert DepartmentIndicatorProgress.objects.filter(plan=plan).count() == 8

    Plan.objects.filter(pk=plan.pk).delete()
    assert not DepartmentIndicatorProgress.objects.filter(plan_id=plan.pk).exists()
