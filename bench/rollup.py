"""Benchmark of the roll-up engine on PostgreSQL with about a million figures.

    .venv/bin/python bench/rollup.py [--indicators 2000] [--per-indicator 10] [--weeks 52] [--edits 100]
                                     [--early-edits 10] [--keep]

It creates its own database (planboard_bench_rollup, dropped at the end unless --keep; with --keep the
figures are reused and the roll-up tables emptied), fills a synthetic plan with `seed_demo --scale`, and
prints, each beside the floor measured next to it in the same run:
  - the first roll-up of a never-rolled week (the last week, the one with most figures), exactly as the
    engine meets it: no warm-up, no ANALYZE, statistics as autovacuum left them,
  - the hourly run over unchanged rows, and a day's first run (every row's as-of day moves, every row is
    rewritten), median of 3; these three first from the figures (nothing rolled up yet), then, after the
    year below, as the hourly beat runs them with the week before settled (it carries its sums),
  - the incremental roll-up after one edit in the current week and after one edit in January (which
    rolls up every week after it), p50 / p95,
  - the whole year rolled up by `manage.py rollup --from` January in a fresh process, as an operator
    runs it, with that process's peak memory and its PostgreSQL backend's (peak RSS, which counts the
    shared buffers it touched) and the temporary files PostgreSQL wrote (pg_stat_database),
  - the nightly check of that year (`manage.py rollup --verify`: every week recomputed from the figures
    and compared with what is stored), in a fresh process.
The floor is one bare SQL GROUP BY computing the same cumulative sums in a single process (INSERT …
SELECT never runs in parallel, so that is the fair floor; the parallel one is printed too). Each
comparison is printed on its own line as `ratio <name>=<x>`, the median of runs paired with a floor
measured just before each.
"""

import argparse
import datetime
import random
import statistics
import subprocess
import sys
import time

from _database import ROOT, close_database, open_database

DB = "planboard_bench_rollup"
YEAR = 2030
ROLLUP_TABLES = [
    "metrics_monthlyranking", "metrics_departmentscore", "metrics_rollup", "metrics_departmentindicatorprogress",
    "metrics_indicatorprogress",
]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--per-indicator", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--edits", type=int, default=100, help="edits in the current week")
    parser.add_argument("--early-edits", type=int, default=10, help="edits in January (each rolls up every later week)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse its figures next time)")
    args = parser.parse_args()
    # The as-of week is the last week with figures; "today" is its Sunday.
    as_of = datetime.date.fromisocalendar(YEAR, args.weeks, 1)
    today = as_of + datetime.timedelta(days=6)

    env = open_database(DB, keep=args.keep, env={"PLANBOARD_TODAY": today.isoformat()})
    manage = [sys.executable, str(ROOT / "manage.py")]
    from django.db import connection

    from actions.models import Plan
    from metrics.models import Figure

    plan = Plan.objects.filter(year=YEAR).first()
    expected = args.indicators * args.per_indicator * args.weeks
    if plan is None or Figure.objects.filter(indicator__task__action__plan=plan).count() != expected:
        started = time.monotonic()
        subprocess.run(
            [*manage, "seed_demo", "--force", "--scale", "--scale-year", str(YEAR), "--indicators", str(args.indicators),
             "--departments", str(args.departments), "--per-indicator", str(args.per_indicator), "--weeks", str(args.weeks)],
            check=True, env=env, stdout=subprocess.DEVNULL,
        )
        print(f"seeded {expected:,} figures in {time.monotonic() - started:.0f} s")
        plan = Plan.objects.get(year=YEAR)
    else:
        with connection.cursor() as cursor:  # a kept database: every week is never-rolled again
            cursor.execute(f"TRUNCATE {', '.join(ROLLUP_TABLES)}")
    figures = Figure.objects.count()

    from metrics.rollup.engine import Week, rollup_week
    from metrics.rollup.services import rollup_touched

    week = Week.of(plan, as_of, today)
    floor_sql = (
        "SELECT indicator_id, department_id, SUM(value) FROM metrics_figure "
        "WHERE period_start <= %s GROUP BY indicator_id, department_id"
    )

    def floor(parallel=False):
        with connection.cursor() as cursor:
            if not parallel:
                cursor.execute("SET max_parallel_workers_per_gather = 0")
            started = time.perf_counter()
            cursor.execute(floor_sql, [week.start])
            cursor.fetchall()
            elapsed = time.perf_counter() - started
            cursor.execute("RESET max_parallel_workers_per_gather")
        return elapsed

    def paired(fn, runs=3):
        """Median time of fn, median floor, median of the ratios of each run to the floor just before it."""
        times, floors = [], []
        for _ in range(runs):
            floors.append(floor())
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times), statistics.median(floors), statistics.median(t / f for t, f in zip(times, floors))

    def temp_files():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT temp_files, temp_bytes FROM pg_stat_database WHERE datname = current_database()")
            return cursor.fetchone()

    floor()  # the figures' pages into the cache, for the floor and the roll-up alike
    floor_parallel = statistics.median(floor(parallel=True) for _ in range(3))
    temp_before = temp_files()
    first, first_floor, first_ratio = paired(lambda: rollup_week(week), runs=1)
    time.sleep(1.1)  # PostgreSQL publishes a backend's statistics at most once a second
    temp_first = [a - b for a, b in zip(temp_files(), temp_before)]
    hourly, hourly_floor, hourly_ratio = paired(lambda: rollup_week(week))
    # A day's first run: every row's as-of day moves, so every row is rewritten.
    days = iter([today - datetime.timedelta(days=2), today - datetime.timedelta(days=1)] * 3)
    rewrite, rewrite_floor, rewrite_ratio = paired(lambda: rollup_week(Week.of(plan, as_of, next(days))))
    rollup_week(week)

    # The supervision ladder runs inside every full roll-up above (the week_rolled_up signal); alone here:
    # issuing the week's orders afresh (a plan's first run), and judging the same week again (the hourly run).
    from metrics.models import OrderRun, SupervisionOrder
    from metrics.supervision.orders import issue_orders

    def ladder_afresh():
        SupervisionOrder.objects.filter(plan=plan).delete()
        OrderRun.objects.filter(plan=plan).delete()
        return issue_orders(week)

    ladder_floor = floor()
    started = time.perf_counter()
    outcome = ladder_afresh()
    ladder_first = time.perf_counter() - started
    ladder_again, ladder_again_floor, ladder_again_ratio = paired(lambda: issue_orders(week))

    # The whole year, never rolled up, in a fresh process as an operator runs it; it reports its own
    # peak memory and its PostgreSQL backend's.
    probe = (
        "import datetime, resource, time, django; django.setup(); from django.core.management import call_command; "
        "from django.db import connection; cursor = connection.cursor(); cursor.execute('SELECT pg_backend_pid()'); "
        "pid = cursor.fetchone()[0]; started = time.perf_counter(); "
        f"call_command('rollup', first=datetime.date({YEAR}, 1, 1), as_of=datetime.date.fromisoformat('{as_of}'), stdout=open('/dev/null', 'w')); "
        "elapsed = time.perf_counter() - started; "
        "status = dict(line.split(':', 1) for line in open(f'/proc/{pid}/status')); "
        "print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, status['VmHWM'].split()[0], status['RssAnon'].split()[0])"
    )
    temp_before = temp_files()
    year_floor = floor()
    out = subprocess.run([sys.executable, "-c", probe], check=True, env=env, cwd=ROOT, capture_output=True, text=True).stdout
    year_seconds, worker_rss, backend_hwm, backend_anon = out.split()[-4:]
    year_seconds = float(year_seconds)
    time.sleep(1.1)
    temp_year = [a - b for a, b in zip(temp_files(), temp_before)]

    # The nightly check of that year: every week recomputed from the figures in a savepoint and compared.
    started = time.perf_counter()
    check = subprocess.run([*manage, "rollup", "--plan", str(plan.pk), "--verify", "--as-of", as_of.isoformat()],
                           check=True, env=env, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    verify_seconds = time.perf_counter() - started

    # The week in progress as the hourly beat runs it (services.rollup_plan_catch_up), now that the week before
    # is stored and settled (rolled up above, every change to it covered): it carries the week before's sums.
    # Its first roll-up (Monday's first run), the hourly run over unchanged rows, and a day's first run.
    from django.conf import settings

    from metrics.models import DepartmentIndicatorProgress, DepartmentScore, IndicatorProgress, Rollup
    from metrics.rollup.inputs import settled_before
    from metrics.rollup.services import rollup_plan_catch_up

    assert settled_before(week), "the week before should be settled after the year's roll-up"
    for model in (IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore):
        model.objects.filter(plan=plan, week=week.start).delete()
    settled_first, settled_first_floor, settled_first_ratio = paired(lambda: rollup_plan_catch_up(plan=plan), runs=1)
    settled_hourly, settled_hourly_floor, settled_hourly_ratio = paired(lambda: rollup_plan_catch_up(plan=plan))

    def next_day():
        settings.PLANBOARD_TODAY = next(days)
        rollup_plan_catch_up(plan=plan)

    days = iter([today - datetime.timedelta(days=2), today - datetime.timedelta(days=1)] * 3)
    settled_full, settled_full_floor, settled_full_ratio = paired(next_day)
    settings.PLANBOARD_TODAY = today
    rollup_plan_catch_up(plan=plan)
    assert settled_before(week)

    rng = random.Random(1)

    def edits(period_start, count):
        candidates = list(
            Figure.objects.filter(indicator__task__action__plan=plan, period_start=period_start).values_list("pk", flat=True)
        )
        times = []
        for _ in range(count):
            figure = Figure.objects.get(pk=rng.choice(candidates))
            figure.value += 1
            figure.save(update_fields=["value", "updated"])
            started = time.perf_counter()
            rollup_touched(plan=plan, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start],
                           department_ids=[figure.department_id])
            times.append((time.perf_counter() - started) * 1000)
        return times

    current = edits(week.start, args.edits)
    early = edits(datetime.date.fromisocalendar(YEAR, 1, 1), args.early_edits)
    edit_floor = floor()

    mb = 1024 * 1024
    print(f"figures in the database:              {figures:,}")
    print(f"floor, bare GROUP BY (one process):   {first_floor * 1000:8.0f} ms   (parallel: {floor_parallel * 1000:.0f} ms)")
    print("the week in progress, the week before settled (the hourly beat's run: it carries the week before's sums):")
    print(f"first roll-up of a never-rolled week: {settled_first * 1000:8.0f} ms   (floor {settled_first_floor * 1000:.0f} ms)")
    print(f"ratio first_week_vs_floor={settled_first_ratio:.1f}   (goal <= 3)")
    print(f"full run, every row rewritten:        {settled_full * 1000:8.0f} ms   (floor {settled_full_floor * 1000:.0f} ms)")
    print(f"ratio full_vs_floor={settled_full_ratio:.1f}   (goal <= 2)")
    print(f"hourly run, rows unchanged:           {settled_hourly * 1000:8.0f} ms   (floor {settled_hourly_floor * 1000:.0f} ms)")
    print(f"ratio hourly_vs_floor={settled_hourly_ratio:.1f}   (goal <= 1.5)")
    print("the same week added up from the figures (the week before never rolled up, or a change to it left uncovered):")
    print(f"first roll-up of a never-rolled week: {first * 1000:8.0f} ms   (no warm-up, no ANALYZE; "
          f"temp files {temp_first[0]}, {temp_first[1] / mb:.0f} MB)")
    print(f"ratio first_week_from_figures_vs_floor={first_ratio:.1f}")
    print(f"full run, every row rewritten:        {rewrite * 1000:8.0f} ms   (floor {rewrite_floor * 1000:.0f} ms)")
    print(f"ratio full_from_figures_vs_floor={rewrite_ratio:.1f}")
    print(f"hourly run, rows unchanged:           {hourly * 1000:8.0f} ms   (floor {hourly_floor * 1000:.0f} ms)")
    print(f"ratio hourly_from_figures_vs_floor={hourly_ratio:.1f}")
    print(f"  (each full run includes the supervision ladder; alone, issuing the week's {outcome.issued:,} orders afresh: "
          f"{ladder_first * 1000:.0f} ms, floor {ladder_floor * 1000:.0f} ms; judging the same week again: "
          f"{ladder_again * 1000:.0f} ms, floor {ladder_again_floor * 1000:.0f} ms)")
    print(f"ratio ladder_again_vs_floor={ladder_again_ratio:.2f}")
    print(f"incremental, edit in the current week: p50 {statistics.median(current):.1f} ms, "
          f"p95 {percentile(current, 95):.1f} ms ({len(current)} edits; goal p95 <= 50 ms; floor {edit_floor * 1000:.0f} ms)")
    print(f"incremental, edit in January:          p50 {statistics.median(early):.1f} ms, "
          f"p95 {percentile(early, 95):.1f} ms ({len(early)} edits, {args.weeks} weeks each; goal p95 <= 500 ms)")
    print(f"whole year rolled up (rollup --from {YEAR}-01-01, {args.weeks} weeks): {year_seconds:.1f} s   "
          f"(goal <= 60 s; floor of the last week {year_floor * 1000:.0f} ms)")
    print(f"ratio year_vs_52_floors={year_seconds / (args.weeks * year_floor):.1f}")
    print(f"nightly check of that year (rollup --verify, 52 weeks from the figures, compared): {verify_seconds:.1f} s; {check}")
    print(f"memory of that run: Python max RSS {int(worker_rss) / 1024:.0f} MB; PostgreSQL backend peak RSS "
          f"{int(backend_hwm) / 1024:.0f} MB (anonymous at the end {int(backend_anon) / 1024:.0f} MB); "
          f"temp files {temp_year[0]}, {temp_year[1] / mb:.0f} MB")

    close_database(DB, keep=args.keep)


if __name__ == "__main__":
    main()
