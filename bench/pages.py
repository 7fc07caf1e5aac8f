"""Benchmark of the dashboard pages on PostgreSQL under gunicorn, with about a million figures.

    .venv/bin/python bench/pages.py [--requests 200] [--keep]

It creates its own database (planboard_bench_pages, dropped at the end unless --keep), fills it with
`seed_demo --scale` (a synthetic 2030 plan, about 1,000,000 figures) plus the 2022 demo plan, rolls up
the synthetic plan's last weeks with `manage.py rollup`, starts gunicorn on a free port of 127.0.0.1,
and times, side by side in the same run, GET requests (signed in as a leader, keep-alive, one at a
time) to:
  - /healthz, a trivial Django view (the floor),
  - the overview (/), an action page (/actions/1/) and an indicator page (/report/indicators/<id>/).
It prints p50 and p95 per page and the overview's p95 against the goals (≤ 200 ms, ≤ 5× the floor).
Requests go only to 127.0.0.1; gunicorn is stopped at the end.
"""

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _database import ROOT, close_database, open_database

DB = "planboard_bench_pages"
YEAR = 2030
TODAY = f"{YEAR}-12-29"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (after 10 warm-up ones)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    args = parser.parse_args()

    env = open_database(DB, keep=args.keep, env={
        "DEBUG": "0",
        "PLANBOARD_TODAY": TODAY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_MANIFEST": "0",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
    })
    manage = [sys.executable, str(ROOT / "manage.py")]
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from actions.models import Indicator, Plan
    from metrics.models import Figure, Rollup

    if not Plan.objects.filter(year=YEAR).exists():
        started = time.monotonic()
        subprocess.run([*manage, "seed_demo", "--force", "--scale", "--scale-year", str(YEAR)], check=True, env=env, stdout=subprocess.DEVNULL)
        # The demo plan as well (its own year), with its accounts: the leader signs in below.
        subprocess.run([*manage, "load_plan"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([*manage, "seed_demo", "--force", "--year", "2022"], check=True, env={**env, "PLANBOARD_TODAY": "2022-05-20"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"seeded in {time.monotonic() - started:.0f} s")
    plan = Plan.objects.get(year=YEAR)
    if Rollup.objects.filter(plan=plan, level="plan").count() < 8:
        started = time.monotonic()
        subprocess.run([*manage, "rollup", "--plan", str(plan.pk), "--from", f"{YEAR}-11-01", "--as-of", TODAY],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"rolled up {Rollup.objects.filter(plan=plan, level='plan').count()} weeks in {time.monotonic() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures = Figure.objects.count()
    indicator = Indicator.objects.filter(task__action__plan=plan, kind="amount").order_by("pk").first()
    leader = get_user_model().objects.get(username="leader")
    session = SessionStore()
    session[SESSION_KEY] = str(leader.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = leader.get_session_auth_hash()
    session.create()
    cookie = f"sessionid={session.session_key}; django_language=zh-hans"
    connection.close()

    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "planboard.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        pages = {
            "floor: /healthz": "/healthz",
            "overview /": "/",
            "action /actions/1/": "/actions/1/",
            f"indicator /report/indicators/{indicator.pk}/": f"/report/indicators/{indicator.pk}/",
        }
        results = {name: [] for name in pages}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(path):
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise SystemExit(f"GET {path}: HTTP {response.status}")
            return elapsed

        for path in pages.values():
            for _ in range(10):
                get(path)
        # Interleaved, so that every page meets the same conditions.
        for _ in range(args.requests):
            for name, path in pages.items():
                results[name].append(get(path))
        conn.close()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    print(f"figures in the database: {figures:,}; {args.requests} requests per page, gunicorn --workers {args.workers}")
    for name, times in results.items():
        print(f"  {name:40s} p50 {statistics.median(times):7.1f} ms   p95 {percentile(times, 95):7.1f} ms")
    floor = percentile(results["floor: /healthz"], 95)
    overview = percentile(results["overview /"], 95)
    print(f"overview p95 {overview:.1f} ms: goal ≤ 200 ms {'met' if overview <= 200 else 'NOT met'}; "
          f"{overview / floor:.1f}× the floor (goal ≤ 5×) {'met' if overview <= 5 * floor else 'NOT met'}")

    close_database(DB, keep=args.keep)


if __name__ == "__main__":
    main()
