"""The roll-up engine: 双过半 math, lights, pace, roll-ups and department scores, as set-based SQL.

Everything is computed for one plan and a set of as-of weeks (one, or every week after a late edit), and
stored in rows keyed by (week, subject), written by upserts (INSERT … SELECT … ON CONFLICT DO UPDATE), so
that running a roll-up twice, or in two workers at once, leaves the same rows. Figures are never looped over
in Python: each step is one SQL statement over sets, its weeks and what each is judged on given as VALUES
lists (`_inputs_sql`). The statements run unchanged on PostgreSQL and SQLite.

The rules (see shared/DOMAIN.md):

* as_of: the day figures are judged on (actions.schedule.judged_on) — the week's Sunday for past weeks,
  today for the week in progress, the checkpoint for the checkpoint's week once it has passed.
* Which figures count: weekly ones of every ISO week that has started by as_of (`cutoff` is the as-of
  week's Monday); monthly ones of every month that has ended by as_of.
* Schedule (序时进度): actions.schedule, the one definition; its shares reach the SQL as parameters.
* Completion, by kind:
  - amount / count: cumulative actual ÷ target. Gap = completion − schedule (points). Lower-is-better
    (a cap such as accidents): completion is the share of the allowance used, gap = schedule − completion.
  - growth rate / ratio: the latest reported year-to-date rate against the target rate; the gap is
    actual − target in percentage points (target − actual when lower is better), never divided by 50 %.
    The indicator-wide rate is the named department's (`rate_department`, e.g. the statistics bureau),
    else the mean of the departments' latest rates.
  - milestone: nodes done on time ÷ nodes due (the task's milestones); gap = completion − 100.
* Against schedule (attainment, 100 = exactly on schedule, capped at 150 so one runaway figure cannot
  hide others): completion ÷ schedule for amounts and counts, (2 − used ÷ schedule) for caps, actual ÷
  target for rates (target ÷ actual when lower is better), completion for milestones. Tasks, actions and
  the plan average it weighted by indicator weight; a task's milestones count as one more part of weight 1.
* Light (亮灯): green when the gap ≥ 0; yellow up to the plan's threshold behind (points; rates have
  their own); red beyond. Milestones: red when a node due is not done, yellow when one was done late or
  an open one falls due within the plan's warning days. A task, an action and the plan get their own
  light from their weighted attainment by one rule (`aggregate_light_sql`), stored with the roll-up.
* 双过半 at the checkpoint: amounts and counts at least 50 % of the target (caps: at most 50 % used), rates
  at or above target, every milestone due by then done. Pending before the checkpoint.
* Pace (amounts and counts, higher is better): recent pace = the mean amount of the last four periods;
  the pace needed = what is missing for 50 % (100 %) ÷ periods left to the checkpoint (year end);
  forecast at the checkpoint = actual + recent pace × periods left (run-rate); alert when the pace
  needed exceeds the plan's multiple of the recent pace.
* Where a value cannot be computed it stays empty and `reason` says why (no target, zero target, no
  share, no figures, all not applicable, no period closed yet, schedule not started, no milestone due).
* Sub-tasks (the speech's second level): a task that groups sub-tasks rolls up its own parts and all
  of its sub-tasks' parts; actions and the plan count every part once.
* Running sums: a range of whole weeks rolled up in order (a catch-up, `rollup --from`) carries each
  week's cumulative amounts and counts from the week before's stored rows, just written by the same run,
  plus the figures of the periods since (`carry`, PostgreSQL); a single week's run recomputes from the
  figures. Both leave the same rows (tests/metrics/test_running_sums.py). The weeks after a late edit are
  computed together for the touched indicators, from their figures (`rollup_weeks`): a few indicators'
  figures cost less to add up again than 52 statements cost to plan.
* Unit score (比武打擂, step 5): the plan-weighted mean of the parts a unit has — its own indicators
  against schedule (capped at 100), the tasks it leads against schedule (their stored task roll-ups,
  capped at 100, each once), milestones of its tasks on time, its reports on time — scaled to the
  weights' sum, minus the plan's penalty per red light (its own and its led tasks'). Ranked within its league (its kind: 部门, 园区,
  街道·镇) and among all units. A month's ranking is frozen (MonthlyRanking) when the first week of the
  next month is rolled up, and never rewritten.
"""

import datetime
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from actions.choices import SUMMED_KINDS, Direction, Frequency, IndicatorKind
from actions.models import Department, Indicator, Plan
from actions.schedule import add_months, judged_on, months_ended, plain_share, schedule_share
from metrics.choices import HalfYearStatus, Light, OrderLevel, OrderStatus, Reason, RollupLevel
from metrics.models import (
    DepartmentIndicatorProgress,
    DepartmentScore,
    IndicatorProgress,
    Interview,
    MonthlyRanking,
    OrderEvent,
    Rollup,
    SupervisionOrder,
)
from planboard import clock
from planboard.periods import due_at, period_start, periods_until, reporting_period

T = {
    "figure": "metrics_figure",
    "indicator": "actions_indicator",
    "assignment": "actions_indicatordepartment",
    "task": "actions_task",
    "action": "actions_action",
    "milestone": "actions_milestone",
    "prog": IndicatorProgress._meta.db_table,
    "dprog": DepartmentIndicatorProgress._meta.db_table,
    "rollup": Rollup._meta.db_table,
    "score": DepartmentScore._meta.db_table,
    "monthly": MonthlyRanking._meta.db_table,
    "department": Department._meta.db_table,
    "order": SupervisionOrder._meta.db_table,
    "order_event": OrderEvent._meta.db_table,
    "interview": Interview._meta.db_table,
}


def sql_literal(value: str) -> str:
    """A choice's value as an SQL string literal: the SQL below never spells a choice by hand."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values) -> str:
    return "(" + ", ".join(sql_literal(v) for v in sorted(values)) + ")"


SUMMED = sql_list(SUMMED_KINDS)
RATES = sql_list([IndicatorKind.GROWTH_RATE, IndicatorKind.RATIO])
MILESTONE = sql_literal(IndicatorKind.MILESTONE)
HIGHER, LOWER = sql_literal(Direction.HIGHER), sql_literal(Direction.LOWER)
GREEN, YELLOW, RED, MISSING, NONE = (
    sql_literal(light) for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.MISSING, Light.NONE)
)
MET, NOT_MET, PENDING, HALF_NONE = (
    sql_literal(status) for status in (HalfYearStatus.MET, HalfYearStatus.NOT_MET, HalfYearStatus.PENDING, HalfYearStatus.NONE)
)
NO_REASON = sql_literal(Reason.NONE)
R = type("Reasons", (), {reason.name: sql_literal(reason) for reason in Reason})
PLAN_LEVEL = sql_literal(RollupLevel.PLAN)
TASK_LEVEL = sql_literal(RollupLevel.TASK)
MILESTONE_PART = "'milestones'"  # marks a task's milestones among its parts (never stored)
CAP = 150.0  # attainment cap, percent
EPS = 1e-9  # float noise when comparing gaps with zero


@dataclass(frozen=True)
class Week:
    """One as-of week of a plan: its Monday, and the day its figures are judged on."""

    plan: Plan
    start: datetime.date
    as_of: datetime.date

    @classmethod
    def of(cls, plan: Plan, day: datetime.date, today: datetime.date) -> "Week":
        start = period_start(day, Frequency.WEEKLY)
        return cls(plan=plan, start=start, as_of=judged_on(week_start=start, today=today, checkpoint=plan.checkpoint))

    @property
    def checkpoint_passed(self) -> bool:
        return self.as_of >= self.plan.checkpoint

    @property
    def previous(self) -> datetime.date:
        return self.start - datetime.timedelta(days=7)


# ---------------------------------------------------------------------------------------------------
# Step 1 (per indicator, not per figure): the schedule inputs.


def _frequency_inputs(frequency: str, week: Week) -> dict:
    """Which periods count and the periods left: the same for every indicator of a frequency."""
    plan, year = week.plan, week.plan.year
    checkpoint = plan.checkpoint
    if frequency == Frequency.WEEKLY:
        weeks = periods_until(year, Frequency.WEEKLY, datetime.date(year, 12, 31))
        first_week, last_week = weeks[0], weeks[-1]
        cutoff = min(week.start, last_week) if week.start >= first_week else None
        checkpoint_cutoff = period_start(checkpoint, Frequency.WEEKLY)
        if cutoff:
            recent_from = max(cutoff - datetime.timedelta(days=21), first_week)
            recent_periods = (cutoff - recent_from).days // 7 + 1
            left_half = max((checkpoint_cutoff - cutoff).days // 7, 0)
            left_year = max((last_week - cutoff).days // 7, 0)
        else:
            recent_from, recent_periods = None, 0
            left_half = (checkpoint_cutoff - first_week).days // 7 + 1
            left_year = len(weeks)
    else:
        months = months_ended(week.as_of, year)
        cutoff = datetime.date(year, months, 1) if months else None
        checkpoint_months = months_ended(checkpoint, year)
        checkpoint_cutoff = datetime.date(year, checkpoint_months, 1) if checkpoint_months else None
        recent_from = max(add_months(cutoff, -3), datetime.date(year, 1, 1)) if cutoff else None
        recent_periods = (cutoff.month - recent_from.month + 1) if cutoff else 0
        left_half = max(checkpoint_months - months, 0)
        left_year = 12 - months
    return {
        "cutoff": cutoff,
        "checkpoint_cutoff": checkpoint_cutoff,
        "recent_from": recent_from,
        "recent_periods": recent_periods,
        "left_half": left_half,
        "left_year": left_year,
        "share": plain_share(frequency=frequency, year=year, day=week.as_of),
    }


def judged_until(week: Week) -> datetime.datetime:
    """Reports count as due (and missing, 未报) once their deadline has passed by this moment: the end of the
    judged-on day, or now while that day is today (a report due at 17:00 is not missing at 10:00)."""
    end = timezone.make_aware(datetime.datetime.combine(week.as_of, datetime.time.max))
    return min(end, clock.now()) if week.as_of >= clock.today() else end


def _typed(value, sql_type: str, *, cast: bool | None = None) -> str:
    """A placeholder, cast on PostgreSQL (VALUES lists need their types said; NULLs have none)."""
    if cast is None:
        cast = connection.vendor == "postgresql"
    return f"CAST({value} AS {sql_type})" if cast else value


class _Values:
    """Builds a VALUES list with named parameters adapted for the database."""

    def __init__(self, prefix: str):
        self.prefix, self.rows, self.params = prefix, [], {}
        # Looked up once: each lookup through the connection proxy costs more than the cell it serves.
        self.ops, self.cast = connection.ops, connection.vendor == "postgresql"

    def add(self, *cells) -> None:
        ops, row = self.ops, []
        for cell in cells:
            name = f"{self.prefix}{len(self.params)}"
            value, sql_type = cell
            if sql_type == "DATE":
                value = ops.adapt_datefield_value(value)
            elif sql_type == "TIMESTAMPTZ":
                value = ops.adapt_datetimefield_value(value)
            self.params[name] = value
            row.append(_typed(f"%({name})s", sql_type, cast=self.cast))
        self.rows.append(f"({', '.join(row)})")

    @property
    def sql(self) -> str:
        return ",\n    ".join(self.rows)


@functools.lru_cache(maxsize=64)
def _year_periods(year: int, weekday: int, due_time: datetime.time, monthly_day: int, tz: str) -> dict:
    """Every reporting period of a year with its due time, per frequency (pure; cached per cadence)."""
    cadence = Plan(year=year, report_weekday=weekday, report_due_time=due_time, monthly_report_day=monthly_day)
    year_end = datetime.date(year, 12, 31)
    with timezone.override(tz):
        return {
            frequency: [(start, due_at(cadence, start, frequency)) for start in periods_until(year, frequency, year_end)]
            for frequency in (Frequency.WEEKLY, Frequency.MONTHLY)
        }


def _periods_of(week: Week) -> dict:
    plan = week.plan
    return _year_periods(
        plan.year, plan.report_weekday, plan.report_due_time, plan.monthly_report_day, timezone.get_current_timezone_name()
    )


def _due_by_now(week: Week, frequency: str) -> list[datetime.date]:
    """The periods of a frequency whose report was due by the end of the as-of day (judged_until)."""
    as_of_end = judged_until(week)
    return [start for start, due in _periods_of(week)[frequency] if due <= as_of_end]


def _latest_due(week: Week, frequency: str) -> datetime.date | None:
    return max(_due_by_now(week, frequency), default=None)


def _weeks_values(weeks: list[Week]) -> tuple[str, dict]:
    """weeks(week, previous, as_of, as_of_end, soon, cp_passed): the as-of weeks a run computes, with what
    each is judged on (as_of_end: judged_until; soon: the end of the milestones' warning window)."""
    values = _Values("wk")
    for week in weeks:
        soon = week.as_of + datetime.timedelta(days=week.plan.deadline_warning_days)
        values.add(
            (week.start, "DATE"), (week.previous, "DATE"), (week.as_of, "DATE"), (judged_until(week), "TIMESTAMPTZ"),
            (soon, "DATE"), (week.checkpoint_passed, "BOOLEAN"),
        )
    return values.sql, values.params


def _days_in(days: list[datetime.date], prefix: str) -> tuple[str, dict]:
    """Days as an SQL list, `(…)`: a stored table's rows of the run's weeks (or of the weeks before them) are
    filtered on it directly, a condition on the table alone that its index on the week serves. A join to
    `weeks` alone would read every week's rows: the hash planner (HASH_PLANNER), without nested loops, hashes them all."""
    ops = connection.ops
    listed = {f"{prefix}{n}": ops.adapt_datefield_value(day) for n, day in enumerate(days)}
    return "(" + ", ".join(_typed(f"%({name})s", "DATE") for name in listed) + ")", listed


def _frequency_values(weeks: list[Week]) -> tuple[str, dict]:
    """freq(week, frequency, cutoff, cp_cutoff, recent_from, recent_periods, left_half, left_year, share, cells_due,
    latest_due, current_period, as_of_end), per week and frequency: latest_due is the latest period whose report
    was due by the end of the as-of day, current_period the period the as-of day falls in."""
    values = _Values("fq")
    for week in weeks:
        as_of_end = judged_until(week)
        for frequency in (Frequency.WEEKLY, Frequency.MONTHLY):
            i = _frequency_inputs(frequency, week)
            due_by_now = _due_by_now(week, frequency)
            cells_due = len(due_by_now)
            values.add(
                (week.start, "DATE"), (frequency.value, "VARCHAR(10)"), (i["cutoff"], "DATE"), (i["checkpoint_cutoff"], "DATE"),
                (i["recent_from"], "DATE"), (i["recent_periods"], "INTEGER"), (i["left_half"], "INTEGER"),
                (i["left_year"], "INTEGER"), (i["share"], "DOUBLE PRECISION"), (cells_due, "INTEGER"),
                (max(due_by_now, default=None), "DATE"), (reporting_period(week.as_of, frequency), "DATE"),
                (as_of_end, "TIMESTAMPTZ"),
            )
    return values.sql, values.params


def _periods_values(plan_week: Week) -> tuple[str, dict]:
    """periods(frequency, period_start, due): every reporting period of the plan's year."""
    values = _Values("pd")
    for frequency, periods in _periods_of(plan_week).items():
        for start, due in periods:
            values.add((frequency.value, "VARCHAR(10)"), (start, "DATE"), (due, "TIMESTAMPTZ"))
    return values.sql, values.params


def _phased_values(weeks: list[Week], indicator_ids) -> tuple[str, dict]:
    """phased(week, indicator_id, share): the schedule share of indicators with phased monthly targets."""
    values = _Values("ph")
    values.add((weeks[0].start, "DATE"), (0, "BIGINT"), (0.0, "DOUBLE PRECISION"))  # VALUES cannot be empty
    plan = weeks[0].plan
    phased = Indicator.objects.filter(
        task__action__plan=plan, kind__in=SUMMED_KINDS, monthly_targets__isnull=False, annual_target__gt=0
    ).order_by()
    if indicator_ids is not None:
        phased = phased.filter(pk__in=indicator_ids)
    for indicator in phased:
        for week in weeks:
            values.add((week.start, "DATE"), (indicator.pk, "BIGINT"), (schedule_share(indicator, plan.year, week.as_of), "DOUBLE PRECISION"))
    return values.sql, values.params


FREQ_COLUMNS = "week, frequency, cutoff, cp_cutoff, recent_from, recent_periods, left_half, left_year, share, cells_due, latest_due, current_period, as_of_end"


def _inputs_sql(params: dict, *, freq: bool = False, periods: bool = False, phased: bool = False) -> str:
    """The run's inputs as the first CTEs of a statement: its weeks, and per week what a step needs."""
    ctes = [f"weeks(week, previous, as_of, as_of_end, soon, cp_passed) AS (VALUES\n    {params['weeks_sql']}\n),"]
    if freq:
        ctes.append(f"freq({FREQ_COLUMNS}) AS (VALUES\n    {params['freq_sql']}\n),")
    if periods:
        ctes.append(f"periods(frequency, period_start, due) AS MATERIALIZED (VALUES\n    {params['periods_sql']}\n),")
    if phased:
        ctes.append(f"phased(week, indicator_id, share) AS (VALUES\n    {params['phased_sql']}\n),")
    return "\n".join(ctes)


def _write_inputs(params: dict, only: str, *, stored: bool = False) -> None:
    """Step 1: one IndicatorProgress row per indicator with the schedule inputs (measures come later).
    `stored`: as in `_department_rows`."""
    columns = [
        "plan_id", "week", "as_of", "computed_at", "indicator_id", "departments_expected", "departments_reported",
        "target", "cutoff", "checkpoint_cutoff", "recent_from", "recent_periods", "periods_left_half",
        "periods_left_year", "schedule_share", "checkpoint_passed", "latest_due", "figure_count", "na_count", "light",
        "half_year_status", "pace_alert", "reason", "data_complete",
    ]
    inputs = columns[7:17]
    keys, updated = ["week", "indicator_id"], ["plan_id", "as_of", "computed_at", "departments_expected", *inputs]
    rows = f"""SELECT %(plan)s AS plan_id, w.week, w.as_of, %(now)s AS computed_at, i.id AS indicator_id,
  COALESCE(counts.n, 0) AS departments_expected, 0 AS departments_reported,
  i.annual_target AS target, freq.cutoff, freq.cp_cutoff AS checkpoint_cutoff, freq.recent_from, freq.recent_periods,
  freq.left_half AS periods_left_half, freq.left_year AS periods_left_year,
  COALESCE(phased.share, freq.share) AS schedule_share, w.cp_passed AS checkpoint_passed, freq.latest_due,
  0 AS figure_count, 0 AS na_count, {NONE} AS light, {HALF_NONE} AS half_year_status, FALSE AS pace_alert,
  {NO_REASON} AS reason, TRUE AS data_complete
FROM {T["indicator"]} i
JOIN {T["task"]} t ON t.id = i.task_id
JOIN {T["action"]} ac ON ac.id = t.action_id
JOIN freq ON freq.frequency = i.frequency
JOIN weeks w ON w.week = freq.week
LEFT JOIN phased ON phased.indicator_id = i.id AND phased.week = freq.week
LEFT JOIN counts ON counts.indicator_id = i.id
WHERE ac.plan_id = %(plan)s {only.replace("p.indicator_id", "i.id")}"""
    if stored:
        rows = _changed_only(rows, model=IndicatorProgress, keys=keys, columns=updated, weeks_in=params["weeks_in_sql"])
    sql = f"""
WITH
{_inputs_sql(params, freq=True, phased=True)}
counts AS (
  SELECT a.indicator_id, COUNT(*) AS n FROM {T["assignment"]} a GROUP BY a.indicator_id
)
INSERT INTO {T["prog"]} ({", ".join(columns)})
{rows}
{_upsert_clause(keys, updated, table=T["prog"])}
"""
    _execute(sql, params)


def _execute(sql: str, params: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, {k: v for k, v in params.items() if not k.endswith("_sql")})


# ---------------------------------------------------------------------------------------------------
# Step 2: the measures, one SQL statement per table. `base` supplies the inputs of every row.

MEASURE_COLUMNS = [
    "target", "target_to_date", "actual", "checkpoint_actual", "recent_total", "figure_count", "na_count",
    "completion_pct", "schedule_pct", "gap_pp", "attainment_pct", "light", "half_year_status",
    "recent_pace", "required_pace_half", "required_pace_year", "forecast_checkpoint", "pace_alert", "reason",
]


def _clamp(expr: str) -> str:
    return f"(CASE WHEN ({expr}) < 0 THEN 0.0 WHEN ({expr}) > {CAP} THEN {CAP} ELSE ({expr}) END)"


# From a CTE `base` with: kind, direction, target, actual, cp_actual, recent_total, n, na, share,
# cp_passed, recent_periods, left_half, left_year, no_cutoff, no_share, ms_due, ms_on_time, ms_overdue,
# ms_late, ms_due_soon, cp_ms_overdue, missing (1: a report of the latest due period is missing); to the
# measure columns.
# The three steps are MATERIALIZED: each refers to the one before by name many times, and inlined, every
# reference would copy the expression below it (`completion` into every CASE of `gap`, `gap` into every CASE of
# the light…). The copies cost more to plan than an incremental run's rows cost to compute (13 ms of planning
# against 8 ms of execution for one indicator) and are evaluated again for every row of a full run.
MEASURES_SQL = f"""
calc AS MATERIALIZED (
  SELECT base.*,
    CASE
      WHEN kind = {MILESTONE} THEN CASE WHEN ms_due > 0 THEN ms_on_time * 100.0 / ms_due END
      WHEN target IS NULL OR target = 0 OR actual IS NULL THEN NULL
      ELSE actual * 100.0 / target
    END AS completion,
    share * 100.0 AS schedule
  FROM base
),
gapped AS MATERIALIZED (
  SELECT calc.*,
    CASE
      WHEN completion IS NULL AND kind NOT IN {RATES} THEN NULL
      WHEN kind = {MILESTONE} THEN completion - 100.0
      WHEN kind IN {SUMMED} AND schedule <= 0 AND COALESCE(actual, 0) = 0 THEN NULL
      WHEN kind IN {SUMMED} AND direction = {HIGHER} THEN completion - schedule
      WHEN kind IN {SUMMED} THEN schedule - completion
      WHEN target IS NULL OR actual IS NULL THEN NULL
      WHEN direction = {HIGHER} THEN actual - target
      ELSE target - actual
    END AS gap,
    CASE
      WHEN kind = {MILESTONE} THEN completion
      WHEN kind IN {SUMMED} AND direction = {LOWER} AND target = 0 AND actual IS NOT NULL
        THEN CASE WHEN actual > 0 THEN 0.0 ELSE 100.0 END
      WHEN kind IN {SUMMED} AND completion IS NOT NULL AND schedule <= 0 AND actual > 0
        THEN CASE WHEN direction = {HIGHER} THEN {CAP} ELSE 0.0 END
      WHEN kind IN {SUMMED} AND (completion IS NULL OR schedule <= 0) THEN NULL
      WHEN kind IN {SUMMED} AND direction = {HIGHER} THEN {_clamp("completion * 100.0 / schedule")}
      WHEN kind IN {SUMMED} THEN {_clamp("(2.0 - completion / schedule) * 100.0")}
      WHEN target IS NULL OR actual IS NULL THEN NULL
      WHEN direction = {HIGHER} AND target > 0 THEN {_clamp("actual * 100.0 / target")}
      WHEN direction = {LOWER} AND actual > 0 THEN {_clamp("target * 100.0 / actual")}
      WHEN direction = {LOWER} THEN {CAP}
      ELSE NULL
    END AS attainment,
    CASE WHEN recent_periods > 0 THEN COALESCE(recent_total, 0) * 1.0 / recent_periods END AS pace
  FROM calc
),
measured AS MATERIALIZED (
  SELECT gapped.*,
    CASE
      WHEN kind = {MILESTONE} AND ms_due + ms_due_soon = 0 THEN {NONE}
      WHEN kind = {MILESTONE} AND ms_overdue > 0 THEN {RED}
      WHEN kind = {MILESTONE} AND (ms_late > 0 OR ms_due_soon > 0) THEN {YELLOW}
      WHEN kind = {MILESTONE} THEN {GREEN}
      -- A zero cap (零事故): met while nothing has happened, broken by the first occurrence.
      WHEN kind IN {SUMMED} AND direction = {LOWER} AND target = 0 AND actual IS NOT NULL
        THEN CASE WHEN actual > 0 THEN {RED} ELSE {GREEN} END
      WHEN gap IS NULL THEN {NONE}
      WHEN gap >= -{EPS} THEN {GREEN}
      WHEN gap >= -(CASE WHEN kind IN {RATES} THEN %(growth_yellow)s ELSE %(yellow)s END) - {EPS} THEN {YELLOW}
      ELSE {RED}
    END AS light_value,
    CASE
      WHEN NOT cp_passed THEN {PENDING}
      WHEN kind = {MILESTONE} THEN CASE WHEN cp_ms_overdue = 0 THEN {MET} ELSE {NOT_MET} END
      WHEN target IS NULL OR cp_actual IS NULL THEN {HALF_NONE}
      WHEN kind IN {SUMMED} AND direction = {LOWER} AND target = 0 THEN CASE WHEN cp_actual > 0 THEN {NOT_MET} ELSE {MET} END
      WHEN kind IN {SUMMED} AND target = 0 THEN {HALF_NONE}
      WHEN kind IN {SUMMED} AND direction = {HIGHER} THEN CASE WHEN cp_actual * 2.0 >= target THEN {MET} ELSE {NOT_MET} END
      WHEN kind IN {SUMMED} THEN CASE WHEN cp_actual * 2.0 <= target THEN {MET} ELSE {NOT_MET} END
      WHEN direction = {HIGHER} THEN CASE WHEN cp_actual >= target THEN {MET} ELSE {NOT_MET} END
      ELSE CASE WHEN cp_actual <= target THEN {MET} ELSE {NOT_MET} END
    END AS half_value,
    CASE
      WHEN kind IN {SUMMED} AND direction = {HIGHER} AND target IS NOT NULL AND NOT cp_passed AND left_half > 0
      THEN (CASE WHEN target * 0.5 > COALESCE(actual, 0) THEN (target * 0.5 - COALESCE(actual, 0)) * 1.0 / left_half ELSE 0.0 END)
    END AS need_half,
    CASE
      WHEN kind IN {SUMMED} AND direction = {HIGHER} AND target IS NOT NULL AND left_year > 0
      THEN (CASE WHEN target > COALESCE(actual, 0) THEN (target - COALESCE(actual, 0)) * 1.0 / left_year ELSE 0.0 END)
    END AS need_year,
    CASE
      WHEN kind NOT IN {SUMMED} OR direction <> {HIGHER} THEN NULL
      WHEN cp_passed THEN cp_actual
      WHEN pace IS NULL THEN NULL
      ELSE COALESCE(actual, 0) + pace * left_half
    END AS forecast,
    CASE
      WHEN no_cutoff = 1 AND kind <> {MILESTONE} THEN {R.NO_PERIOD_CLOSED}
      WHEN kind = {MILESTONE} AND ms_due + ms_due_soon = 0 THEN {R.NO_MILESTONE_DUE}
      WHEN kind = {MILESTONE} THEN {NO_REASON}
      WHEN target IS NULL AND no_share = 1 THEN {R.NO_SHARE}
      WHEN target IS NULL THEN {R.NO_TARGET}
      WHEN target = 0 AND kind NOT IN {RATES} AND direction = {HIGHER} THEN {R.ZERO_TARGET}
      WHEN n = 0 THEN {R.NO_FIGURES}
      WHEN n = na THEN {R.NOT_APPLICABLE}
      WHEN actual IS NULL THEN {R.NO_FIGURES}
      WHEN kind IN {SUMMED} AND schedule <= 0 AND COALESCE(actual, 0) = 0 THEN {R.SCHEDULE_NOT_STARTED}
      ELSE {NO_REASON}
    END AS reason_value
  FROM gapped
)
"""

# The measure columns (MEASURE_COLUMNS, named so: `_changed_only` compares them by name) from `measured`.
MEASURES_SELECT = f"""
  target, CASE WHEN kind IN {SUMMED} AND target IS NOT NULL THEN target * share END AS target_to_date,
  actual, cp_actual AS checkpoint_actual, recent_total, n AS figure_count, na AS na_count,
  completion AS completion_pct, schedule AS schedule_pct, gap AS gap_pp, attainment AS attainment_pct,
  -- Behind while reports of the latest due period are missing: 未报, chased as missing, never red.
  CASE WHEN missing = 1 AND light_value IN ({YELLOW}, {RED}) THEN {MISSING} ELSE light_value END AS light,
  half_value AS half_year_status,
  CASE WHEN kind IN {SUMMED} AND direction = {HIGHER} THEN pace END AS recent_pace, need_half AS required_pace_half,
  need_year AS required_pace_year, forecast AS forecast_checkpoint,
  CASE
    WHEN missing = 1 THEN FALSE
    WHEN need_half IS NOT NULL AND need_half > 0 THEN need_half > COALESCE(pace, 0) * %(pace_multiple)s
    WHEN cp_passed AND need_year IS NOT NULL AND need_year > 0 THEN need_year > COALESCE(pace, 0) * %(pace_multiple)s
    ELSE FALSE
  END AS pace_alert,
  reason_value AS reason
"""


def aggregate_light_sql(attainment: str) -> str:
    """The light of a task, an action or the plan: one rule for every aggregate, stored with its roll-up row.

    From the aggregate's weighted attainment against schedule (100 = exactly on schedule; a task's
    milestones are one part of it, done on time ÷ due): green at 100 or more, yellow up to the plan's
    yellow threshold (points) below, red beyond; no light when nothing of it can be measured yet. The
    counts of red and yellow indicators are stored beside it: an aggregate ahead of schedule overall is
    not painted red by one lagging indicator.
    """
    return (
        f"CASE WHEN ({attainment}) IS NULL THEN {NONE} WHEN ({attainment}) >= 100 - {EPS} THEN {GREEN}"
        f" WHEN ({attainment}) >= 100 - %(yellow)s - {EPS} THEN {YELLOW} ELSE {RED} END"
    )


def weight_sums(value: str, weight: str = "weight") -> tuple[str, str]:
    """A weighted mean's numerator and denominator over the rows where `value` is known. Summed as exact
    decimals, so that the result does not depend on the order PostgreSQL happens to add the rows in (the
    roll-up must be repeatable), and so that sums of them (the plan's row from its actions') are exact."""
    return (
        f"SUM(CASE WHEN ({value}) IS NOT NULL THEN CAST({weight} * ({value}) AS NUMERIC) END)",
        f"SUM(CASE WHEN ({value}) IS NOT NULL THEN CAST({weight} AS NUMERIC) END)",
    )


def weighted(value: str, weight: str = "weight") -> str:
    """A weighted mean over the rows where `value` is known (`weight_sums`' numerator ÷ denominator)."""
    numerator, denominator = weight_sums(value, weight)
    return f"{numerator} / {denominator}"


def _upsert_clause(keys: list[str], columns: list[str], *, table: str | None = None) -> str:
    """ON CONFLICT … DO UPDATE of `columns`. With `table`, a row whose values are all unchanged is not
    rewritten (its computed_at then says when it last changed): most rows of an hourly run are unchanged,
    and rewriting them is most of a full run's cost."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    clause = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    if table:
        changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in columns if c != "computed_at")
        clause += f" WHERE {changed}"
    return clause


def _changed_only(select: str, *, model, keys: list[str], columns: list[str], weeks_in: str) -> str:
    """`select` (its columns named as `columns` of `model`'s table) less the rows the table already holds as they are.

    For a run that meets its weeks' rows as it left them (the hourly run: same as-of day, most rows
    unchanged): `ON CONFLICT … WHERE` skips an unchanged row too, but only after looking it up in the
    unique index and locking it, one row at a time; one hash join with the weeks' stored rows finds the
    changed ones first (20,000 unit rows at 1 M figures: ~120 -> ~50 ms). A run that rewrites every row (a
    new as-of day) would pay the join for nothing and goes without it. The conflict clause still writes
    what is left. Each value is compared as it would be stored (a mean of rates has more decimals than its
    column keeps)."""
    on = " AND ".join(f"old.{k} = new.{k}" for k in keys)
    changed = " OR ".join(
        f"old.{c} IS DISTINCT FROM CAST(new.{c} AS {model._meta.get_field(c).db_type(connection)})"
        for c in columns if c not in keys and c != "computed_at"
    )
    return f"""SELECT new.* FROM (
{select}
) new
LEFT JOIN {model._meta.db_table} old ON old.week IN {weeks_in} AND {on}
WHERE old.{keys[0]} IS NULL OR {changed}"""


MILESTONES_SQL = """
ms AS (
  SELECT w.week, m.task_id,
    SUM(CASE WHEN m.planned_date <= w.as_of THEN 1 ELSE 0 END) AS due,
    SUM(CASE WHEN m.planned_date <= w.as_of AND m.done_date IS NOT NULL AND m.done_date <= m.planned_date THEN 1 ELSE 0 END) AS on_time,
    SUM(CASE WHEN m.planned_date <= w.as_of AND (m.done_date IS NULL OR m.done_date > w.as_of) THEN 1 ELSE 0 END) AS overdue,
    SUM(CASE WHEN m.planned_date <= w.as_of AND m.done_date > m.planned_date AND m.done_date <= w.as_of THEN 1 ELSE 0 END) AS late,
    SUM(CASE WHEN m.planned_date > w.as_of AND m.planned_date <= w.soon AND (m.done_date IS NULL OR m.done_date > w.as_of) THEN 1 ELSE 0 END) AS due_soon,
    SUM(CASE WHEN m.planned_date <= %(checkpoint)s AND (m.done_date IS NULL OR m.done_date > %(checkpoint)s) THEN 1 ELSE 0 END) AS cp_overdue
  FROM {milestone} m
  JOIN {task} t ON t.id = m.task_id
  JOIN {action} a ON a.id = t.action_id
  CROSS JOIN weeks w
  WHERE a.plan_id = %(plan)s
  GROUP BY w.week, m.task_id
)
"""


# The inputs every measured row takes from its indicator's schedule row (`prog`) and task milestones (`ms`).
SCHEDULE_COLUMNS = """    prog.schedule_share AS share, prog.checkpoint_passed AS cp_passed, prog.recent_periods,
    prog.periods_left_half AS left_half, prog.periods_left_year AS left_year,
    CASE WHEN prog.cutoff IS NULL THEN 1 ELSE 0 END AS no_cutoff,"""
MILESTONE_COLUMNS = """    COALESCE(ms.due, 0) AS ms_due, COALESCE(ms.on_time, 0) AS ms_on_time, COALESCE(ms.overdue, 0) AS ms_overdue,
    COALESCE(ms.late, 0) AS ms_late, COALESCE(ms.due_soon, 0) AS ms_due_soon, COALESCE(ms.cp_overdue, 0) AS cp_ms_overdue"""

# Step 2's figure aggregates, per (indicator, department): the amounts and counts of every figure up to the
# cutoff, and the reporting cells. A figure's value is null exactly when it is "not applicable" (a check
# constraint says so).
AGG_FROM_FIGURES = """
  SELECT freq.week, f.indicator_id, f.department_id,
    SUM(f.value) AS total,
    SUM(CASE WHEN f.period_start <= freq.cp_cutoff THEN f.value END) AS cp_total,
    SUM(CASE WHEN f.period_start >= freq.recent_from THEN f.value END) AS recent_total,
    COUNT(*) AS n,
    COUNT(*) - COUNT(f.value) AS na,
    MAX(CASE WHEN f.value IS NOT NULL THEN f.period_start END) AS last_reported,
    MAX(CASE WHEN f.value IS NOT NULL AND f.period_start <= freq.cp_cutoff THEN f.period_start END) AS cp_last,
    SUM(CASE WHEN f.due <= freq.as_of_end THEN 1 ELSE 0 END) AS cells_entered,
    SUM(CASE WHEN f.due <= freq.as_of_end AND f.entered_at <= f.due THEN 1 ELSE 0 END) AS cells_on_time,
    SUM(CASE WHEN f.due IS NOT NULL AND f.period_start = freq.current_period THEN 1 ELSE 0 END) AS period_entered,
    SUM(CASE WHEN f.period_start = freq.latest_due THEN 1 ELSE 0 END) AS latest_entered
  FROM (
    -- Each figure with its period's due time, before the figures meet the weeks: a week's figures are
    -- read once per week of the run after them, and the periods would be looked up again each time
    -- (`fence`, OFFSET 0, keeps PostgreSQL from folding the join back in). Up to the run's last cutoff.
    SELECT f.indicator_id, f.department_id, f.period_start, f.value, f.entered_at, i.frequency, p.due
    FROM {figure} f
    JOIN plan_indicators i ON i.id = f.indicator_id
    -- The date first: an incremental run loops over the periods for each figure, and comparing dates is
    -- much cheaper than comparing the frequency's text (PostgreSQL keeps the written order of equal-cost tests).
    LEFT JOIN periods p ON p.period_start = f.period_start AND p.frequency = i.frequency
    WHERE f.period_start <= %(last_cutoff)s {kinds}
    {fence}
  ) f
  JOIN freq ON freq.frequency = f.frequency
  WHERE f.period_start <= freq.cutoff
  GROUP BY freq.week, f.indicator_id, f.department_id
"""

# Running sums (`carry`, one week at a time): an amount's or a count's cumulative columns are the week before's stored ones plus
# what the periods after that week's cutoff add; the recent total (the last four periods) is the week
# before's plus the periods that entered the window less those that left it; the cells of the current and
# the latest due period are read from the figures, as are rates (their latest value) whole. Only the
# figures of those few periods (`_carry_values`) are read instead of the year's.
AGG_CARRIED = f"""
delta AS (
  SELECT freq.week, f.indicator_id, f.department_id,
    SUM(CASE WHEN f.period_start > c.prev_cutoff THEN f.value END) AS total,
    SUM(CASE WHEN f.period_start > c.prev_cutoff AND f.period_start <= freq.cp_cutoff THEN f.value END) AS cp_total,
    SUM(CASE WHEN f.period_start > c.prev_cutoff AND f.period_start >= freq.recent_from THEN f.value END) AS recent_in,
    SUM(CASE WHEN f.period_start <= c.prev_cutoff AND f.period_start >= c.prev_recent_from AND f.period_start < freq.recent_from
      THEN f.value END) AS recent_out,
    SUM(CASE WHEN f.period_start > c.prev_cutoff THEN 1 ELSE 0 END) AS n,
    SUM(CASE WHEN f.period_start > c.prev_cutoff AND f.value IS NULL THEN 1 ELSE 0 END) AS na,
    SUM(CASE WHEN f.period_start > c.prev_latest_due AND p.due <= freq.as_of_end THEN 1 ELSE 0 END) AS cells_entered,
    SUM(CASE WHEN f.period_start > c.prev_latest_due AND p.due <= freq.as_of_end AND f.entered_at <= p.due THEN 1 ELSE 0 END)
      AS cells_on_time,
    SUM(CASE WHEN p.period_start = freq.current_period THEN 1 ELSE 0 END) AS period_entered,
    SUM(CASE WHEN f.period_start = freq.latest_due THEN 1 ELSE 0 END) AS latest_entered
  FROM {{figure}} f
  JOIN plan_indicators i ON i.id = f.indicator_id AND i.kind IN {SUMMED}
  JOIN freq ON freq.frequency = i.frequency
  JOIN carry c ON c.frequency = i.frequency
  LEFT JOIN periods p ON p.period_start = f.period_start AND p.frequency = i.frequency
  WHERE f.period_start IN ({{carry_periods}}) AND f.period_start <= freq.cutoff AND f.period_start >= c.scan_from
  GROUP BY freq.week, f.indicator_id, f.department_id
),
agg AS (
  SELECT * FROM ({AGG_FROM_FIGURES.replace("{kinds}", f"AND i.kind NOT IN {SUMMED}")}) rates_whole
  UNION ALL
  SELECT w.week, a.indicator_id, a.department_id,
    CASE WHEN prev.actual IS NULL THEN delta.total WHEN delta.total IS NULL THEN prev.actual ELSE prev.actual + delta.total END,
    CASE WHEN prev.checkpoint_actual IS NULL THEN delta.cp_total WHEN delta.cp_total IS NULL THEN prev.checkpoint_actual
      ELSE prev.checkpoint_actual + delta.cp_total END,
    COALESCE(prev.recent_total, 0) + COALESCE(delta.recent_in, 0) - COALESCE(delta.recent_out, 0),
    COALESCE(prev.figure_count, 0) + COALESCE(delta.n, 0), COALESCE(prev.na_count, 0) + COALESCE(delta.na, 0),
    CAST(NULL AS DATE), CAST(NULL AS DATE),
    COALESCE(prev.cells_entered, 0) + COALESCE(delta.cells_entered, 0),
    COALESCE(prev.cells_on_time, 0) + COALESCE(delta.cells_on_time, 0),
    COALESCE(delta.period_entered, 0), COALESCE(delta.latest_entered, 0)
  FROM {{assignment}} a
  JOIN plan_indicators i ON i.id = a.indicator_id AND i.kind IN {SUMMED}
  CROSS JOIN weeks w
  LEFT JOIN {{dprog}} prev ON prev.week = w.previous AND prev.week IN {{previous_in}}
    AND prev.indicator_id = a.indicator_id AND prev.department_id = a.department_id
  LEFT JOIN delta ON delta.week = w.week AND delta.indicator_id = a.indicator_id AND delta.department_id = a.department_id
),"""


def _agg_sql(carry: bool, params: dict) -> str:
    # The fence only where a run has several weeks: a week's whole run reads each figure once anyway, and
    # the fence would keep its cutoff out of the figures' scan. SQLite has no OFFSET without LIMIT.
    fence = "OFFSET 0" if connection.vendor == "postgresql" and params["week_count"] > 1 else ""
    if carry:
        return AGG_CARRIED.format(carry_periods=params["carry_periods_sql"], previous_in=params["previous_in_sql"], fence=fence, **T)
    return "agg AS (" + AGG_FROM_FIGURES.format(kinds="", fence=fence, **T) + "\n),"


def _carry_values(week: Week) -> tuple[str, dict]:
    """carry(frequency, prev_cutoff, prev_latest_due, prev_recent_from, scan_from): where the week before's
    stored sums end, and the periods to read from the figures (listed in `carry_periods_sql`): those after
    the week before's cutoff, those that left the recent window, the reporting cells due since the week
    before's latest due period, and the current period."""
    values = _Values("cy")
    starts = set()
    before = Week.of(week.plan, week.previous, clock.today())
    never = datetime.date(1, 1, 1)  # the week before counted nothing of this frequency yet
    for frequency in (Frequency.WEEKLY, Frequency.MONTHLY):
        now_, then = _frequency_inputs(frequency, week), _frequency_inputs(frequency, before)
        prev_cutoff = then["cutoff"] or never
        prev_latest_due = _latest_due(before, frequency) or never
        prev_recent_from = then["recent_from"] or never
        cutoff, recent_from = now_["cutoff"], now_["recent_from"]
        reads = set()
        if cutoff:
            for start, _ in _periods_of(week)[frequency]:
                entered = prev_cutoff < start <= cutoff
                left = prev_recent_from <= start <= prev_cutoff and start < recent_from
                if entered or left:
                    reads.add(start)
            reads |= {start for start in _due_by_now(week, frequency) if prev_latest_due < start <= cutoff}
            reads |= {day for day in (reporting_period(week.as_of, frequency), _latest_due(week, frequency)) if day and day <= cutoff}
        scan_from = min(reads, default=datetime.date.max)
        values.add(
            (frequency.value, "VARCHAR(10)"), (prev_cutoff, "DATE"), (prev_latest_due, "DATE"), (prev_recent_from, "DATE"),
            (scan_from, "DATE"),
        )
        starts |= reads
    # The periods to read, listed: a condition on the figures alone, which their index on the period serves
    # (a range would also read every weekly figure since the monthly window's start). A figure of one
    # frequency on a day listed for the other adds nothing: every sum above tests its period itself.
    listed = {f"cp{n}": connection.ops.adapt_datefield_value(start) for n, start in enumerate(sorted(starts) or [never])}
    in_list = ", ".join(_typed(f"%({name})s", "DATE") for name in listed)
    return values.sql, {**values.params, **listed, "carry_periods_sql": in_list}


def _carry_values_sql(params: dict) -> str:
    return f"""carry(frequency, prev_cutoff, prev_latest_due, prev_recent_from, scan_from) AS (VALUES
    {params["carry_sql"]}
),"""


def _department_rows(params: dict, only: str, *, carry: bool = False, stored: bool = False) -> None:
    """Step 2: per (indicator, department) and week, one pass over the figures: sums, counts, reporting cells.

    With `carry` (one week), amounts and counts start from the week before's stored rows (running sums, `_agg_sql`).
    `stored`: the week's rows are stored as of the same day, so most will come out unchanged (`_changed_only`)."""
    columns = [
        "plan_id", "week", "as_of", "computed_at", "indicator_id", "department_id", *MEASURE_COLUMNS,
        "cells_due", "cells_entered", "cells_on_time", "period_due", "period_entered", "latest_reported",
    ]
    keys = ["week", "indicator_id", "department_id"]
    rows = f"""SELECT %(plan)s AS plan_id, week, as_of, %(now)s AS computed_at, indicator_id, department_id, {MEASURES_SELECT},
  cells_due, cells_entered, cells_on_time, period_due, period_entered, missing = 0 AS latest_reported
FROM measured"""
    if stored:
        rows = _changed_only(rows, model=DepartmentIndicatorProgress, keys=keys, columns=columns, weeks_in=params["weeks_in_sql"])
    else:
        rows += " WHERE TRUE"  # SQLite: a WHERE tells its parser that ON CONFLICT is not a join's ON
    sql = f"""
WITH
{_inputs_sql(params, freq=True, periods=True)}
{_carry_values_sql(params) if carry else ""}
plan_indicators AS NOT MATERIALIZED (
  SELECT i.id, i.kind, i.direction, i.frequency, i.task_id
  FROM {T["indicator"]} i JOIN {T["task"]} t ON t.id = i.task_id JOIN {T["action"]} ac ON ac.id = t.action_id
  WHERE ac.plan_id = %(plan)s {only.replace("p.indicator_id", "i.id")}
),
{_agg_sql(carry, params)}
rates AS (
  -- The latest reported rate (and the latest by the checkpoint) of growth rates and ratios.
  SELECT agg.week, agg.indicator_id, agg.department_id, latest.value AS latest, cp_latest.value AS cp_latest
  FROM agg
  JOIN plan_indicators i ON i.id = agg.indicator_id AND i.kind IN {RATES}
  LEFT JOIN {T["figure"]} latest
    ON latest.indicator_id = agg.indicator_id AND latest.department_id = agg.department_id AND latest.period_start = agg.last_reported
  LEFT JOIN {T["figure"]} cp_latest
    ON cp_latest.indicator_id = agg.indicator_id AND cp_latest.department_id = agg.department_id AND cp_latest.period_start = agg.cp_last
),
{MILESTONES_SQL.format(**T)},
base AS (
  SELECT prog.week, prog.as_of, a.indicator_id, a.department_id, i.kind, i.direction,
    CASE
      WHEN i.kind IN {SUMMED} THEN COALESCE(a.target_share, CASE WHEN prog.departments_expected = 1 THEN prog.target END)
      WHEN i.kind = {MILESTONE} THEN ms.due
      ELSE prog.target
    END AS target,
    CASE
      WHEN i.kind IN {SUMMED} THEN agg.total
      WHEN i.kind = {MILESTONE} THEN ms.on_time
      ELSE rates.latest
    END AS actual,
    CASE WHEN i.kind IN {SUMMED} THEN agg.cp_total ELSE rates.cp_latest END AS cp_actual,
    -- An amount's recent total is 0, not unknown, while its window holds no amount: a running sum carries it.
    CASE
      WHEN i.kind NOT IN {SUMMED} THEN agg.recent_total
      WHEN freq.recent_from IS NOT NULL THEN COALESCE(agg.recent_total, 0)
    END AS recent_total,
    COALESCE(agg.n, 0) AS n, COALESCE(agg.na, 0) AS na,
{SCHEDULE_COLUMNS}
    CASE WHEN a.target_share IS NULL AND prog.departments_expected > 1 THEN 1 ELSE 0 END AS no_share,
{MILESTONE_COLUMNS},
    CASE WHEN i.kind = {MILESTONE} THEN 0 ELSE freq.cells_due END AS cells_due,
    COALESCE(agg.cells_entered, 0) AS cells_entered, COALESCE(agg.cells_on_time, 0) AS cells_on_time,
    CASE WHEN i.kind = {MILESTONE} THEN 0 ELSE 1 END AS period_due, COALESCE(agg.period_entered, 0) AS period_entered,
    CASE WHEN i.kind <> {MILESTONE} AND prog.latest_due IS NOT NULL AND COALESCE(agg.latest_entered, 0) = 0 THEN 1 ELSE 0 END
      AS missing
  FROM {T["assignment"]} a
  JOIN plan_indicators i ON i.id = a.indicator_id
  JOIN freq ON freq.frequency = i.frequency
  JOIN {T["prog"]} prog ON prog.indicator_id = a.indicator_id AND prog.week = freq.week AND prog.week IN {params["weeks_in_sql"]}
  LEFT JOIN agg ON agg.week = freq.week AND agg.indicator_id = a.indicator_id AND agg.department_id = a.department_id
  LEFT JOIN rates ON rates.week = freq.week AND rates.indicator_id = a.indicator_id AND rates.department_id = a.department_id
  LEFT JOIN ms ON ms.week = freq.week AND ms.task_id = i.task_id
),
{MEASURES_SQL}
INSERT INTO {T["dprog"]} ({", ".join(columns)})
{rows}
-- A week's rows are first written together, a unit's next to each other: a unit's score (step 3) reads
-- its 500 rows of a week from some 30 pages instead of 500 (an edit in January, 52 weeks of one unit's
-- rows: 121 -> 27 ms at 1 M figures). Updates keep a row on its page (HOT: no indexed column changes).
ORDER BY department_id, indicator_id
{_upsert_clause(keys, ["plan_id", *columns[2:4], *columns[6:]], table=T["dprog"])}
"""
    _execute(sql, params)


def _indicator_rows(params: dict, only: str, *, stored: bool = False) -> None:
    """Per indicator and week: the departments' rows added up (rates: their mean), measured again.
    `stored`: as in `_department_rows`."""
    columns = [
        "plan_id", "week", "as_of", "computed_at", "indicator_id", "schedule_share", "checkpoint_passed",
        "recent_periods", "periods_left_half", "periods_left_year", "departments_expected", "departments_reported",
        "data_complete", *MEASURE_COLUMNS,
    ]
    keys, updated = ["week", "indicator_id"], ["as_of", "computed_at", "departments_reported", "data_complete", *MEASURE_COLUMNS]
    rows = f"""SELECT %(plan)s AS plan_id, week, as_of, %(now)s AS computed_at, indicator_id, share AS schedule_share,
  cp_passed AS checkpoint_passed, recent_periods, left_half AS periods_left_half, left_year AS periods_left_year,
  departments_expected, reported AS departments_reported, missing = 0 AS data_complete, {MEASURES_SELECT}
FROM measured"""
    if stored:
        rows = _changed_only(rows, model=IndicatorProgress, keys=keys, columns=updated, weeks_in=params["weeks_in_sql"])
    else:
        rows += " WHERE TRUE"
    sql = f"""
WITH
{_inputs_sql(params)}
prog AS (
  SELECT p.*, i.kind, i.direction, i.annual_target, i.task_id, i.rate_department_id
  FROM {T["prog"]} p JOIN {T["indicator"]} i ON i.id = p.indicator_id
  WHERE {_plan_rows(only)} p.week IN {params["weeks_in_sql"]} {only}
),
dep AS (
  SELECT d.week, d.indicator_id,
    SUM(d.actual) AS total, SUM(d.checkpoint_actual) AS cp_total, SUM(d.recent_total) AS recent_total,
    -- A rate: the named department's (rate_department), else the mean of the departments' latest rates.
    CASE WHEN MAX(prog.rate_department_id) IS NOT NULL
      THEN MAX(CASE WHEN d.department_id = prog.rate_department_id THEN d.actual END) ELSE AVG(d.actual) END AS mean,
    CASE WHEN MAX(prog.rate_department_id) IS NOT NULL
      THEN MAX(CASE WHEN d.department_id = prog.rate_department_id THEN d.checkpoint_actual END)
      ELSE AVG(d.checkpoint_actual) END AS cp_mean,
    SUM(d.figure_count) AS n, SUM(d.na_count) AS na,
    SUM(CASE WHEN d.latest_reported THEN 1 ELSE 0 END) AS reported
  FROM {T["dprog"]} d JOIN prog ON prog.indicator_id = d.indicator_id AND prog.week = d.week
  WHERE d.week IN {params["weeks_in_sql"]}
  GROUP BY d.week, d.indicator_id
),
{MILESTONES_SQL.format(**T)},
base AS (
  SELECT prog.week, prog.as_of, prog.indicator_id, prog.kind, prog.direction, prog.departments_expected,
    COALESCE(dep.reported, 0) AS reported,
    CASE WHEN prog.kind = {MILESTONE} THEN ms.due ELSE prog.annual_target END AS target,
    CASE
      WHEN prog.kind IN {SUMMED} THEN dep.total
      WHEN prog.kind = {MILESTONE} THEN ms.on_time
      ELSE dep.mean
    END AS actual,
    CASE WHEN prog.kind IN {SUMMED} THEN dep.cp_total ELSE dep.cp_mean END AS cp_actual,
    dep.recent_total, COALESCE(dep.n, 0) AS n, COALESCE(dep.na, 0) AS na,
{SCHEDULE_COLUMNS} 0 AS no_share,
{MILESTONE_COLUMNS},
    CASE WHEN prog.kind <> {MILESTONE} AND COALESCE(dep.reported, 0) < prog.departments_expected THEN 1 ELSE 0 END AS missing
  FROM prog
  LEFT JOIN dep ON dep.week = prog.week AND dep.indicator_id = prog.indicator_id
  LEFT JOIN ms ON ms.week = prog.week AND ms.task_id = prog.task_id
),
{MEASURES_SQL}
INSERT INTO {T["prog"]} ({", ".join(columns)})
{rows}
{_upsert_clause(keys, updated, table=T["prog"])}
"""
    _execute(sql, params)


# ---------------------------------------------------------------------------------------------------
# Step 3: units — reporting completeness and timeliness, their own indicators and milestones. The score
# and the ranks come in step 5, once step 4 has rolled up the tasks they lead.


def _department_scores(params: dict, only_departments: str) -> None:
    """Step 3: per unit (with indicators to report or tasks to lead) and week, from its rows of step 2."""
    columns = [
        "plan_id", "week", "as_of", "computed_at", "department_id", "cells_due", "cells_entered", "cells_on_time",
        "period_due", "period_entered", "completeness_pct", "timeliness_pct", "indicator_count", "attainment_pct",
        "red", "milestones_due", "milestones_on_time", "milestone_pct",
    ]
    step5_columns = ["led_task_count", "led_red", "red_penalty", "order_penalty"]  # inserted as 0, then set by step 5 (not rewritten here)
    sql = f"""
WITH
{_inputs_sql(params)}
results AS (
  SELECT d.week, d.department_id, COUNT(*) AS indicators,
    SUM(d.cells_due) AS due, SUM(d.cells_entered) AS entered, SUM(d.cells_on_time) AS on_time,
    SUM(d.period_due) AS period_due, SUM(d.period_entered) AS period_entered,
    {weighted("CASE WHEN d.attainment_pct > 100 THEN 100.0 ELSE d.attainment_pct END", weight="i.weight")} AS attainment,
    SUM(CASE WHEN d.light = {RED} THEN 1 ELSE 0 END) AS red
  FROM {T["dprog"]} d JOIN {T["indicator"]} i ON i.id = d.indicator_id
  WHERE d.plan_id = %(plan)s AND d.week IN {params["weeks_in_sql"]} {only_departments}
  GROUP BY d.week, d.department_id
),
units AS (
  -- A lead unit is ranked even when it reports no figure of its own: it answers for what it leads.
  SELECT week, department_id FROM results
  UNION
  SELECT w.week, t.lead_department_id FROM {T["task"]} t JOIN {T["action"]} ac ON ac.id = t.action_id CROSS JOIN weeks w
  WHERE ac.plan_id = %(plan)s {only_departments.replace("d.department_id", "t.lead_department_id")}
    AND EXISTS (
      SELECT 1 FROM {T["task"]} part WHERE (part.id = t.id OR part.parent_id = t.id)
        AND (EXISTS (SELECT 1 FROM {T["indicator"]} i WHERE i.task_id = part.id)
             OR EXISTS (SELECT 1 FROM {T["milestone"]} m WHERE m.task_id = part.id)))
),
ms AS (
  SELECT w.week, t.lead_department_id AS department_id,
    SUM(CASE WHEN m.planned_date <= w.as_of THEN 1 ELSE 0 END) AS due,
    SUM(CASE WHEN m.planned_date <= w.as_of AND m.done_date IS NOT NULL AND m.done_date <= m.planned_date THEN 1 ELSE 0 END) AS on_time
  FROM {T["milestone"]} m JOIN {T["task"]} t ON t.id = m.task_id JOIN {T["action"]} ac ON ac.id = t.action_id CROSS JOIN weeks w
  WHERE ac.plan_id = %(plan)s
  GROUP BY w.week, t.lead_department_id
),
parts AS (
  SELECT u.week, w.as_of, u.department_id, COALESCE(r.indicators, 0) AS indicators, COALESCE(r.due, 0) AS due,
    COALESCE(r.entered, 0) AS entered, COALESCE(r.on_time, 0) AS on_time, COALESCE(r.period_due, 0) AS period_due,
    COALESCE(r.period_entered, 0) AS period_entered, r.attainment, COALESCE(r.red, 0) AS red,
    CASE WHEN r.due > 0 THEN r.entered * 100.0 / r.due END AS completeness,
    CASE WHEN r.due > 0 THEN r.on_time * 100.0 / r.due END AS timeliness,
    COALESCE(ms.due, 0) AS ms_due, COALESCE(ms.on_time, 0) AS ms_on_time,
    CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END AS ms_pct
  FROM units u JOIN weeks w ON w.week = u.week
  LEFT JOIN results r ON r.week = u.week AND r.department_id = u.department_id
  LEFT JOIN ms ON ms.week = u.week AND ms.department_id = u.department_id
)
INSERT INTO {T["score"]} ({", ".join(columns + step5_columns)})
SELECT %(plan)s, week, as_of, %(now)s, department_id, due, entered, on_time, period_due, period_entered,
  completeness, timeliness, indicators, attainment, red, ms_due, ms_on_time, ms_pct, {", ".join("0" for _ in step5_columns)}
FROM parts WHERE TRUE
{_upsert_clause(["plan_id", "week", "department_id"], columns[2:], table=T["score"])}
"""
    _execute(sql, params)


# ---------------------------------------------------------------------------------------------------
# Step 4: tasks, actions and the plan.


MEANS = ("attainment", "completion", "schedule")  # the weighted means of an aggregate, each stored with its sums


def _rollups(params: dict, indicator_ids=None) -> None:
    """Step 4: tasks, actions and the plan, per week. Incremental runs rewrite only the touched tasks and actions.

    A task that groups sub-tasks rolls up its own parts and every part of its sub-tasks; the action and
    the plan count each part once, whatever level of task it hangs on. So an action's row is the sum of
    its top-level tasks' rows, and the plan's the sum of its actions' (counts, and each mean's stored
    numerator and denominator, exact decimals): two more statements, over 200 and 8 rows instead of every
    part of the plan. A whole run deletes the rows of tasks and actions left without parts, which would
    otherwise be summed again.
    """
    # Incremental runs rewrite only the touched tasks (each touched indicator's task and its parent), and
    # read only their parts: theirs and their sub-tasks' (listed here, one lookup: with a subquery the
    # planner, misled by a week's fresh progress rows, scanned them once per progress row).
    touched_parts = touched_indicators = touched_tasks = touched_actions = ""
    if indicator_ids is not None:
        ids = [int(i) for i in indicator_ids]
        # Unordered: the models' orderings would join the tasks and actions again only to sort.
        pairs = Indicator.objects.filter(pk__in=ids).order_by().values_list("task_id", "task__parent_id", "task__action_id")
        rolled = {task for task, parent, _ in pairs} | {parent for _, parent, _ in pairs if parent}
        actions = {action for _, _, action in pairs}
        parts_of = set(
            Indicator.objects.filter(Q(task__in=rolled) | Q(task__parent__in=rolled)).order_by().values_list("pk", flat=True)
        )
        rolled_list = ", ".join(str(t) for t in sorted(rolled) or [0])
        touched_tasks = f"WHERE rolled_task_id IN ({rolled_list})"
        touched_parts = f"AND (t.id IN ({rolled_list}) OR t.parent_id IN ({rolled_list}))"
        touched_indicators = f"AND p.indicator_id IN ({', '.join(str(i) for i in sorted(parts_of) or [0])})"
        touched_actions = f"AND t.action_id IN ({', '.join(str(a) for a in sorted(actions) or [0])})"
    sums = [f"{mean}_{part}" for mean in MEANS for part in ("num", "den")]
    columns = [
        "plan_id", "week", "as_of", "computed_at", "level", "subject", "task_id", "action_id", "indicator_count",
        "green", "yellow", "red", "no_light", "missing", "light", "attainment_pct", "completion_pct", "schedule_pct", "half_met",
        "half_not_met", "milestones_due", "milestones_on_time", "milestones_overdue", "figure_count",
        "departments_expected", "departments_reported", *sums,
    ]
    weighted_sums = ",\n    ".join(
        f"{numerator} AS {mean}_num, {denominator} AS {mean}_den"
        for mean in MEANS for numerator, denominator in [weight_sums(mean)]
    )
    group_sql = f"""
  SELECT week, {{level_literal}} AS level, {{subject}} AS subject, {{task_id}} AS task_id, {{action_id}} AS action_id,
    SUM(is_indicator) AS indicator_count,
    SUM(CASE WHEN light = {GREEN} THEN is_indicator ELSE 0 END) AS green,
    SUM(CASE WHEN light = {YELLOW} THEN is_indicator ELSE 0 END) AS yellow,
    SUM(CASE WHEN light = {RED} THEN is_indicator ELSE 0 END) AS red,
    SUM(CASE WHEN light = {NONE} THEN is_indicator ELSE 0 END) AS no_light,
    SUM(CASE WHEN light = {MISSING} THEN is_indicator ELSE 0 END) AS missing,
    {weighted_sums},
    SUM(CASE WHEN half = {MET} THEN is_indicator ELSE 0 END) AS half_met,
    SUM(CASE WHEN half = {NOT_MET} THEN is_indicator ELSE 0 END) AS half_not_met,
    SUM(ms_due) AS ms_due, SUM(ms_on_time) AS ms_on_time, SUM(ms_overdue) AS ms_overdue, SUM(figures) AS figures
  FROM {{source}} {{group_by}}
"""
    means = ", ".join(f"{mean}_num / {mean}_den" for mean in MEANS)
    stored = f"""
  COALESCE(indicator_count, 0), COALESCE(green, 0), COALESCE(yellow, 0), COALESCE(red, 0), COALESCE(no_light, 0),
  COALESCE(missing, 0), {aggregate_light_sql("attainment_num / attainment_den")}, {means},
  COALESCE(half_met, 0), COALESCE(half_not_met, 0), COALESCE(ms_due, 0), COALESCE(ms_on_time, 0),
  COALESCE(ms_overdue, 0), COALESCE(figures, 0)"""
    sql = f"""
WITH
{_inputs_sql(params)}
{MILESTONES_SQL.format(**T)},
parts AS (
  -- Each indicator is a part with its weight; a task's milestones are one more part of weight 1. An
  -- indicator that is 未报 (behind while reports are missing) is counted, but not averaged in.
  SELECT p.week, t.id AS task_id, t.action_id, 1 AS is_indicator, i.weight,
    CASE WHEN p.light = {MISSING} THEN NULL ELSE p.attainment_pct END AS attainment,
    CASE WHEN p.light = {MISSING} THEN NULL ELSE p.completion_pct END AS completion,
    CASE WHEN p.light = {MISSING} THEN NULL ELSE p.schedule_pct END AS schedule, p.light, p.half_year_status AS half,
    0 AS ms_due, 0 AS ms_on_time, 0 AS ms_overdue, p.figure_count AS figures
  FROM {T["prog"]} p JOIN {T["indicator"]} i ON i.id = p.indicator_id JOIN {T["task"]} t ON t.id = i.task_id
  WHERE {_plan_rows(touched_indicators)} p.week IN {params["weeks_in_sql"]} AND i.kind <> {MILESTONE} {touched_indicators}
  UNION ALL
  SELECT ms.week, t.id, t.action_id, 0, 1,
    CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END, CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END,
    NULL, {MILESTONE_PART}, {MILESTONE_PART}, ms.due, ms.on_time, ms.overdue, 0
  FROM ms JOIN {T["task"]} t ON t.id = ms.task_id WHERE TRUE {touched_parts}
),
task_parts AS (
  -- Each part rolls up into its own task and, when that task is a sub-task, into its parent too.
  SELECT parts.*, parts.task_id AS rolled_task_id FROM parts
  UNION ALL
  SELECT parts.*, t.parent_id FROM parts JOIN {T["task"]} t ON t.id = parts.task_id WHERE t.parent_id IS NOT NULL
),
grouped AS (
{group_sql.format(level_literal=sql_literal(RollupLevel.TASK), subject=f"{sql_literal(RollupLevel.TASK + ':')} || CAST(rolled_task_id AS VARCHAR(20))", task_id="rolled_task_id", action_id="CAST(NULL AS BIGINT)", source="task_parts", group_by=touched_tasks + " GROUP BY week, rolled_task_id")}
)
INSERT INTO {T["rollup"]} ({", ".join(columns)})
SELECT %(plan)s, w.week, w.as_of, %(now)s, level, subject, task_id, action_id, {stored}, 0, 0, {", ".join(sums)}
FROM grouped JOIN weeks w ON w.week = grouped.week WHERE TRUE
{_upsert_clause(["plan_id", "week", "subject"], columns[2:])}
"""
    _execute(sql, params)
    whole = indicator_ids is None
    if whole:
        # A task left without parts (its indicators and milestones moved or deleted) keeps no row: its
        # action is summed from its tasks' rows below, and the ledger would show its old figures. (The
        # tasks with parts, as `parts` above reads them: a task's non-milestone indicators, every one with
        # its progress row from step 1, and its milestones, with those of its sub-tasks.)
        # Listed once (a hashed NOT IN): correlated, it was a loop per row, as the actions' below was.
        _execute(f"""
WITH own AS (
  SELECT i.task_id FROM {T["indicator"]} i WHERE i.kind <> {MILESTONE} UNION SELECT m.task_id FROM {T["milestone"]} m
)
DELETE FROM {T["rollup"]} WHERE plan_id = %(plan)s AND week IN {params["weeks_in_sql"]} AND level = {TASK_LEVEL}
  AND task_id NOT IN (
    SELECT own.task_id FROM own
    UNION SELECT t.parent_id FROM {T["task"]} t JOIN own ON own.task_id = t.id WHERE t.parent_id IS NOT NULL)
""", params)
    task_counted = ", ".join(f"SUM(r.{c}) AS {c}" for c in (
        "indicator_count", "green", "yellow", "red", "no_light", "missing", "half_met", "half_not_met", *sums))
    # An untouched task's row written before the sums were stored (see the plan's row below) cannot be summed.
    task_guard = ""
    if not whole:
        legacy = " OR ".join(f"(r2.{mean}_pct IS NOT NULL AND r2.{mean}_den IS NULL)" for mean in MEANS)
        task_guard = (
            f"AND NOT EXISTS (SELECT 1 FROM {T['rollup']} r2 JOIN {T['task']} t2 ON t2.id = r2.task_id"
            f" WHERE r2.plan_id = %(plan)s AND r2.week = w.week AND r2.level = {TASK_LEVEL}"
            f" AND t2.action_id = tops.action_id AND ({legacy}))"
        )
    actions_sql = f"""
WITH
{_inputs_sql(params)}
tops AS (
  -- An action's row is the sum of its top-level tasks' rows (each holds its sub-tasks' parts too): counts,
  -- and each mean's exact numerator and denominator. An action's 250 parts over 51 weeks, read from
  -- scattered progress rows, cost a January edit ~200 ms; its 25 tasks' rows are a few.
  SELECT r.week, t.action_id, {task_counted}, SUM(r.milestones_due) AS ms_due, SUM(r.milestones_on_time) AS ms_on_time,
    SUM(r.milestones_overdue) AS ms_overdue, SUM(r.figure_count) AS figures
  FROM {T["rollup"]} r JOIN {T["task"]} t ON t.id = r.task_id
  WHERE r.plan_id = %(plan)s AND r.week IN {params["weeks_in_sql"]} AND r.level = {TASK_LEVEL} AND t.parent_id IS NULL {touched_actions}
  GROUP BY r.week, t.action_id
)
INSERT INTO {T["rollup"]} ({", ".join(columns)})
SELECT %(plan)s, w.week, w.as_of, %(now)s, {sql_literal(RollupLevel.ACTION)},
  {sql_literal(RollupLevel.ACTION + ':')} || CAST(tops.action_id AS VARCHAR(20)), NULL, tops.action_id, {stored}, 0, 0, {", ".join(sums)}
FROM tops JOIN weeks w ON w.week = tops.week WHERE TRUE {task_guard}
{_upsert_clause(["plan_id", "week", "subject"], columns[2:])}
"""
    _execute(actions_sql, params)
    if whole:
        # Likewise an action left without tasks that have rows: the plan's row is summed from its actions'.
        # The actions that keep theirs are listed once (a hashed NOT IN): correlated, the planner, expecting
        # one row of a fresh week, read the week's 200 task rows for each top-level task (90 ms a run).
        _execute(f"""
DELETE FROM {T["rollup"]} WHERE plan_id = %(plan)s AND week IN {params["weeks_in_sql"]} AND level = {sql_literal(RollupLevel.ACTION)}
  AND (week, action_id) NOT IN (
    SELECT r.week, t.action_id FROM {T["rollup"]} r JOIN {T["task"]} t ON t.id = r.task_id
    WHERE r.plan_id = %(plan)s AND r.week IN {params["weeks_in_sql"]} AND r.level = {TASK_LEVEL} AND t.parent_id IS NULL)
""", params)
    # An incremental run sums the untouched actions' stored rows. One written before the sums were stored
    # (a mean without its denominator; migration 0015 marks such plans stale, so the pages say they are
    # catching up) cannot be summed: the plan's row then stays as it was until a whole run of the week,
    # which rewrites every action that has parts (and an action row without parts adds nothing).
    legacy_guard = ""
    if indicator_ids is not None:
        legacy = " OR ".join(f"(r.{mean}_pct IS NOT NULL AND r.{mean}_den IS NULL)" for mean in MEANS)
        legacy_guard = (
            f"AND NOT EXISTS (SELECT 1 FROM {T['rollup']} r WHERE r.plan_id = %(plan)s AND r.week = w.week"
            f" AND r.level = {sql_literal(RollupLevel.ACTION)} AND ({legacy}))"
        )
    counted = ", ".join(f"SUM({c}) AS {c}" for c in (
        "indicator_count", "green", "yellow", "red", "no_light", "missing", "half_met", "half_not_met", *sums))
    plan_sql = f"""
WITH
{_inputs_sql(params)}
actions AS (
  SELECT week, {counted}, SUM(milestones_due) AS ms_due, SUM(milestones_on_time) AS ms_on_time,
    SUM(milestones_overdue) AS ms_overdue, SUM(figure_count) AS figures
  FROM {T["rollup"]} WHERE plan_id = %(plan)s AND week IN {params["weeks_in_sql"]} AND level = {sql_literal(RollupLevel.ACTION)}
  GROUP BY week
),
reporting AS (
  SELECT week, COUNT(*) AS expected, SUM(CASE WHEN period_entered >= period_due THEN 1 ELSE 0 END) AS reported
  FROM {T["score"]} WHERE plan_id = %(plan)s AND week IN {params["weeks_in_sql"]} AND period_due > 0
  GROUP BY week
)
INSERT INTO {T["rollup"]} ({", ".join(columns)})
SELECT %(plan)s, w.week, w.as_of, %(now)s, {PLAN_LEVEL}, {sql_literal(RollupLevel.PLAN + ':')} || CAST(%(plan)s AS VARCHAR(20)),
  NULL, NULL, {stored}, COALESCE(reporting.expected, 0), COALESCE(reporting.reported, 0), {", ".join(sums)}
FROM weeks w LEFT JOIN actions ON actions.week = w.week LEFT JOIN reporting ON reporting.week = w.week WHERE TRUE {legacy_guard}
{_upsert_clause(["plan_id", "week", "subject"], columns[2:])}
"""
    _execute(plan_sql, params)


# ---------------------------------------------------------------------------------------------------
# Step 5: the units' scores and ranks (比武打擂), once the tasks they lead are rolled up; then, on the
# first week of a month, the month before is frozen.


def _led_tasks_sql(weeks_in: str) -> str:
    """led(week, department_id, n, pct): per week and lead unit, the tasks it leads with their stored roll-up.

    A unit answers for each task it leads once: a sub-task led by the unit that also leads its parent is
    already inside the parent's roll-up, so only the parent counts. Each task weighs the same; its
    attainment is capped at 100, as the indicators' part is (being far ahead on one task does not
    make up for another behind). `red` counts the red indicators of those tasks."""
    capped = "CASE WHEN r.attainment_pct > 100 THEN 100.0 ELSE r.attainment_pct END"
    return f"""
  SELECT r.week, t.lead_department_id AS department_id, COUNT(*) AS n, {weighted(capped, weight="1")} AS pct, SUM(r.red) AS red
  FROM {T["task"]} t
  JOIN {T["rollup"]} r ON r.task_id = t.id AND r.plan_id = %(plan)s AND r.week IN {weeks_in} AND r.level = {TASK_LEVEL}
  LEFT JOIN {T["task"]} up ON up.id = t.parent_id
  WHERE up.id IS NULL OR up.lead_department_id <> t.lead_department_id
  GROUP BY r.week, t.lead_department_id"""


def _order_points_sql() -> str:
    """op(week, department_id, points): what a unit's open supervision orders and 约谈 cost it as of each week.

    An order counts at the level it had on the as-of day (its latest step on or before it, by the steps'
    business days), unless it was closed by then; a 约谈 counts from the day it opened until it closed."""
    level_points = " ".join(
        f"WHEN {sql_literal(level)} THEN %(order_{level})s" for level in (OrderLevel.BLUE, OrderLevel.YELLOW, OrderLevel.RED)
    )
    return f"""
  SELECT week, department_id, SUM(points) AS points FROM (
    SELECT w.week, o.department_id, CASE e.level {level_points} ELSE 0 END AS points
    FROM {T["order"]} o
    CROSS JOIN weeks w
    JOIN {T["order_event"]} e ON e.order_id = o.id
    WHERE o.plan_id = %(plan)s AND o.issued_on <= w.as_of
      AND e.id = (SELECT MAX(e2.id) FROM {T["order_event"]} e2 WHERE e2.order_id = o.id AND e2.day <= w.as_of)
      AND e.status <> {sql_literal(OrderStatus.CLOSED)}
    UNION ALL
    SELECT w.week, i.department_id, %(interview)s AS points
    FROM {T["interview"]} i
    CROSS JOIN weeks w
    WHERE i.plan_id = %(plan)s AND i.opened_on <= w.as_of AND (i.closed_on IS NULL OR i.closed_on > w.as_of)
  ) points GROUP BY week, department_id"""


def _department_ranks(plan: Plan, params: dict) -> None:
    """Step 5: every unit's score of each week from its parts, then its ranks in its league and overall.

    Score = the weighted mean of the parts the unit has (its indicators against schedule, the tasks it
    leads against schedule, milestones of its tasks on time, its reports on time; weights from the plan),
    scaled to the weights' sum (100 by default), minus the plan's penalty per red light: of its own
    indicators (its shares) and of the indicators of the tasks it leads (a lead unit answers for them);
    minus the plan's points per open supervision order (by its level) and per open 约谈 as of the week. Leagues are the units' kinds (部门, 园区, 街道·镇): `rank` is within the league,
    `overall_rank` among all units; unscored units are unranked. Previous ranks are the week before's
    (computed by the same statement when the week before is one of the run's).
    """
    params = {
        **params,
        "wi": float(plan.score_weight_indicators),
        "wl": float(plan.score_weight_led),
        "wm": float(plan.score_weight_milestones),
        "wt": float(plan.score_weight_timeliness),
        "penalty": float(plan.score_red_penalty),
        "order_blue": float(plan.score_order_penalty_blue),
        "order_yellow": float(plan.score_order_penalty_yellow),
        "order_red": float(plan.score_order_penalty_red),
        "interview": float(plan.score_interview_penalty),
    }
    parts = [("wi", "s.attainment_pct"), ("wl", "led.pct"), ("wm", "s.milestone_pct"), ("wt", "s.timeliness_pct")]
    weighted_sum = " + ".join(f"COALESCE(%({w})s * {v}, 0)" for w, v in parts)
    weights_known = " + ".join(f"CASE WHEN {v} IS NULL THEN 0 ELSE %({w})s END" for w, v in parts)
    all_weights = " + ".join(f"%({w})s" for w, _ in parts)
    changed = ["led_task_count", "led_tasks_pct", "led_red", "red_penalty", "order_penalty", "score"]
    orders = "COALESCE(op.points, 0)"
    red = "(s.red + COALESCE(led.red, 0))"
    weeks_in = params["weeks_in_sql"]
    _execute(
        f"""
WITH
{_inputs_sql(params).rstrip(",")}
UPDATE {T["score"]} SET {", ".join(f"{c} = x.{c}" for c in changed)}
FROM (
  SELECT s.id, COALESCE(led.n, 0) AS led_task_count, led.pct AS led_tasks_pct, COALESCE(led.red, 0) AS led_red,
    %(penalty)s * {red} AS red_penalty, {orders} AS order_penalty,
    CASE WHEN {" AND ".join(f"{v} IS NULL" for _, v in parts)} THEN NULL ELSE
      ({weighted_sum}) / NULLIF({weights_known}, 0) * ({all_weights}) / 100.0 - %(penalty)s * {red} - {orders}
    END AS score
  FROM {T["score"]} s
  LEFT JOIN ({_led_tasks_sql(weeks_in)}
  ) led ON led.week = s.week AND led.department_id = s.department_id
  LEFT JOIN ({_order_points_sql()}
  ) op ON op.week = s.week AND op.department_id = s.department_id
  WHERE s.plan_id = %(plan)s AND s.week IN {weeks_in}
) AS x
WHERE {T["score"]}.id = x.id AND ({" OR ".join(f"{T['score']}.{c} IS DISTINCT FROM x.{c}" for c in changed)})
""",
        params,
    )
    order = "ORDER BY CASE WHEN s.score IS NULL THEN 1 ELSE 0 END, s.score DESC"
    ranks = ["rank", "previous_rank", "overall_rank", "previous_overall_rank"]
    # The week before's ranks: this statement's own where that week is one of the run's (its stored ones
    # are those before the run), else the stored ones.
    _execute(
        f"""
WITH
{_inputs_sql(params)}
fresh AS (
  SELECT s.id, s.week, s.department_id,
    CASE WHEN s.score IS NULL THEN NULL ELSE RANK() OVER (PARTITION BY s.week, dep.kind {order}) END AS rank,
    CASE WHEN s.score IS NULL THEN NULL ELSE RANK() OVER (PARTITION BY s.week {order}) END AS overall_rank
  FROM {T["score"]} s
  JOIN {T["department"]} dep ON dep.id = s.department_id
  WHERE s.plan_id = %(plan)s AND s.week IN {weeks_in}
)
UPDATE {T["score"]} SET {", ".join(f"{c} = ranked.{c}" for c in ranks)}
FROM (
  SELECT f.id, f.rank, f.overall_rank,
    CASE WHEN before.id IS NOT NULL THEN before.rank ELSE prev.rank END AS previous_rank,
    CASE WHEN before.id IS NOT NULL THEN before.overall_rank ELSE prev.overall_rank END AS previous_overall_rank
  FROM fresh f
  JOIN weeks w ON w.week = f.week
  LEFT JOIN fresh before ON before.week = w.previous AND before.department_id = f.department_id
  LEFT JOIN {T["score"]} prev ON prev.plan_id = %(plan)s AND prev.department_id = f.department_id AND prev.week = w.previous
    AND prev.week IN {params["previous_in_sql"]}
) AS ranked
WHERE {T["score"]}.id = ranked.id AND ({" OR ".join(f"{T['score']}.{c} IS DISTINCT FROM ranked.{c}" for c in ranks)})
""",
        params,
    )


# The score columns a frozen monthly ranking copies from the week's rows (previous ranks are the month before's).
FROZEN_COLUMNS = [
    "department_id", "as_of", "cells_due", "cells_entered", "cells_on_time", "period_due", "period_entered",
    "completeness_pct", "timeliness_pct", "indicator_count", "attainment_pct", "led_task_count", "led_tasks_pct",
    "red", "led_red", "red_penalty", "order_penalty", "milestones_due", "milestones_on_time", "milestone_pct", "score", "rank", "overall_rank",
]


def _monthly_freeze(week: Week, params: dict) -> None:
    """When a week of a month (by its Monday) is rolled up, the month before has closed: freeze its ranking.

    Its ranking (月通报) is copied, as it stands at that moment, from its last rolled-up week (by Monday,
    as the monthly view counts weeks) into MonthlyRanking — normally when the first week of the new month
    is rolled up, i.e. right after the old month's last week was. A month already frozen is never
    rewritten, whatever later roll-ups of its weeks find; its previous ranks are the frozen ones of the
    month before it. The open month is read live from its latest week.
    """
    this_month = week.start.replace(day=1)
    month = add_months(this_month, -1)
    ops = connection.ops
    params = {
        **params,
        "month": ops.adapt_datefield_value(month),
        "month_end": ops.adapt_datefield_value(this_month),
        "month_before": ops.adapt_datefield_value(add_months(month, -1)),
    }
    copied = ", ".join(f"s.{c}" for c in FROZEN_COLUMNS)
    _execute(
        f"""
INSERT INTO {T["monthly"]} (plan_id, month, week, frozen_at, {", ".join(FROZEN_COLUMNS)}, previous_rank, previous_overall_rank)
SELECT s.plan_id, %(month)s, s.week, %(now)s, {copied}, prev.rank, prev.overall_rank
FROM {T["score"]} s
LEFT JOIN {T["monthly"]} prev ON prev.plan_id = s.plan_id AND prev.department_id = s.department_id AND prev.month = %(month_before)s
WHERE s.plan_id = %(plan)s
  AND s.week = (SELECT MAX(w.week) FROM {T["score"]} w WHERE w.plan_id = %(plan)s AND w.week >= %(month)s AND w.week < %(month_end)s)
  AND NOT EXISTS (SELECT 1 FROM {T["monthly"]} f WHERE f.plan_id = %(plan)s AND f.month = %(month)s)
ON CONFLICT (plan_id, month, department_id) DO NOTHING
""",
        params,
    )


# ---------------------------------------------------------------------------------------------------
# Entry points.


def _params(weeks: list[Week], now: datetime.datetime, indicator_ids) -> dict:
    """The parameters of a run's statements: the plan's, and its weeks' as VALUES lists (`_inputs_sql`)."""
    ops = connection.ops
    plan = weeks[0].plan
    params = {
        "plan": plan.pk,
        "week_count": len(weeks),
        "checkpoint": ops.adapt_datefield_value(plan.checkpoint),
        "now": ops.adapt_datetimefield_value(now),
        "yellow": float(plan.yellow_gap_pp),
        "growth_yellow": float(plan.growth_yellow_pp),
        "pace_multiple": float(plan.pace_alert_multiple),
        # The latest period any week of the run counts (of any frequency): the figures are read up to it.
        "last_cutoff": ops.adapt_datefield_value(max(
            (c for w in weeks for f in (Frequency.WEEKLY, Frequency.MONTHLY) if (c := _frequency_inputs(f, w)["cutoff"])),
            default=None,
        )),
    }
    for name, (sql, values) in {
        "weeks_sql": _weeks_values(weeks),
        "weeks_in_sql": _days_in([w.start for w in weeks], "ws"),
        "previous_in_sql": _days_in([w.previous for w in weeks], "wp"),
        "freq_sql": _frequency_values(weeks),
        "periods_sql": _periods_values(weeks[0]),
        "phased_sql": _phased_values(weeks, indicator_ids),
    }.items():
        params[name] = sql
        params.update(values)
    return params


def _id_filter(column: str, ids) -> str:
    if ids is None:
        return ""
    ids = [int(i) for i in ids] or [0]
    return f"AND {column} IN ({', '.join(str(i) for i in ids)})"


def _plan_rows(only: str) -> str:
    """The plan's filter on indicator progress rows, unless `only` lists indicators (an incremental run): an
    indicator belongs to one plan, and with both filters the planner took the (plan, week) index and read
    the week's 2,000 rows to find ten, where the unique (week, indicator) one finds them directly (measured
    at 1 M figures: an edit to the current week 53 -> 45 ms)."""
    return "" if only else "p.plan_id = %(plan)s AND"


# Sent after a full roll-up of a week (every indicator), inside its transaction: the supervision ladder
# (metrics.supervision.orders) judges the week's subjects then. Incremental runs after a save do not send it:
# the hourly full run does, and the ladder reads only full weeks.
week_rolled_up = Signal()


def rescore_week(week: Week) -> None:
    """Step 5 again (scores and ranks) after the week's supervision orders moved: their deductions count."""
    _department_ranks(week.plan, _params([week], clock.now(), None))
# The whole-week progress steps join and group sets of thousands of rows (a million figures) whose row
# estimates are often wrong: a week's progress rows are written, then read back in the same transaction,
# long before autovacuum analyses them, so the statistics predate the week and the planner expects one row
# where there are thousands. It then chose nested loops (the first roll-up of a never-rolled week ran for
# minutes at 1 M figures) and sorted the figures for a GroupAggregate (an external sort spilling 75 MB)
# where a hash aggregate keeps one group per (indicator, department) in memory. Hash joins and hash
# aggregates cost about the same whatever the estimate, so these steps use nothing else. Incremental runs
# (a few indicators) keep the planner's choice for the indicator rows, where index lookups in nested loops
# are what make them fast, but not for the unit rows: there the planner, expecting one figure where an
# indicator has a year of them, looked up each figure's reporting period in a nested loop over the year's
# periods and sorted for a GroupAggregate (measured at 1 M figures, one indicator edited: 137 ms against
# 37 ms for an edit in January, 52 weeks; 7.3 ms against 3.7 ms for one in the current week).
HASH_PLANNER = {"enable_nestloop": "off", "enable_sort": "off"}


@contextmanager
def _hash_planner(*, on: bool) -> Iterator[None]:
    """HASH_PLANNER for the statements inside (PostgreSQL, this transaction), restored after."""
    if connection.vendor != "postgresql" or not on:
        yield
        return
    # One round trip each way (an edit's run enters this four times): the settings as they were are read
    # before any is changed, then restored together.
    names = list(HASH_PLANNER)
    reads = ", ".join(f"current_setting(%s) AS s{n}" for n in range(len(names)))
    sets = ", ".join("set_config(%s, %s, true)" for _ in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH before AS MATERIALIZED (SELECT {reads}) SELECT before.*, {sets} FROM before",
            [*names, *(item for pair in HASH_PLANNER.items() for item in pair)],
        )
        before = cursor.fetchone()[: len(names)]
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + sets, [item for name, value in zip(names, before) for item in (name, value)]
        )


def carries() -> bool:
    """Whether running sums may be used here: on PostgreSQL, whose NUMERIC sums are exact, so a week carried
    from the week before is identical to one recomputed from the figures (tested). SQLite adds decimals as
    floats, where a running sum and a recomputation could differ in the last digit: it always recomputes."""
    return connection.vendor == "postgresql"


def rollup_week(week: Week, *, indicator_ids=None, department_ids=None, carry: bool = False, announce: bool = True) -> None:
    """Compute and store one week of a plan: every indicator, or only those given (incremental).

    `carry`: the week before's stored rows hold every indicator's sums as the figures stand (just computed in
    the same run, or settled: metrics.rollup.inputs), so they may be carried forward instead of adding up the
    year's figures again (running sums; PostgreSQL only, see `carries`). The nightly check recomputes every
    past week from the figures and compares. `announce=False` (a verification's recomputation, rolled back)
    does not send `week_rolled_up`: it must not move supervision orders.
    """
    rollup_weeks([week], indicator_ids=indicator_ids, department_ids=department_ids, carry=carry, announce=announce)


@transaction.atomic
def rollup_weeks(
    weeks: list[Week], *, indicator_ids=None, department_ids=None, carry: bool = False, announce: bool = True
) -> None:
    """Compute and store weeks of a plan, each statement over all of them at once: every indicator, or only
    those given (incremental; the plan's own: some steps find them by id alone, `_plan_rows`). Identical to
    rolling up each week in order (`rollup_week`; tested).

    A late edit's incremental run is the case for it: an edit to January changes every week after it, and
    one statement per step over the 52 weeks of a few indicators costs about ten weeks' runs (measured:
    0.45 s against 40 ms), where 52 runs of a week each pay every statement's planning and the plan-wide
    steps (ranks, scores) again. A
    range of whole weeks goes week by week instead (`carry`: each carries the running sums of the week before
    it, just written), so `carry` takes one week.
    """
    if not weeks:
        return
    assert not carry or len(weeks) == 1, "running sums carry one week at a time, from the week before"
    # A whole week is announced to the supervision ladder, which may move its orders (and so its scores)
    # before the week after it is computed: whole weeks go one at a time.
    assert indicator_ids is not None or len(weeks) == 1, "whole weeks are rolled up one at a time"
    weeks = sorted(weeks, key=lambda w: w.start)
    plan = weeks[0].plan
    carry = carry and carries()
    if connection.vendor == "postgresql":
        # Two workers rolling up the same plan and week take turns instead of deadlocking on the upserts
        # (the weeks' locks are taken in order, so two runs over overlapping weeks cannot wait on each other).
        for week in weeks:
            _execute("SELECT pg_advisory_xact_lock(%(plan)s, %(week)s)", {"plan": plan.pk, "week": week.start.toordinal()})
        # The aggregation over a year of figures keeps one group per (indicator, department); with the
        # default 4 MB PostgreSQL spills it to disk. This transaction only may use more.
        # Compiling these statements costs more than it saves (JIT took 1.3 s of a 1.6 s step at 1 M figures).
        _execute(
            "SELECT set_config('work_mem', %(work_mem)s, true), set_config('jit', 'off', true)",
            {"work_mem": settings.PLANBOARD_ROLLUP_WORK_MEM},
        )
    params = _params(weeks, clock.now(), indicator_ids)
    if carry:
        params["carry_sql"], carry_params = _carry_values(weeks[0])
        params.update(carry_params)
    only = _id_filter("p.indicator_id", indicator_ids)
    whole_week = indicator_ids is None
    # A whole week stored as of the same day (the hourly run) comes out mostly as it is stored.
    stored = whole_week and (
        Rollup.objects.filter(plan=plan, week=weeks[0].start, level=RollupLevel.PLAN).order_by().values_list("as_of", flat=True).first()
        == weeks[0].as_of
    )
    with _hash_planner(on=whole_week):
        _write_inputs(params, only, stored=stored)
    with _hash_planner(on=True):
        _department_rows(params, only, carry=carry, stored=stored)
    with _hash_planner(on=whole_week):
        _indicator_rows(params, only, stored=stored)
    # Several weeks' scores and ranks (an early edit's weeks) group thousands of rows the planner expects
    # a few of: hashed, not looped (a January edit's three statements 309 -> 213 ms at 1 M figures). One
    # week's (40 units) keep the planner's choice, a little faster there.
    with _hash_planner(on=len(weeks) > 1):
        _department_scores(params, _id_filter("d.department_id", department_ids))
    with _hash_planner(on=whole_week):
        _rollups(params, indicator_ids)
    with _hash_planner(on=len(weeks) > 1):
        _department_ranks(plan, params)
    # A month is frozen once, by the first of its next month's weeks rolled up: one statement per month.
    frozen_by = {}
    for week in weeks:
        frozen_by.setdefault(week.start.replace(day=1), week)
    for week in frozen_by.values():
        _monthly_freeze(week, params)
    if indicator_ids is None and announce:
        for week in weeks:
            week_rolled_up.send(sender=Week, week=week)
