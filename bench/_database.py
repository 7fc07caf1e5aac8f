"""What the benchmarks share: their own PostgreSQL database, and Django pointed at it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def _admin():
    import psycopg2

    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    return connection


def open_database(name: str, *, keep: bool, env: dict) -> dict:
    """Create the database `name` (with `keep`, reuse it if it exists), migrate it and set Django up on it.

    `env` adds settings (PLANBOARD_TODAY, …) to the environment; the full environment is returned for
    subprocesses (manage.py, gunicorn).
    """
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{name}",
        "SECRET_KEY": "bench",
        "DJANGO_SETTINGS_MODULE": "planboard.settings",
        "CELERY_BROKER_URL": "",
        **env,
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    admin = _admin()  # not `with admin:`, which would open a transaction block
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and not keep:
            cursor.execute(f'DROP DATABASE "{name}"')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, env=env)
    import django

    django.setup()
    return env


def close_database(name: str, *, keep: bool) -> None:
    """Close Django's connection and, unless `keep`, drop the database."""
    from django.db import connection

    connection.close()
    if not keep:
        admin = _admin()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}"')
        admin.close()
