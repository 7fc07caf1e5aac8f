"""Benchmark of the dashboard pages on PostgreSQL under gunicorn, with about a million figures.

    .venv/bin/python bench/pages.py [--requests 200] [--workers 3] [--seconds 5] [--keep]

It creates its own database (planboard_bench_pages, dropped at the end unless --keep), fills it with
`seed_demo --scale` (a synthetic 2030 plan, about 1,000,000 figures) plus the 2022 demo plan, rolls up
the synthetic plan's last weeks with `manage.py rollup`, starts gunicorn (3 workers) on a free port of
127.0.0.1, signs in as the leader and prints:
  - per page, one client at a time, pages in rotating blocks: p50 / p95 of the server time (gunicorn's
    own request time, from its access log, not the client's) and the server CPU per request (the
    workers' user + system time read from /proc around each block), for /healthz (a trivial view: the
    floor), the overview, an action page, an indicator page, the page of the unit reporting the most
    indicators, and the rankings;
  - `ratio overview_vs_floor=` and `ratio action_vs_overview=` (p95), and the most CPU of any page;
  - throughput at 1, 10 and 50 keep-alive clients (threads, a bounded run of --seconds each) for
    /healthz, the overview, the action page and a sheet save (a staff member of a unit posting 50 weekly
    figures of the current week, each save changing all of them; its roll-up is queued on Redis as in
    production, and no worker runs it): requests/s, client-side p50 / p95 / p99, errors (an answer other
    than the page, or than the redirect after a save).
Requests go only to 127.0.0.1; gunicorn is stopped at the end.
"""

import argparse
import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from _database import ROOT, close_database, open_database

DB = "planboard_bench_pages"
SHEET = 50  # figures per sheet save
CSRF = "b" * 32  # the CSRF cookie's secret, posted back as the form's token (Django accepts the unmasked secret)
BROKER = "redis://127.0.0.1:6379/13"
YEAR = 2030
TODAY = f"{YEAR}-12-29"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def workers_cpu(master: int) -> float:
    """User + system CPU seconds of the gunicorn master's worker processes so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def server_times(access_log: Path, offset: int) -> dict:
    """Per path, the request times (ms) gunicorn logged after `offset`."""
    times = {}
    with access_log.open() as log:
        log.seek(offset)
        for line in log:
            path, status, micros = line.split()
            times.setdefault(path, []).append(int(micros) / 1000)
    return times


def hammer(port: int, request, clients: int, seconds: float) -> dict:
    """`clients` threads, each on its own keep-alive connection, for `seconds`: request(client number) gives
    (method, path, body, headers, expected status, callback after a success)."""
    deadline = time.perf_counter() + seconds
    times, errors = [], [0]

    def client(number):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            method, path, body, headers, expected, done = request(number)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expected
                if ok and done:
                    done()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok:
                times.append((time.perf_counter() - started) * 1000)
            else:
                errors[0] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not times:
        return {"rps": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "errors": errors[0]}
    return {"rps": len(times) / elapsed, "p50": statistics.median(times), "p95": percentile(times, 95),
            "p99": percentile(times, 99), "errors": errors[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (after 10 warm-up ones)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=5, help="length of each throughput run")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    args = parser.parse_args()

    env = open_database(DB, keep=args.keep, env={
        "DEBUG": "0",
        "PLANBOARD_TODAY": TODAY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_MANIFEST": "0",
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain http on loopback
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
    from django.db.models import Count

    from actions.models import Department

    # The unit that reports the most indicators of the plan: the longest department page.
    busiest = (Department.objects.filter(assignments__indicator__task__action__plan=plan)
               .annotate(n=Count("assignments")).order_by("-n", "pk").first())

    def signed_in(user) -> str:
        """A session of `user`, as the login view leaves it: its key for the cookie."""
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    cookie = f"sessionid={signed_in(get_user_model().objects.get(username='leader'))}; django_language=zh-hans"
    # Sheet saves: client n is a staff member of bench unit n % 40 and saves SHEET of its weekly figures of
    # the current week (disjoint between clients), each save changing all of them.
    from planboard.roles import Role
    from tests.factories import make_user

    week = datetime.date.fromisoformat(TODAY) - datetime.timedelta(days=6)
    savers = []
    departments = list(Department.objects.filter(code__startswith="bench-").order_by("code"))
    for n in range(50):
        department = departments[n % len(departments)]
        username = f"bench-staff-{n}"
        user = get_user_model().objects.filter(username=username).first() or make_user(
            username, role=Role.STAFF, departments=[department])
        ids = list(Indicator.objects.filter(task__action__plan=plan, assignments__department=department)
                   .order_by("pk").values_list("pk", flat=True))
        ids = ids[(n // len(departments)) * SHEET:][:SHEET]
        cells = Figure.objects.filter(department=department, period_start=week, indicator__in=ids)
        versions = dict(cells.values_list("indicator_id", "version"))
        # Values above any already there (a kept database holds the last run's): every save changes every
        # figure, so every save bumps every version the client sends back next time.
        base = int(max(cells.values_list("value", flat=True), default=0) or 0) + 1
        savers.append({"department": department.code, "session": signed_in(user), "ids": ids, "versions": versions,
                       "turn": 0, "base": base})
    connection.close()

    port = free_port()
    access_log = Path(tempfile.mkdtemp(prefix="planboard-bench-pages-")) / "access.log"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "planboard.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning", "--backlog", "256",
         # %(D)s: the time the worker spent on the request, in microseconds: server time, not client time.
         "--access-logfile", str(access_log), "--access-logformat", "%(U)s %(s)s %(D)s"],
        # A save queues its roll-up as in production: a message to a broker (Redis, database 13, emptied at the
        # end), which no worker reads here; without a broker it would run inside the timed request.
        cwd=ROOT, env={**env, "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER},
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        pages = {
            "floor": "/healthz",
            "overview": "/dashboards/",
            "action": "/dashboards/actions/1/",
            "indicator": f"/dashboards/indicators/{indicator.pk}/",
            "department": f"/dashboards/departments/{busiest.pk}/",
            "rankings": "/dashboards/rankings/",
        }
        headers = {"Cookie": cookie, "Host": "127.0.0.1"}

        def get(conn, path):
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status, response.getheader("Location")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in pages.values():
            for _ in range(10):
                status, location = get(conn, path)
                if status != 200:
                    raise SystemExit(f"GET {path}: HTTP {status} {location or ''}")
        # One client, pages in rotating blocks (each page meets the same conditions), the workers' CPU
        # time read around each block: server CPU per request, beside server time from the access log.
        cpu = {name: 0.0 for name in pages}
        block = max(1, args.requests // 4)  # four rounds of every page
        offset = access_log.stat().st_size
        for _ in range(args.requests // block):
            for name, path in pages.items():
                before = workers_cpu(gunicorn.pid)
                for _ in range(block):
                    get(conn, path)
                cpu[name] += workers_cpu(gunicorn.pid) - before
        conn.close()
        server = server_times(access_log, offset)

        def page(path):
            return lambda number: ("GET", path, None, headers, 200, None)

        sheet_url = f"/report/?department={{department}}&frequency=weekly&period={week.isoformat()}"

        def save(number):
            saver = savers[number]
            saver["turn"] += 1
            fields = {"csrfmiddlewaretoken": CSRF, "department": saver["department"], "frequency": "weekly",
                      "period": week.isoformat(), "action": "save"}
            for pk in saver["ids"]:
                fields[f"v-{pk}"] = str(saver["base"] + saver["turn"])
                # A year of synthetic weekly figures passes the annual target: the sheet asks for a note to confirm.
                fields[f"note-{pk}"] = "压测：已核实"
                fields[f"ver-{pk}"] = str(saver["versions"].get(pk, 0))

            def saved():
                for pk in saver["ids"]:
                    saver["versions"][pk] = saver["versions"].get(pk, 0) + 1

            return ("POST", sheet_url.format(department=saver["department"]), urllib.parse.urlencode(fields),
                    {"Cookie": f"sessionid={saver['session']}; csrftoken={CSRF}; django_language=zh-hans", "Host": "127.0.0.1",
                     "Content-Type": "application/x-www-form-urlencoded"}, 302, saved)

        requests = {"floor": page(pages["floor"]), "overview": page(pages["overview"]), "action": page(pages["action"]),
                    "sheet save": save}
        load = {clients: {name: hammer(port, request, clients, args.seconds) for name, request in requests.items()}
                for clients in (1, 10, 50)}
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=False, stdout=subprocess.DEVNULL)

    n = block * (args.requests // block)
    print(f"figures in the database: {figures:,}; {n} requests per page, one client, gunicorn --workers {args.workers}")
    print("server time (gunicorn's request time) and server CPU (the workers' user + system time) per request:")
    p95 = {}
    for name, path in pages.items():
        times = server[path]
        p95[name] = percentile(times, 95)
        print(f"  {name:10s} {path:32s} p50 {statistics.median(times):7.1f} ms   p95 {p95[name]:7.1f} ms   "
              f"CPU {cpu[name] * 1000 / n:6.1f} ms")
    print(f"ratio overview_vs_floor={p95['overview'] / p95['floor']:.1f}   (p95; goal overview <= 200 ms)")
    print(f"ratio action_vs_overview={p95['action'] / p95['overview']:.1f}   (p95; goal <= 5)")
    worst = max(cpu[name] * 1000 / n for name in pages if name != "floor")
    print(f"most server CPU of a dashboard page: {worst:.1f} ms per request (goal <= 50 ms)")
    print(f"throughput, gunicorn --workers {args.workers}, {args.seconds:g} s per run, keep-alive clients (client-side times):")
    for clients, results in load.items():
        for name, r in results.items():
            print(f"  {clients:3d} clients  {name:10s} {r['rps']:7.1f} req/s   p50 {r['p50']:7.1f} ms   "
                  f"p95 {r['p95']:7.1f} ms   p99 {r['p99']:7.1f} ms   errors {r['errors']}")

    close_database(DB, keep=args.keep)


if __name__ == "__main__":
    main()
