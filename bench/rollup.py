"""Benchmark of the roll-up engine on PostgreSQL with about a million figures.

    .venv/bin/python bench/rollup.py [--indicators 2000] [--per-indicator 10] [--weeks 52] [--keep]

It creates its own database (planboard_bench_rollup, dropped at the end unless --keep), fills a
synthetic plan with `seed_demo --scale`, and prints:
  - full recompute of one as-of week (median of 3 runs): as an hourly run finds it (few figures changed,
    unchanged rows are not rewritten), and as the first run of a day (every row's as-of day moves),
  - the floor: one bare SQL GROUP BY computing the same cumulative sums (median of 3; with PostgreSQL's
    parallel workers as configured, and single-process, since INSERT … SELECT never runs in parallel),
  - their ratio,
  - the incremental roll-up after one figure changes (p50 / p95 over 200 edits),
  - peak memory (max RSS) of a separate process doing the full roll-up, as a worker would.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--per-indicator", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    args = parser.parse_args()
    # The as-of week is the last week with figures; "today" is its Sunday.
    as_of = datetime.date.fromisocalendar(YEAR, args.weeks, 1)
    today = as_of + datetime.timedelta(days=6)

    env = open_database(DB, keep=args.keep, env={
        "PLANBOARD_TODAY": today.isoformat(),
    })
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
    figures = Figure.objects.count()

    from metrics.rollup.engine import Week, rollup_week
    from metrics.rollup.services import rollup_touched

    week = Week.of(plan, as_of, today)
    rollup_week(week)  # warm up: caches, and the stored rows an incremental run starts from
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a bulk load; without it the planner guesses

    def timed(fn, runs=3):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    full = timed(lambda: rollup_week(week))  # the hourly case: figures barely changed, rows mostly kept
    # The first run of a new day: every row's as-of day moves, so every row is rewritten.
    days = iter([today - datetime.timedelta(days=2), today - datetime.timedelta(days=1)] * 3)
    full_rewrite = timed(lambda: rollup_week(Week.of(plan, as_of, next(days))))
    rollup_week(week)

    floor_sql = (
        "SELECT indicator_id, department_id, SUM(value) FROM metrics_figure "
        "WHERE period_start <= %s GROUP BY indicator_id, department_id"
    )

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, [week.start])
            cursor.fetchall()

    floor_parallel = timed(floor)
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    floor_single = timed(floor)
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")

    rng = random.Random(1)
    candidates = list(
        Figure.objects.filter(indicator__task__action__plan=plan, period_start=week.start).values_list("pk", flat=True)
    )
    incremental = []
    for _ in range(args.edits):
        figure = Figure.objects.get(pk=rng.choice(candidates))
        figure.value += 1
        figure.save(update_fields=["value", "updated"])
        started = time.perf_counter()
        rollup_touched(plan=plan, indicator_ids=[figure.indicator_id], period_starts=[figure.period_start],
                       department_ids=[figure.department_id])
        incremental.append((time.perf_counter() - started) * 1000)
    incremental.sort()

    # A fresh process doing what a worker does for a full run; it reports its own peak memory.
    probe = (
        "import django, resource; django.setup(); from django.core.management import call_command; "
        f"call_command('rollup', as_of=__import__('datetime').date.fromisoformat('{as_of}'), stdout=open('/dev/null', 'w')); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    worker_rss = int(subprocess.run([sys.executable, "-c", probe], check=True, env=env, cwd=ROOT, capture_output=True, text=True).stdout.split()[-1])

    print(f"figures in the database:            {figures:,}")
    print(f"full recompute, one week:           {full * 1000:8.0f} ms   (every row rewritten: {full_rewrite * 1000:.0f} ms)")
    print(f"floor, bare GROUP BY (parallel):    {floor_parallel * 1000:8.0f} ms   ratio {full / floor_parallel:.1f}x")
    print(f"floor, bare GROUP BY (one process): {floor_single * 1000:8.0f} ms   ratio {full / floor_single:.1f}x")
    print(f"incremental after one edit:         p50 {statistics.median(incremental):.1f} ms, "
          f"p95 {incremental[int(len(incremental) * 0.95) - 1]:.1f} ms ({len(incremental)} edits)")
    print(f"peak memory of a full roll-up run:  {worker_rss / 1024:.0f} MB (max RSS of that process)")

    close_database(DB, keep=args.keep)


if __name__ == "__main__":
    main()
