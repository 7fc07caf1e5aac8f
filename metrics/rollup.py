"""The roll-up engine: 双过半 math, lights, pace, roll-ups and department scores.

Everything is computed for one plan and one as-of week, and stored in rows keyed by (week, subject),
written by upserts (INSERT … SELECT … ON CONFLICT DO UPDATE), so that running a roll-up twice, or in two
workers at once, leaves the same rows. Figures are never looped over in Python: each step is one SQL
statement over sets. The statements run unchanged on PostgreSQL and SQLite.

The rules (see shared/DOMAIN.md):

* as_of: the day figures are judged on — the week's Sunday for past weeks, today for the week in progress.
* Which figures count: weekly ones of every ISO week that has started by as_of (`cutoff` is the as-of
  week's Monday); monthly ones of every month that has ended by as_of.
* Schedule (序时进度): for monthly indicators months ended ÷ 12; for weekly ones days elapsed ÷ days in
  the year. Where an amount or count has phased monthly targets, the cumulative target of the months
  ended (monthly) or interpolated by day (weekly) ÷ the annual target.
* Completion, by kind:
  - amount / count: cumulative actual ÷ target. Gap = completion − schedule (points). Lower-is-better
    (a cap such as accidents): completion is the share of the allowance used, gap = schedule − completion.
  - growth rate / ratio: the latest reported year-to-date rate against the target rate; the gap is
    actual − target in percentage points (target − actual when lower is better), never divided by 50 %.
    The indicator-wide rate is the mean of the departments' latest rates.
  - milestone: nodes done on time ÷ nodes due (the task's milestones); gap = completion − 100.
* Against schedule (attainment, 100 = exactly on schedule, capped at 150 so one runaway figure cannot
  hide others): completion ÷ schedule for amounts and counts, (2 − used ÷ schedule) for caps, actual ÷
  target for rates (target ÷ actual when lower is better), completion for milestones. Tasks, actions and
  the plan average it weighted by indicator weight; a task's milestones count as one more part of weight 1.
* Light (亮灯): green when the gap ≥ 0; yellow up to the plan's threshold behind (points; rates have
  their own); red beyond. Milestones: red when a node due is not done, yellow when one was done late or
  an open one falls due within the plan's warning days.
* 双过半 at the checkpoint: amounts and counts at least 50 % of the target (caps: at most 50 % used), rates
  at or above target, every milestone due by then done. Pending before the checkpoint.
* Pace (amounts and counts, higher is better): recent pace = the mean amount of the last four periods;
  the pace needed = what is missing for 50 % (100 %) ÷ periods left to the checkpoint (year end);
  forecast at the checkpoint = actual + recent pace × periods left (run-rate); alert when the pace
  needed exceeds the plan's multiple of the recent pace.
* Where a value cannot be computed it stays empty and `reason` says why (no target, zero target, no
  share, no figures, all not applicable, no period closed yet, schedule not started, no milestone due).
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from actions.choices import SUMMED_KINDS, Frequency
from actions.models import Indicator, Plan
from metrics.models import DepartmentIndicatorProgress, DepartmentScore, IndicatorProgress, Rollup
from metrics.periods import due_at, period_start, periods_until, reporting_period

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
}
SUMMED = "('amount', 'count')"
RATES = "('growth_rate', 'ratio')"
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
        return cls(plan=plan, start=start, as_of=min(start + datetime.timedelta(days=6), today))

    @property
    def checkpoint_passed(self) -> bool:
        return self.as_of >= self.plan.checkpoint

    @property
    def previous(self) -> datetime.date:
        return self.start - datetime.timedelta(days=7)


# ---------------------------------------------------------------------------------------------------
# Step 1 (per indicator, not per figure): the schedule inputs.


def _months_ended(day: datetime.date, year: int) -> int:
    if day.year < year:
        return 0
    if day.year > year:
        return 12
    last_day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    return day.month if day == last_day else day.month - 1


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def schedule_share(indicator: Indicator, year: int, as_of: datetime.date) -> float:
    """The share of the annual target due by as_of (序时进度), phased targets honoured."""
    phased = bool(indicator.monthly_targets) and indicator.kind in SUMMED_KINDS and indicator.annual_target
    annual = float(indicator.annual_target or 0)
    if indicator.frequency == Frequency.MONTHLY:
        months = _months_ended(as_of, year)
        if not months:
            return 0.0
        return float(indicator.monthly_targets[months - 1]) / annual if phased else months / 12
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    if as_of < first:
        return 0.0
    if as_of >= last:
        return 1.0
    if phased:
        targets = [float(v) for v in indicator.monthly_targets]
        month_start = as_of.replace(day=1)
        days_in_month = (_add_months(month_start, 1) - month_start).days
        before = targets[as_of.month - 2] if as_of.month > 1 else 0.0
        return (before + (targets[as_of.month - 1] - before) * as_of.day / days_in_month) / annual
    return ((as_of - first).days + 1) / ((last - first).days + 1)


def _inputs(indicator: Indicator, week: Week) -> dict:
    """Which periods count, the schedule share, and the periods left, for one indicator and week."""
    plan, year = week.plan, week.plan.year
    checkpoint = plan.checkpoint
    if indicator.frequency == Frequency.WEEKLY:
        weeks = periods_until(year, Frequency.WEEKLY, datetime.date(year, 12, 31))
        first_week, last_week = weeks[0], weeks[-1]
        cutoff = week.start if first_week <= week.start <= last_week else (last_week if week.start > last_week else None)
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
        months = _months_ended(week.as_of, year)
        cutoff = datetime.date(year, months, 1) if months else None
        checkpoint_months = _months_ended(checkpoint, year)
        checkpoint_cutoff = datetime.date(year, checkpoint_months, 1) if checkpoint_months else None
        recent_from = max(_add_months(cutoff, -3), datetime.date(year, 1, 1)) if cutoff else None
        recent_periods = (cutoff.month - recent_from.month + 1) if cutoff else 0
        left_half = max(checkpoint_months - months, 0)
        left_year = 12 - months
    return {
        "cutoff": cutoff,
        "checkpoint_cutoff": checkpoint_cutoff,
        "recent_from": recent_from,
        "recent_periods": recent_periods,
        "periods_left_half": left_half,
        "periods_left_year": left_year,
        "schedule_share": schedule_share(indicator, year, week.as_of),
        "checkpoint_passed": week.checkpoint_passed,
    }


def _write_inputs(week: Week, indicators: list[Indicator], now: datetime.datetime) -> None:
    counts = dict(
        Indicator.departments.through.objects.filter(indicator__in=indicators)
        .values_list("indicator")
        .annotate(n=Count("department"))
    )
    rows = [
        IndicatorProgress(
            plan=week.plan,
            week=week.start,
            as_of=week.as_of,
            computed_at=now,
            indicator=indicator,
            departments_expected=counts.get(indicator.pk, 0),
            target=indicator.annual_target,
            **_inputs(indicator, week),
        )
        for indicator in indicators
    ]
    fields = [
        "plan", "as_of", "computed_at", "departments_expected", "target", "cutoff", "checkpoint_cutoff",
        "recent_from", "recent_periods", "periods_left_half", "periods_left_year", "schedule_share",
        "checkpoint_passed",
    ]
    IndicatorProgress.objects.bulk_create(
        rows, batch_size=500, update_conflicts=True, unique_fields=["week", "indicator"], update_fields=fields
    )


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
# ms_late, ms_due_soon, cp_ms_overdue; to the measure columns.
MEASURES_SQL = f"""
calc AS (
  SELECT base.*,
    CASE
      WHEN kind = 'milestone' THEN CASE WHEN ms_due > 0 THEN ms_on_time * 100.0 / ms_due END
      WHEN target IS NULL OR target = 0 OR actual IS NULL THEN NULL
      ELSE actual * 100.0 / target
    END AS completion,
    share * 100.0 AS schedule
  FROM base
),
gapped AS (
  SELECT calc.*,
    CASE
      WHEN completion IS NULL AND kind NOT IN {RATES} THEN NULL
      WHEN kind = 'milestone' THEN completion - 100.0
      WHEN kind IN {SUMMED} AND direction = 'higher' THEN completion - schedule
      WHEN kind IN {SUMMED} THEN schedule - completion
      WHEN target IS NULL OR actual IS NULL THEN NULL
      WHEN direction = 'higher' THEN actual - target
      ELSE target - actual
    END AS gap,
    CASE
      WHEN kind = 'milestone' THEN completion
      WHEN kind IN {SUMMED} AND (completion IS NULL OR schedule <= 0) THEN NULL
      WHEN kind IN {SUMMED} AND direction = 'higher' THEN {_clamp("completion * 100.0 / schedule")}
      WHEN kind IN {SUMMED} THEN {_clamp("(2.0 - completion / schedule) * 100.0")}
      WHEN target IS NULL OR actual IS NULL THEN NULL
      WHEN direction = 'higher' AND target > 0 THEN {_clamp("actual * 100.0 / target")}
      WHEN direction = 'lower' AND actual > 0 THEN {_clamp("target * 100.0 / actual")}
      WHEN direction = 'lower' THEN {CAP}
      ELSE NULL
    END AS attainment,
    CASE WHEN recent_periods > 0 THEN COALESCE(recent_total, 0) * 1.0 / recent_periods END AS pace
  FROM calc
),
measured AS (
  SELECT gapped.*,
    CASE
      WHEN kind = 'milestone' AND ms_due + ms_due_soon = 0 THEN 'none'
      WHEN kind = 'milestone' AND ms_overdue > 0 THEN 'red'
      WHEN kind = 'milestone' AND (ms_late > 0 OR ms_due_soon > 0) THEN 'yellow'
      WHEN kind = 'milestone' THEN 'green'
      WHEN gap IS NULL THEN 'none'
      WHEN gap >= -{EPS} THEN 'green'
      WHEN gap >= -(CASE WHEN kind IN {RATES} THEN %(growth_yellow)s ELSE %(yellow)s END) - {EPS} THEN 'yellow'
      ELSE 'red'
    END AS light_value,
    CASE
      WHEN NOT cp_passed THEN 'pending'
      WHEN kind = 'milestone' THEN CASE WHEN cp_ms_overdue = 0 THEN 'met' ELSE 'not_met' END
      WHEN target IS NULL OR cp_actual IS NULL THEN 'none'
      WHEN kind IN {SUMMED} AND target = 0 THEN 'none'
      WHEN kind IN {SUMMED} AND direction = 'higher' THEN CASE WHEN cp_actual * 2.0 >= target THEN 'met' ELSE 'not_met' END
      WHEN kind IN {SUMMED} THEN CASE WHEN cp_actual * 2.0 <= target THEN 'met' ELSE 'not_met' END
      WHEN direction = 'higher' THEN CASE WHEN cp_actual >= target THEN 'met' ELSE 'not_met' END
      ELSE CASE WHEN cp_actual <= target THEN 'met' ELSE 'not_met' END
    END AS half_value,
    CASE
      WHEN kind IN {SUMMED} AND direction = 'higher' AND target IS NOT NULL AND NOT cp_passed AND left_half > 0
      THEN (CASE WHEN target * 0.5 > COALESCE(actual, 0) THEN (target * 0.5 - COALESCE(actual, 0)) * 1.0 / left_half ELSE 0.0 END)
    END AS need_half,
    CASE
      WHEN kind IN {SUMMED} AND direction = 'higher' AND target IS NOT NULL AND left_year > 0
      THEN (CASE WHEN target > COALESCE(actual, 0) THEN (target - COALESCE(actual, 0)) * 1.0 / left_year ELSE 0.0 END)
    END AS need_year,
    CASE
      WHEN kind NOT IN {SUMMED} OR direction <> 'higher' THEN NULL
      WHEN cp_passed THEN cp_actual
      WHEN pace IS NULL THEN NULL
      ELSE COALESCE(actual, 0) + pace * left_half
    END AS forecast,
    CASE
      WHEN no_cutoff = 1 AND kind <> 'milestone' THEN 'no_period_closed'
      WHEN kind = 'milestone' AND ms_due = 0 THEN 'no_milestone_due'
      WHEN kind = 'milestone' THEN ''
      WHEN target IS NULL AND no_share = 1 THEN 'no_share'
      WHEN target IS NULL THEN 'no_target'
      WHEN target = 0 AND kind NOT IN {RATES} THEN 'zero_target'
      WHEN n = 0 THEN 'no_figures'
      WHEN n = na THEN 'not_applicable'
      WHEN actual IS NULL THEN 'no_figures'
      WHEN kind IN {SUMMED} AND schedule <= 0 THEN 'schedule_not_started'
      ELSE ''
    END AS reason_value
  FROM gapped
)
"""

MEASURES_SELECT = f"""
  target, CASE WHEN kind IN {SUMMED} AND target IS NOT NULL THEN target * share END,
  actual, cp_actual, recent_total, n, na,
  completion, schedule, gap, attainment, light_value, half_value,
  CASE WHEN kind IN {SUMMED} AND direction = 'higher' THEN pace END, need_half, need_year, forecast,
  CASE
    WHEN need_half IS NOT NULL AND need_half > 0 THEN need_half > COALESCE(pace, 0) * %(pace_multiple)s
    WHEN cp_passed AND need_year IS NOT NULL AND need_year > 0 THEN need_year > COALESCE(pace, 0) * %(pace_multiple)s
    ELSE FALSE
  END,
  reason_value
"""


def _upsert_clause(keys: list[str], columns: list[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"


MILESTONES_SQL = """
ms AS (
  SELECT m.task_id,
    SUM(CASE WHEN m.planned_date <= %(as_of)s THEN 1 ELSE 0 END) AS due,
    SUM(CASE WHEN m.planned_date <= %(as_of)s AND m.done_date IS NOT NULL AND m.done_date <= m.planned_date THEN 1 ELSE 0 END) AS on_time,
    SUM(CASE WHEN m.planned_date <= %(as_of)s AND (m.done_date IS NULL OR m.done_date > %(as_of)s) THEN 1 ELSE 0 END) AS overdue,
    SUM(CASE WHEN m.planned_date <= %(as_of)s AND m.done_date > m.planned_date AND m.done_date <= %(as_of)s THEN 1 ELSE 0 END) AS late,
    SUM(CASE WHEN m.planned_date > %(as_of)s AND m.planned_date <= %(soon)s AND (m.done_date IS NULL OR m.done_date > %(as_of)s) THEN 1 ELSE 0 END) AS due_soon,
    SUM(CASE WHEN m.planned_date <= %(checkpoint)s AND (m.done_date IS NULL OR m.done_date > %(checkpoint)s) THEN 1 ELSE 0 END) AS cp_overdue
  FROM {milestone} m
  JOIN {task} t ON t.id = m.task_id
  JOIN {action} a ON a.id = t.action_id
  WHERE a.plan_id = %(plan)s
  GROUP BY m.task_id
)
"""


def _department_rows(week: Week, params: dict, only: str) -> None:
    """Per (indicator, department): aggregate the figures and compute the measures."""
    columns = ["plan_id", "week", "as_of", "computed_at", "indicator_id", "department_id", *MEASURE_COLUMNS]
    sql = f"""
WITH
prog AS (
  SELECT p.indicator_id, p.cutoff, p.checkpoint_cutoff, p.recent_from, p.recent_periods, p.periods_left_half,
         p.periods_left_year, p.schedule_share, p.checkpoint_passed, p.departments_expected,
         i.kind, i.direction, i.annual_target, i.task_id
  FROM {T["prog"]} p JOIN {T["indicator"]} i ON i.id = p.indicator_id
  WHERE p.plan_id = %(plan)s AND p.week = %(week)s {only}
),
agg AS (
  SELECT f.indicator_id, f.department_id,
    SUM(CASE WHEN f.state = 'reported' THEN f.value END) AS total,
    SUM(CASE WHEN f.state = 'reported' AND f.period_start <= prog.checkpoint_cutoff THEN f.value END) AS cp_total,
    SUM(CASE WHEN f.state = 'reported' AND f.period_start >= prog.recent_from THEN f.value END) AS recent_total,
    COUNT(*) AS n,
    SUM(CASE WHEN f.state = 'not_applicable' THEN 1 ELSE 0 END) AS na,
    MAX(CASE WHEN f.state = 'reported' THEN f.period_start END) AS last_reported,
    MAX(CASE WHEN f.state = 'reported' AND f.period_start <= prog.checkpoint_cutoff THEN f.period_start END) AS cp_last
  FROM {T["figure"]} f JOIN prog ON prog.indicator_id = f.indicator_id
  WHERE f.period_start <= prog.cutoff
  GROUP BY f.indicator_id, f.department_id
),
{MILESTONES_SQL.format(**T)},
base AS (
  SELECT a.indicator_id, a.department_id, prog.kind, prog.direction,
    CASE
      WHEN prog.kind IN {SUMMED} THEN COALESCE(a.target_share, CASE WHEN prog.departments_expected = 1 THEN prog.annual_target END)
      WHEN prog.kind = 'milestone' THEN ms.due
      ELSE prog.annual_target
    END AS target,
    CASE
      WHEN prog.kind IN {SUMMED} THEN agg.total
      WHEN prog.kind = 'milestone' THEN ms.on_time
      ELSE latest.value
    END AS actual,
    CASE WHEN prog.kind IN {SUMMED} THEN agg.cp_total ELSE cp_latest.value END AS cp_actual,
    agg.recent_total, COALESCE(agg.n, 0) AS n, COALESCE(agg.na, 0) AS na,
    prog.schedule_share AS share, prog.checkpoint_passed AS cp_passed, prog.recent_periods,
    prog.periods_left_half AS left_half, prog.periods_left_year AS left_year,
    CASE WHEN prog.cutoff IS NULL THEN 1 ELSE 0 END AS no_cutoff,
    CASE WHEN a.target_share IS NULL AND prog.departments_expected > 1 THEN 1 ELSE 0 END AS no_share,
    COALESCE(ms.due, 0) AS ms_due, COALESCE(ms.on_time, 0) AS ms_on_time, COALESCE(ms.overdue, 0) AS ms_overdue,
    COALESCE(ms.late, 0) AS ms_late, COALESCE(ms.due_soon, 0) AS ms_due_soon, COALESCE(ms.cp_overdue, 0) AS cp_ms_overdue
  FROM {T["assignment"]} a
  JOIN prog ON prog.indicator_id = a.indicator_id
  LEFT JOIN agg ON agg.indicator_id = a.indicator_id AND agg.department_id = a.department_id
  LEFT JOIN {T["figure"]} latest
    ON latest.indicator_id = a.indicator_id AND latest.department_id = a.department_id AND latest.period_start = agg.last_reported
  LEFT JOIN {T["figure"]} cp_latest
    ON cp_latest.indicator_id = a.indicator_id AND cp_latest.department_id = a.department_id AND cp_latest.period_start = agg.cp_last
  LEFT JOIN ms ON ms.task_id = prog.task_id
),
{MEASURES_SQL}
INSERT INTO {T["dprog"]} ({", ".join(columns)})
SELECT %(plan)s, %(week)s, %(as_of)s, %(now)s, indicator_id, department_id, {MEASURES_SELECT}
FROM measured WHERE TRUE
{_upsert_clause(["week", "indicator_id", "department_id"], ["plan_id", "as_of", "computed_at", *MEASURE_COLUMNS])}
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _indicator_rows(week: Week, params: dict, only: str) -> None:
    """Per indicator: the departments' rows added up (rates: their mean), measured again."""
    columns = [
        "plan_id", "week", "as_of", "computed_at", "indicator_id", "schedule_share", "checkpoint_passed",
        "recent_periods", "periods_left_half", "periods_left_year", "departments_expected", "departments_reported",
        *MEASURE_COLUMNS,
    ]
    sql = f"""
WITH
prog AS (
  SELECT p.*, i.kind, i.direction, i.annual_target, i.task_id
  FROM {T["prog"]} p JOIN {T["indicator"]} i ON i.id = p.indicator_id
  WHERE p.plan_id = %(plan)s AND p.week = %(week)s {only}
),
dep AS (
  SELECT d.indicator_id,
    SUM(d.actual) AS total, AVG(d.actual) AS mean, SUM(d.checkpoint_actual) AS cp_total,
    AVG(d.checkpoint_actual) AS cp_mean, SUM(d.recent_total) AS recent_total,
    SUM(d.figure_count) AS n, SUM(d.na_count) AS na,
    SUM(CASE WHEN d.figure_count > 0 THEN 1 ELSE 0 END) AS reported
  FROM {T["dprog"]} d JOIN prog ON prog.indicator_id = d.indicator_id
  WHERE d.week = %(week)s
  GROUP BY d.indicator_id
),
{MILESTONES_SQL.format(**T)},
base AS (
  SELECT prog.indicator_id, prog.kind, prog.direction, prog.departments_expected,
    COALESCE(dep.reported, 0) AS reported,
    CASE WHEN prog.kind = 'milestone' THEN ms.due ELSE prog.annual_target END AS target,
    CASE
      WHEN prog.kind IN {SUMMED} THEN dep.total
      WHEN prog.kind = 'milestone' THEN ms.on_time
      ELSE dep.mean
    END AS actual,
    CASE WHEN prog.kind IN {SUMMED} THEN dep.cp_total ELSE dep.cp_mean END AS cp_actual,
    dep.recent_total, COALESCE(dep.n, 0) AS n, COALESCE(dep.na, 0) AS na,
    prog.schedule_share AS share, prog.checkpoint_passed AS cp_passed, prog.recent_periods,
    prog.periods_left_half AS left_half, prog.periods_left_year AS left_year,
    CASE WHEN prog.cutoff IS NULL THEN 1 ELSE 0 END AS no_cutoff, 0 AS no_share,
    COALESCE(ms.due, 0) AS ms_due, COALESCE(ms.on_time, 0) AS ms_on_time, COALESCE(ms.overdue, 0) AS ms_overdue,
    COALESCE(ms.late, 0) AS ms_late, COALESCE(ms.due_soon, 0) AS ms_due_soon, COALESCE(ms.cp_overdue, 0) AS cp_ms_overdue
  FROM prog
  LEFT JOIN dep ON dep.indicator_id = prog.indicator_id
  LEFT JOIN ms ON ms.task_id = prog.task_id
),
{MEASURES_SQL}
INSERT INTO {T["prog"]} ({", ".join(columns)})
SELECT %(plan)s, %(week)s, %(as_of)s, %(now)s, indicator_id, share, cp_passed, recent_periods, left_half,
  left_year, departments_expected, reported, {MEASURES_SELECT}
FROM measured WHERE TRUE
{_upsert_clause(["week", "indicator_id"], ["as_of", "computed_at", "departments_reported", *MEASURE_COLUMNS])}
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------------
# Step 3: departments — reporting completeness and timeliness, results, score; then ranks.


def _periods_values(week: Week) -> tuple[str, dict]:
    """A VALUES list of every reporting period of the year: frequency, start, due time, current or not."""
    ops = connection.ops
    rows, params = [], {}
    for frequency in (Frequency.WEEKLY, Frequency.MONTHLY):
        current = reporting_period(week.as_of, frequency)
        for n, start in enumerate(periods_until(week.plan.year, frequency, datetime.date(week.plan.year, 12, 31))):
            key = f"{frequency[0]}{n}"
            params[f"{key}s"] = ops.adapt_datefield_value(start)
            params[f"{key}d"] = ops.adapt_datetimefield_value(due_at(week.plan, start, frequency))
            cast_date = "CAST(%({k}s)s AS DATE)".format(k=key) if connection.vendor == "postgresql" else f"%({key}s)s"
            cast_time = "CAST(%({k}d)s AS TIMESTAMPTZ)".format(k=key) if connection.vendor == "postgresql" else f"%({key}d)s"
            rows.append(f"('{frequency}', {cast_date}, {cast_time}, {1 if start == current else 0})")
    return ",\n    ".join(rows), params


def _department_scores(week: Week, params: dict, only_departments: str) -> None:
    values, period_params = _periods_values(week)
    params = {**params, **period_params}
    plan = week.plan
    weights = {
        "wi": float(plan.score_weight_indicators),
        "wm": float(plan.score_weight_milestones),
        "wt": float(plan.score_weight_timeliness),
        "penalty": float(plan.score_red_penalty),
    }
    params.update(weights)
    columns = [
        "plan_id", "week", "as_of", "computed_at", "department_id", "cells_due", "cells_entered", "cells_on_time",
        "period_due", "period_entered", "completeness_pct", "timeliness_pct", "indicator_count", "attainment_pct",
        "red", "milestones_due", "milestones_on_time", "milestone_pct", "score",
    ]
    sql = f"""
WITH
periods(frequency, period_start, due, is_current) AS (VALUES
    {values}
),
expected AS (
  SELECT a.department_id, a.indicator_id, p.period_start, p.due, p.is_current
  FROM {T["assignment"]} a
  JOIN {T["indicator"]} i ON i.id = a.indicator_id
  JOIN {T["task"]} t ON t.id = i.task_id
  JOIN {T["action"]} ac ON ac.id = t.action_id
  JOIN periods p ON p.frequency = i.frequency
  WHERE ac.plan_id = %(plan)s AND i.kind <> 'milestone' AND (p.due <= %(as_of_end)s OR p.is_current = 1)
    {only_departments}
),
cells AS (
  SELECT e.department_id,
    SUM(CASE WHEN e.due <= %(as_of_end)s THEN 1 ELSE 0 END) AS due,
    SUM(CASE WHEN e.due <= %(as_of_end)s AND f.id IS NOT NULL THEN 1 ELSE 0 END) AS entered,
    SUM(CASE WHEN e.due <= %(as_of_end)s AND f.entered_at <= e.due THEN 1 ELSE 0 END) AS on_time,
    SUM(e.is_current) AS period_due,
    SUM(CASE WHEN e.is_current = 1 AND f.id IS NOT NULL THEN 1 ELSE 0 END) AS period_entered
  FROM expected e
  LEFT JOIN {T["figure"]} f
    ON f.indicator_id = e.indicator_id AND f.department_id = e.department_id AND f.period_start = e.period_start
  GROUP BY e.department_id
),
results AS (
  SELECT d.department_id, COUNT(*) AS indicators,
    SUM(CASE WHEN d.attainment_pct IS NOT NULL THEN i.weight * (CASE WHEN d.attainment_pct > 100 THEN 100.0 ELSE d.attainment_pct END) END)
      / SUM(CASE WHEN d.attainment_pct IS NOT NULL THEN i.weight END) AS attainment,
    SUM(CASE WHEN d.light = 'red' THEN 1 ELSE 0 END) AS red
  FROM {T["dprog"]} d JOIN {T["indicator"]} i ON i.id = d.indicator_id
  WHERE d.plan_id = %(plan)s AND d.week = %(week)s {only_departments.replace("a.department_id", "d.department_id")}
  GROUP BY d.department_id
),
ms AS (
  SELECT t.lead_department_id AS department_id,
    SUM(CASE WHEN m.planned_date <= %(as_of)s THEN 1 ELSE 0 END) AS due,
    SUM(CASE WHEN m.planned_date <= %(as_of)s AND m.done_date IS NOT NULL AND m.done_date <= m.planned_date THEN 1 ELSE 0 END) AS on_time
  FROM {T["milestone"]} m JOIN {T["task"]} t ON t.id = m.task_id JOIN {T["action"]} ac ON ac.id = t.action_id
  WHERE ac.plan_id = %(plan)s
  GROUP BY t.lead_department_id
),
departments AS (
  SELECT department_id FROM cells UNION SELECT department_id FROM results
),
parts AS (
  SELECT dd.department_id,
    COALESCE(c.due, 0) AS due, COALESCE(c.entered, 0) AS entered, COALESCE(c.on_time, 0) AS on_time,
    COALESCE(c.period_due, 0) AS period_due, COALESCE(c.period_entered, 0) AS period_entered,
    CASE WHEN c.due > 0 THEN c.entered * 100.0 / c.due END AS completeness,
    CASE WHEN c.due > 0 THEN c.on_time * 100.0 / c.due END AS timeliness,
    COALESCE(r.indicators, 0) AS indicators, r.attainment, COALESCE(r.red, 0) AS red,
    COALESCE(ms.due, 0) AS ms_due, COALESCE(ms.on_time, 0) AS ms_on_time,
    CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END AS ms_pct
  FROM departments dd
  LEFT JOIN cells c ON c.department_id = dd.department_id
  LEFT JOIN results r ON r.department_id = dd.department_id
  LEFT JOIN ms ON ms.department_id = dd.department_id
),
scored AS (
  SELECT parts.*,
    CASE WHEN attainment IS NULL AND ms_pct IS NULL AND timeliness IS NULL THEN NULL ELSE
      (COALESCE(%(wi)s * attainment, 0) + COALESCE(%(wm)s * ms_pct, 0) + COALESCE(%(wt)s * timeliness, 0))
      / NULLIF(CASE WHEN attainment IS NULL THEN 0 ELSE %(wi)s END + CASE WHEN ms_pct IS NULL THEN 0 ELSE %(wm)s END
         + CASE WHEN timeliness IS NULL THEN 0 ELSE %(wt)s END, 0)
      * (%(wi)s + %(wm)s + %(wt)s) / 100.0
      - %(penalty)s * red
    END AS score
  FROM parts
)
INSERT INTO {T["score"]} ({", ".join(columns)})
SELECT %(plan)s, %(week)s, %(as_of)s, %(now)s, department_id, due, entered, on_time, period_due, period_entered,
  completeness, timeliness, indicators, attainment, red, ms_due, ms_on_time, ms_pct, score
FROM scored WHERE TRUE
{_upsert_clause(["plan_id", "week", "department_id"], columns[2:])}
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Ranks over every department of the week, and the rank each had the week before.
        cursor.execute(
            f"""
UPDATE {T["score"]} SET rank = ranked.new_rank, previous_rank = ranked.old_rank
FROM (
  SELECT s.id,
    CASE WHEN s.score IS NULL THEN NULL ELSE RANK() OVER (ORDER BY CASE WHEN s.score IS NULL THEN 1 ELSE 0 END, s.score DESC) END AS new_rank,
    prev.rank AS old_rank
  FROM {T["score"]} s
  LEFT JOIN {T["score"]} prev ON prev.plan_id = s.plan_id AND prev.department_id = s.department_id AND prev.week = %(previous)s
  WHERE s.plan_id = %(plan)s AND s.week = %(week)s
) AS ranked
WHERE {T["score"]}.id = ranked.id
""",
            params,
        )


# ---------------------------------------------------------------------------------------------------
# Step 4: tasks, actions and the plan.


def _rollups(week: Week, params: dict) -> None:
    columns = [
        "plan_id", "week", "as_of", "computed_at", "level", "subject", "task_id", "action_id", "indicator_count",
        "green", "yellow", "red", "no_light", "attainment_pct", "completion_pct", "schedule_pct", "half_met",
        "half_not_met", "milestones_due", "milestones_on_time", "milestones_overdue", "figure_count",
        "departments_expected", "departments_reported",
    ]
    group_sql = """
  SELECT {level_literal} AS level, {subject} AS subject, {task_id} AS task_id, {action_id} AS action_id,
    SUM(is_indicator) AS indicator_count,
    SUM(CASE WHEN light = 'green' THEN is_indicator ELSE 0 END) AS green,
    SUM(CASE WHEN light = 'yellow' THEN is_indicator ELSE 0 END) AS yellow,
    SUM(CASE WHEN light = 'red' THEN is_indicator ELSE 0 END) AS red,
    SUM(CASE WHEN light = 'none' THEN is_indicator ELSE 0 END) AS no_light,
    SUM(CASE WHEN attainment IS NOT NULL THEN weight * attainment END) / SUM(CASE WHEN attainment IS NOT NULL THEN weight END) AS attainment,
    SUM(CASE WHEN completion IS NOT NULL THEN weight * completion END) / SUM(CASE WHEN completion IS NOT NULL THEN weight END) AS completion,
    SUM(CASE WHEN schedule IS NOT NULL THEN weight * schedule END) / SUM(CASE WHEN schedule IS NOT NULL THEN weight END) AS schedule,
    SUM(CASE WHEN half = 'met' THEN is_indicator ELSE 0 END) AS half_met,
    SUM(CASE WHEN half = 'not_met' THEN is_indicator ELSE 0 END) AS half_not_met,
    SUM(ms_due) AS ms_due, SUM(ms_on_time) AS ms_on_time, SUM(ms_overdue) AS ms_overdue, SUM(figures) AS figures
  FROM parts {group_by}
"""
    sql = f"""
WITH
{MILESTONES_SQL.format(**T)},
parts AS (
  -- Each indicator is a part with its weight; a task's milestones are one more part of weight 1.
  SELECT t.id AS task_id, t.action_id, 1 AS is_indicator, i.weight, p.attainment_pct AS attainment,
    p.completion_pct AS completion, p.schedule_pct AS schedule, p.light, p.half_year_status AS half,
    0 AS ms_due, 0 AS ms_on_time, 0 AS ms_overdue, p.figure_count AS figures
  FROM {T["prog"]} p JOIN {T["indicator"]} i ON i.id = p.indicator_id JOIN {T["task"]} t ON t.id = i.task_id
  WHERE p.plan_id = %(plan)s AND p.week = %(week)s AND i.kind <> 'milestone'
  UNION ALL
  SELECT t.id, t.action_id, 0, 1,
    CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END, CASE WHEN ms.due > 0 THEN ms.on_time * 100.0 / ms.due END,
    NULL, 'milestones', 'milestones', ms.due, ms.on_time, ms.overdue, 0
  FROM ms JOIN {T["task"]} t ON t.id = ms.task_id
),
grouped AS (
{group_sql.format(level_literal="'task'", subject="'task:' || CAST(task_id AS VARCHAR(20))", task_id="task_id", action_id="NULL", group_by="GROUP BY task_id")}
UNION ALL
{group_sql.format(level_literal="'action'", subject="'action:' || CAST(action_id AS VARCHAR(20))", task_id="NULL", action_id="action_id", group_by="GROUP BY action_id")}
UNION ALL
{group_sql.format(level_literal="'plan'", subject="'plan:' || CAST(%(plan)s AS VARCHAR(20))", task_id="NULL", action_id="NULL", group_by="")}
),
reporting AS (
  SELECT COUNT(*) AS expected, SUM(CASE WHEN period_entered >= period_due THEN 1 ELSE 0 END) AS reported
  FROM {T["score"]} WHERE plan_id = %(plan)s AND week = %(week)s AND period_due > 0
)
INSERT INTO {T["rollup"]} ({", ".join(columns)})
SELECT %(plan)s, %(week)s, %(as_of)s, %(now)s, level, subject, task_id, action_id, COALESCE(indicator_count, 0),
  COALESCE(green, 0), COALESCE(yellow, 0), COALESCE(red, 0), COALESCE(no_light, 0), attainment, completion, schedule,
  COALESCE(half_met, 0), COALESCE(half_not_met, 0), COALESCE(ms_due, 0), COALESCE(ms_on_time, 0),
  COALESCE(ms_overdue, 0), COALESCE(figures, 0),
  CASE WHEN level = 'plan' THEN COALESCE(reporting.expected, 0) ELSE 0 END,
  CASE WHEN level = 'plan' THEN COALESCE(reporting.reported, 0) ELSE 0 END
FROM grouped CROSS JOIN reporting WHERE TRUE
{_upsert_clause(["plan_id", "week", "subject"], columns[2:])}
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------------
# Entry points.


def _params(week: Week, now: datetime.datetime) -> dict:
    ops = connection.ops
    plan = week.plan
    as_of_end = timezone.make_aware(datetime.datetime.combine(week.as_of, datetime.time.max))
    return {
        "plan": plan.pk,
        "week": ops.adapt_datefield_value(week.start),
        "previous": ops.adapt_datefield_value(week.previous),
        "as_of": ops.adapt_datefield_value(week.as_of),
        "as_of_end": ops.adapt_datetimefield_value(as_of_end),
        "soon": ops.adapt_datefield_value(week.as_of + datetime.timedelta(days=plan.deadline_warning_days)),
        "checkpoint": ops.adapt_datefield_value(plan.checkpoint),
        "now": ops.adapt_datetimefield_value(now),
        "yellow": float(plan.yellow_gap_pp),
        "growth_yellow": float(plan.growth_yellow_pp),
        "pace_multiple": float(plan.pace_alert_multiple),
    }


def _id_filter(column: str, ids) -> str:
    if ids is None:
        return ""
    ids = [int(i) for i in ids] or [0]
    return f"AND {column} IN ({', '.join(str(i) for i in ids)})"


@transaction.atomic
def rollup_week(week: Week, *, indicator_ids=None, department_ids=None) -> None:
    """Compute and store one week of a plan: every indicator, or only those given (incremental)."""
    if connection.vendor == "postgresql":
        # Two workers rolling up the same plan and week take turns instead of deadlocking on the upserts.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [week.plan.pk, week.start.toordinal()])
    now = timezone.now()
    indicators = Indicator.objects.filter(task__action__plan=week.plan)
    if indicator_ids is not None:
        indicators = indicators.filter(pk__in=indicator_ids)
    _write_inputs(week, list(indicators), now)
    params = _params(week, now)
    only = _id_filter("p.indicator_id", indicator_ids)
    _department_rows(week, params, only)
    _indicator_rows(week, params, only)
    _department_scores(week, params, _id_filter("a.department_id", department_ids))
    _rollups(week, params)
