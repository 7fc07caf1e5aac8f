"""Benchmark: saving a 50-indicator weekly sheet on PostgreSQL.

Creates its own database (planboard_bench_entry, dropped again at the end), loads a plan whose department
reports 50 weekly indicators, then times >= 200 submits of the whole sheet through the real view (middleware,
session, permission checks, validation, version checks, history, redirect) with Django's test client. Each
submit changes all 50 figures. It prints p50/p95 server time and SQL queries per submit, then adds ~100,000
figures (the department's own history and other departments') and measures again: the query count must not
grow with the rows already in the database.

The roll-up the save queues is replaced by a no-op publish: in production it is a Celery message sent after
commit; here it would otherwise run eagerly inside the timed request.

    python bench/entry.py [--submits 200] [--url postgres://postgres@127.0.0.1:5432/planboard_bench_entry]
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/planboard_bench_entry"
INDICATORS = 50
TODAY = datetime.date(2022, 5, 20)
WEEK = datetime.date(2022, 5, 16)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--url", default=os.environ.get("BENCH_ENTRY_DATABASE_URL", DEFAULT_URL))
    return parser.parse_args()


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if name != "planboard_bench_entry":
        raise SystemExit(f"refusing to drop a database not named planboard_bench_entry: {name!r}")
    admin = psycopg2.connect(dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"] or 5432,
                             password=config.get("PASSWORD") or None)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
        )
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if not drop_only:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def bench_plan() -> dict:
    """Eight actions, 50 weekly amount indicators all reported by one department (and a second department)."""
    actions = []
    n = 0
    for number, codename in enumerate(["轰鸣", "火炬", "奔跑", "沃土", "添砖", "焕颜", "增色", "提升"], start=1):
        tasks = []
        for task_number in range(1, 3):
            indicators = []
            while len(indicators) < 4 and n < INDICATORS:
                n += 1
                indicators.append({
                    "code": f"ind-{n}", "name": f"指标{n}", "unit": "亿元", "kind": "amount", "annual_target": 520,
                    "frequency": "weekly",
                    "departments": [{"department": "bench", "share": 420}, {"department": "other", "share": 100}],
                })
            tasks.append({"number": task_number, "title": f"任务{number}.{task_number}", "lead_department": "bench",
                          "deadline": "2022-12-31", "indicators": indicators})
        actions.append({"number": number, "codename": codename, "title": f"行动{number}", "lead_department": "bench",
                        "tasks": tasks})
    if n < INDICATORS:
        raise AssertionError("the bench plan has room for 64 indicators")
    return {
        "plan": {"year": 2022, "title": "基准测试计划"},
        "departments": [
            {"code": "bench", "name": "基准局", "short_name": "基准局", "kind": "department"},
            {"code": "other", "name": "其他局", "short_name": "其他局", "kind": "department"},
        ],
        "actions": actions,
    }


def measure_first_saves(client, department, indicator_ids, submits):
    """A sheet saved for the first time (50 new figures and their history): rows deleted between submits, untimed."""
    from metrics.models import Figure

    times, queries = [], []
    for _ in range(submits):
        Figure.history.model.objects.filter(department=department, period_start=WEEK).delete()
        Figure.objects.filter(department=department, period_start=WEEK).delete()
        t, q = measure(client, department, indicator_ids, {}, 1, 10)
        times += t
        queries += q
    return times, queries


def measure(client, department, indicator_ids, versions, submits, start_value):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from metrics.models import Figure

    url = f"/report/?department={department.code}&frequency=weekly&period={WEEK.isoformat()}"
    times, queries = [], []
    for i in range(submits):
        value = start_value + (i % 2)  # alternate, so every submit changes all 50 figures
        data = {"department": department.code, "frequency": "weekly", "period": WEEK.isoformat(), "action": "save"}
        for pk in indicator_ids:
            data[f"v-{pk}"] = str(value)
            data[f"note-{pk}"] = ""
            data[f"ver-{pk}"] = str(versions.get(pk, 0))
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.post(url, data)
            elapsed = time.perf_counter() - began
        if response.status_code != 302:
            raise SystemExit(f"submit {i} failed with {response.status_code}: {response.content[:2000]!r}")
        times.append(elapsed * 1000)
        queries.append(len(captured.captured_queries))
        for pk, version in Figure.objects.filter(department=department, period_start=WEEK).values_list("indicator_id", "version"):
            versions[pk] = version
    return times, queries


def report(label, times, queries):
    ordered = sorted(times)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(f"{label}: {len(times)} submits of {INDICATORS} figures: p50 {statistics.median(ordered):.1f} ms, "
          f"p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms; SQL queries per submit: "
          f"{min(queries)}–{max(queries)}")
    return p95


def add_rows(plan, department, other_departments):
    """About 100,000 figures: the department's own history (earlier weeks) and other departments' figures."""
    from django.utils import timezone

    from actions.models import Indicator
    from metrics.models import Figure

    indicators = list(Indicator.objects.filter(task__action__plan=plan).order_by("pk"))
    entered = timezone.now()
    rows = []
    for weeks_back in range(1, 20):
        start = WEEK - datetime.timedelta(weeks=weeks_back)
        for indicator in indicators:
            rows.append(Figure(indicator=indicator, department=department, period_start=start, value=10, entered_at=entered))
    for other in other_departments:
        for weeks_back in range(0, 20):
            start = WEEK - datetime.timedelta(weeks=weeks_back)
            for indicator in indicators:
                rows.append(Figure(indicator=indicator, department=other, period_start=start, value=10, entered_at=entered))
    Figure.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def main():
    args = parse_args()
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic needed to save a sheet
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    os.environ["STATIC_MANIFEST"] = "0"
    os.environ["PLANBOARD_TODAY"] = TODAY.isoformat()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planboard.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    recreate_database(args.url)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from actions.models import Department, Indicator
        from actions.plan_file import validate_plan
        from actions.services import plan_load
        from metrics.models import Figure
        from planboard.roles import Role
        from tests.factories import make_user

        settings.ALLOWED_HOSTS = ["testserver"]
        settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain http
        call_command("migrate", verbosity=0)
        plan = plan_load(data=validate_plan(bench_plan())).plan
        department = Department.objects.get(code="bench")
        indicator_ids = list(Indicator.objects.filter(departments=department).order_by("pk").values_list("pk", flat=True))
        assert len(indicator_ids) == INDICATORS, len(indicator_ids)
        staff = make_user("bench-staff", role=Role.STAFF, departments=[department])
        client = Client()
        client.force_login(staff)  # django-axes refuses a login without a request
        print(f"PostgreSQL {connection.pg_version // 10000}, database {settings.DATABASES['default']['NAME']}; "
              f"roll-up publish replaced by a no-op")

        with mock.patch("metrics.tasks.rollup_indicators.delay"):
            versions: dict[int, int] = {}
            measure(client, department, indicator_ids, versions, 10, 10)  # warm up: connections, caches
            times, queries = measure(client, department, indicator_ids, versions, args.submits, 10)
            p95_small = report(f"empty database ({Figure.objects.count():,} figures)", times, queries)
            first_times, first_queries = measure_first_saves(client, department, indicator_ids, 50)
            report("first save of the sheet (creates 50 figures)", first_times, first_queries)

            others = Department.objects.bulk_create(
                [Department(code=f"filler-{i}", name=f"填充单位{i}", short_name=f"填充{i}") for i in range(100)]
            )
            added = add_rows(plan, department, others)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            versions = dict(Figure.objects.filter(department=department, period_start=WEEK).values_list("indicator_id", "version"))
            times2, queries2 = measure(client, department, indicator_ids, versions, args.submits, 11)  # 11/12: all change
            p95_big = report(f"after adding {added:,} figures ({Figure.objects.count():,} in all)", times2, queries2)
        history = Figure.history.model.objects.count()
        print(f"history rows stored at the end: {history:,} (one per changed figure per submit)")
        same = set(queries[1:]) == set(queries2)
        print(f"query count independent of rows already stored: {'yes' if same else 'NO'} "
              f"({sorted(set(queries[1:]))} vs {sorted(set(queries2))})")
        goal = max(p95_small, p95_big) <= 150
        print(f"goal p95 <= 150 ms: {'met' if goal else 'NOT met'}")
        connection.close()
    finally:
        recreate_database(args.url, drop_only=True)


if __name__ == "__main__":
    main()
