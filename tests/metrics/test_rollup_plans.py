"""The roll-up's query plans on PostgreSQL: a never-rolled week must not be planned from stale statistics.

When a week is rolled up for the first time, its progress rows are written and read back in the same
transaction, while the tables' statistics still describe the weeks before it: the planner expects one row
where there are thousands. With nested loops allowed it then chose them, and the first roll-up of a week
at a million figures ran for minutes instead of about a second. These tests read the plans PostgreSQL
chose for the statements that write the progress rows, as they run.
"""

import datetime
import json

import pytest
from django.db import connection, transaction

from actions.choices import SUMMED_KINDS
from actions.models import Plan
from metrics.models import DepartmentIndicatorProgress, Figure, IndicatorProgress, Rollup
from metrics.rollup.engine import Week, rollup_week
from tests.factories import seed_demo

TODAY = datetime.date(2022, 5, 20)
PROGRESS_TABLES = (IndicatorProgress._meta.db_table, DepartmentIndicatorProgress._meta.db_table)


def node_types(plan: dict) -> list[str]:
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first, but for a nested loop over the run's weeks.

    A run's statements take its weeks from a VALUES list (`weeks`), whose row count the planner knows
    exactly; a task's milestones are judged once per week of it, a product with no join condition, which
    only a nested loop computes. Such a loop repeats its other side once per week, whatever the estimates:
    it is not the danger these tests look for, and is not listed as a nested loop. Nor is the sort of a
    week's unit rows into unit order as they are written (`test_a_weeks_unit_rows_are_written_unit_by_unit`)
    a sort feeding an aggregate."""
    children = plan.get("Plans", [])
    node = plan["Node Type"]
    if node == "Nested Loop" and any(over_weeks(child) for child in children):
        node = "Nested Loop over the weeks"
    if node == "Sort" and plan.get("Sort Key") == ["measured.department_id", "measured.indicator_id"]:
        node = "Sort of the rows written"
    return [node, *(t for child in children for t in node_types(child))]


def over_weeks(plan: dict) -> bool:
    """Whether a plan node reads the run's weeks only (the CTE `weeks`, maybe materialized, or, where the run
    has one week and PostgreSQL folded the list into the statement, a Result of one constant row)."""
    if plan["Node Type"] == "Materialize":
        return over_weeks(plan["Plans"][0])
    if plan["Node Type"] == "Result" and not plan.get("Plans"):
        return True
    return plan["Node Type"] == "CTE Scan" and plan.get("CTE Name") == "weeks"


class PlanRecorder:
    """An execute wrapper that, before each statement writing (or deleting from) one of `tables`, asks
    PostgreSQL for the plan it would run the statement with (same transaction, same settings, same statistics)."""

    def __init__(self, tables=PROGRESS_TABLES):
        self.tables = tables
        self.plans = []
        self.raw = []

    def __call__(self, execute, sql, params, many, context):
        table = next((t for t in self.tables if f"INSERT INTO {t} " in sql or f"DELETE FROM {t} " in sql), None)
        if table:
            raw = context["cursor"].cursor  # the driver's cursor: no wrapper runs twice
            raw.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = raw.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            self.plans.append((table, node_types(plan[0]["Plan"])))
            self.raw.append((table, plan[0]["Plan"]))
        return execute(sql, params, many, context)


def loops_over(plan: dict, cte: str) -> bool:
    """Whether a nested loop of the plan repeats a scan of the CTE `cte` (maybe materialized) per outer row."""
    def reads(node):
        if node["Node Type"] == "Materialize":
            return reads(node["Plans"][0])
        return node["Node Type"] == "CTE Scan" and node.get("CTE Name") == cte

    children = plan.get("Plans", [])
    if plan["Node Type"] == "Nested Loop" and any(reads(child) for child in children[1:]):
        return True
    return any(loops_over(child, cte) for child in children)


def analyze_progress_tables():
    with connection.cursor() as cursor:
        for table in PROGRESS_TABLES:
            cursor.execute(f"ANALYZE {table}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class RollupPlanTests:
    @pytest.fixture
    def plan(self, settings):
        assert connection.vendor == "postgresql"
        settings.PLANBOARD_TODAY = TODAY
        seed_demo(verbosity=0)
        plan = Plan.objects.get(year=TODAY.year)
        # Statistics that know one rolled-up week only, as autovacuum leaves them after the first roll-up.
        rollup_week(Week.of(plan, datetime.date(2022, 1, 3), TODAY))
        analyze_progress_tables()
        return plan

    def test_it_writes_a_never_rolled_week_without_nested_loops(self, plan):
        recorder = PlanRecorder()
        with connection.execute_wrapper(recorder):
            rollup_week(Week.of(plan, datetime.date(2022, 3, 7), TODAY))
        written = {table for table, _ in recorder.plans}
        assert written == set(PROGRESS_TABLES)  # the recorder saw every step that writes them
        assert [(table, types) for table, types in recorder.plans if "Nested Loop" in types] == []
        # Nor a sort of the figures for a GroupAggregate, which spilled to disk where a hash aggregate did not.
        assert [(table, types) for table, types in recorder.plans if "Sort" in types] == []

    def test_it_rolls_up_a_never_rolled_weeks_tasks_actions_and_plan_without_nested_loops(self, plan):
        # The tasks' rows, the actions' (summed from them), the plan's, and the deletes of rows left without
        # parts: expecting one roll-up row of a fresh week where there are hundreds, the planner read the
        # week's task rows once per action's task (90 ms a week at 1 M figures, measured; about 52 times that in a year's catch-up).
        table = Rollup._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
        recorder = PlanRecorder(tables=(table,))
        with connection.execute_wrapper(recorder):
            rollup_week(Week.of(plan, datetime.date(2022, 3, 7), TODAY))
        assert len(recorder.plans) == 5  # tasks, their delete, actions, their delete, the plan
        # (The plan's row joins the week with two one-row sums, its actions' and its units' reporting: loops
        # over one row, whatever the estimates.)
        assert [types for _, types in recorder.plans[:4] if "Nested Loop" in types] == []

    def test_an_edits_incremental_run_adds_up_its_figures_without_nested_loops(self, plan):
        # An edit's unit rows: the planner, expecting one figure where the indicator has months of them,
        # looked each figure's reporting period up in a loop over the year's periods, and sorted them.
        from metrics.models import Figure
        from metrics.rollup.services import rollup_touched

        figure = Figure.objects.filter(period_start=datetime.date(2022, 1, 10)).exclude(value=None).first()
        rollup_week(Week.of(plan, datetime.date(2022, 5, 16), TODAY))  # every week since stored, then analysed
        for monday in (datetime.date(2022, 1, 10) + datetime.timedelta(days=7 * n) for n in range(18)):
            rollup_week(Week.of(plan, monday, TODAY))
        analyze_progress_tables()
        recorder = PlanRecorder()
        with connection.execute_wrapper(recorder):
            rollup_touched(plan=plan, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start])
        unit_rows = [plan for table, plan in recorder.raw if table == DepartmentIndicatorProgress._meta.db_table]
        assert len(unit_rows) == 1
        # (A nested loop remains where PostgreSQL has no other way: one indicator, by its id, beside its figures.)
        assert not loops_over(unit_rows[0], "periods")
        assert "Sort" not in node_types(unit_rows[0])

    def test_it_leaves_the_planner_as_it_was_for_the_rest_of_the_transaction(self, plan):
        # A range of weeks, or a catch-up, runs in one transaction; an edit's incremental roll-up reads a
        # few indicators through their indexes, so the whole-week rule must not outlive its steps.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('enable_sort')")
                before = cursor.fetchone()
                rollup_week(Week.of(plan, datetime.date(2022, 3, 7), TODAY))
                cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('enable_sort')")
                after = cursor.fetchone()
        assert before == after == ("on", "on")


def pages_of(week: datetime.date) -> dict:
    """The heap page of each unit row of the week: {(indicator, department): (page, as_of)}."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT indicator_id, department_id, (ctid::text::point)[0]::int, as_of"
            f" FROM {DepartmentIndicatorProgress._meta.db_table} WHERE week = %s",
            [week],
        )
        return {(indicator, department): (page, as_of) for indicator, department, page, as_of in cursor.fetchall()}


WEEK_IN_PROGRESS = datetime.date(2022, 5, 16)  # TODAY's week


@pytest.fixture
def demo_plan(settings):
    settings.PLANBOARD_TODAY = TODAY
    seed_demo(verbosity=0)
    return Plan.objects.get(year=TODAY.year)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_days_first_run_rewrites_every_unit_row_on_its_own_page(demo_plan):
    # The week in progress is rewritten once a day (every row's as-of day moves). A row rewritten on its own page
    # (a HOT update) writes no index entries: the unit rows' pages keep room for it (migration 0016). Full
    # pages would move every rewritten row to a new one, with an entry in each of the table's indexes.
    plan, monday = demo_plan, WEEK_IN_PROGRESS
    rollup_week(Week.of(plan, monday, TODAY - datetime.timedelta(days=1)))
    before = pages_of(monday)
    rollup_week(Week.of(plan, monday, TODAY))
    after = pages_of(monday)
    assert len(before) > 100  # rows over several pages
    assert len({page for page, _ in before.values()}) > 2
    assert {as_of for _, as_of in before.values()} == {TODAY - datetime.timedelta(days=1)}
    assert {as_of for _, as_of in after.values()} == {TODAY}  # every row rewritten
    # A page pruned of its dead versions later than a row needed the room may move that row: a few do.
    moved = [key for key in before if before[key][0] != after[key][0]]
    assert len(moved) <= len(before) // 20, f"{len(moved)} of {len(before)} rows moved to another page"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_weeks_unit_rows_are_written_unit_by_unit(demo_plan):
    # A unit's score reads its rows of each week of a run: written next to each other, they fill a few pages
    # instead of one page per indicator (an edit in January reads 52 weeks of them).
    plan, monday = demo_plan, WEEK_IN_PROGRESS
    DepartmentIndicatorProgress.objects.filter(week=monday).delete()
    rollup_week(Week.of(plan, monday, TODAY))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT department_id FROM {DepartmentIndicatorProgress._meta.db_table} WHERE week = %s ORDER BY ctid", [monday]
        )
        in_place = [department for (department,) in cursor.fetchall()]
    units = len(set(in_place))
    assert len(in_place) > 100 and units > 2
    # In the order they lie on the pages, each unit's rows come in one stretch (two where a page reused room).
    stretches = 1 + sum(1 for a, b in zip(in_place, in_place[1:]) if a != b)
    assert stretches <= units + 2, f"{units} units met in {stretches} stretches"


def row_versions(model, week: datetime.date) -> dict:
    """Each progress row of the week: {key: (xmin, xmax)}, the transaction that wrote it and the last that locked it."""
    keys = ["indicator_id", "department_id"] if model is DepartmentIndicatorProgress else ["indicator_id"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(keys)}, xmin::text, xmax::text FROM {model._meta.db_table} WHERE week = %s", [week])
        return {tuple(row[:-2]): tuple(row[-2:]) for row in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_hourly_run_writes_only_the_rows_that_changed_and_touches_no_other(demo_plan):
    # The hourly run meets the week as it left it an hour before: of its unit and indicator rows it rewrites
    # those a changed figure moved, and leaves every other one as it was, not even locked (ON CONFLICT … WHERE
    # locks each row it skips: the hourly run's unit rows, one by one).
    plan, monday = demo_plan, WEEK_IN_PROGRESS
    rollup_week(Week.of(plan, monday, TODAY))
    figure = (
        Figure.objects.filter(indicator__task__action__plan=plan, indicator__kind__in=SUMMED_KINDS, value__isnull=False,
                              period_start__lt=monday - datetime.timedelta(days=14))
        .order_by("pk").first()
    )
    unit_row = DepartmentIndicatorProgress.objects.filter(week=monday, indicator=figure.indicator_id, department=figure.department_id)
    actual = unit_row.get().actual
    figure.value += 1
    figure.save(update_fields=["value", "updated"])
    before = {model: row_versions(model, monday) for model in (DepartmentIndicatorProgress, IndicatorProgress)}
    rollup_week(Week.of(plan, monday, TODAY))
    changed = {DepartmentIndicatorProgress: (figure.indicator_id, figure.department_id), IndicatorProgress: (figure.indicator_id,)}
    for model, rows in before.items():
        after = row_versions(model, monday)
        assert after.keys() == rows.keys() and len(rows) > 10
        assert after[changed[model]][0] != rows[changed[model]][0], f"{model.__name__}: the changed row was not rewritten"
        touched = [key for key in rows if key != changed[model] and after[key] != rows[key]]
        assert not touched, f"{model.__name__}: {len(touched)} of {len(rows) - 1} unchanged rows written or locked"
    assert unit_row.get().actual == actual + 1
