"""Fault drill: saves under fire while the worker, Redis and PostgreSQL fail, then whether anything was lost.

    .venv/bin/python bench/faults.py [--clients 10] [--pg-port 55432] [--redis-port 56379]

Everything it uses is its own, on loopback, in a temp dir: a PostgreSQL cluster (initdb / pg_ctl from
/usr/lib/postgresql/15/bin; run as the postgres user when started as root), a Redis without persistence,
a Celery worker (prefork, 2 processes) and gunicorn. It seeds the 2022 demo plan, then:

  - 10 clients (staff of 10 departments) save their weekly sheet over and over, one cell per save, each save
    with a note no other save has;
  - kills the worker's pool processes mid-roll-up (SIGKILL), then the whole worker (SIGKILL), and starts a
    new one;
  - stops Redis (its queue is lost: no persistence) and starts it again;
  - stops PostgreSQL for a few seconds and starts it again.

Then the clients stop, and the drill plays beat: the stale sweep (metrics.tasks.rollup_stale) every few
seconds, with PLANBOARD_ROLLUP_LOST_AFTER shortened (production: every 5 minutes, 600 s), until the
stored roll-ups equal a fresh full roll-up (computed in a transaction that is rolled back) and no stale
mark is left, or a time limit. It prints saves attempted / acknowledged (HTTP 302) / present afterwards
(the save's note in the figure history), roll-up mismatches before and after recovery, and the time to
recover. Every loop is bounded; it stops by itself and kills only the processes it started.
"""

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TODAY = "2022-05-20"
WEEK = "2022-05-16"
DB = "planboard_drill"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class Postgres:
    """A throw-away cluster on its own port; as root, its files belong to and it runs as `postgres`."""

    def __init__(self, tmp: Path, port: int):
        self.data, self.port, self.log = tmp / "pg", port, tmp / "pg.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, check=True):
        return subprocess.run([*self.as_postgres, *args], check=check, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def init(self):
        self.data.mkdir()
        self.log.touch()
        if self.as_postgres:
            shutil.chown(self.data, "postgres")
            shutil.chown(self.log, "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self):
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)


class Drill:
    def __init__(self, args, tmp: Path):
        self.args, self.tmp = args, tmp
        self.pg = Postgres(tmp, args.pg_port)
        self.redis = None
        self.worker = None
        self.gunicorn = None
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{args.pg_port}/{DB}",
            "SECRET_KEY": "drill-only-not-secret",
            "DEBUG": "0",
            "STATIC_MANIFEST": "0",
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",  # plain http on loopback
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "planboard.settings",
            "PLANBOARD_TODAY": TODAY,
            "PLANBOARD_ROLLUP_LOST_AFTER": str(args.lost_after),
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{args.redis_port}/0",
            "CELERY_RESULT_BACKEND": "",
            "LOG_LEVEL": "WARNING",
        }
        self.worker_log = open(tmp / "worker.log", "ab")
        self.stop_clients = threading.Event()
        self.saves = []  # (client, note, status) of every save attempted
        self.saves_lock = threading.Lock()

    # --- processes -----------------------------------------------------------------------------

    def redis_start(self):
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.args.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.args.redis_port, seconds=20):
            raise SystemExit("redis-server did not start")

    def redis_stop(self):
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=20)

    def worker_start(self):
        self.worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "planboard", "worker", "--pool=prefork", "--concurrency=2",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname", f"drill-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=self.env, stdout=self.worker_log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, count: int, *, seconds: float) -> None:
        """Wait (bounded) until `count` workers have said "ready." in the log."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.worker_log.flush()
            if (self.tmp / "worker.log").read_text(errors="replace").count(" ready.") >= count:
                return
            time.sleep(0.2)
        log(f"worker {count} not ready after {seconds} s; going on")

    def wait_mid_rollup(self, *, seconds: float) -> str | None:
        """Wait (bounded) until the worker log shows a task received and not yet finished, both since this
        call (a task of a killed worker never finishes in the log); return its id.
        """
        self.worker_log.flush()
        offset = (self.tmp / "worker.log").stat().st_size
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.worker_log.flush()
            with open(self.tmp / "worker.log", "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
            received = re.findall(r"Task metrics\.tasks\.\w+\[([0-9a-f-]+)\] received", text)
            finished = set(re.findall(r"Task metrics\.tasks\.\w+\[([0-9a-f-]+)\] (?:succeeded|retry|raised)", text))
            running = [task for task in received if task not in finished]
            if running and self.worker_children():
                return running[-1]
            time.sleep(0.05)
        return None

    def worker_children(self) -> list[int]:
        try:
            out = subprocess.run(["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True).stdout
        except FileNotFoundError:
            return []
        return [int(pid) for pid in out.split()]

    def worker_kill(self):
        if self.worker and self.worker.poll() is None:
            children = self.worker_children()
            self.worker.kill()
            self.worker.wait(timeout=20)
            for pid in children:  # orphaned pool processes of the killed worker: ours too
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def gunicorn_start(self):
        self.gunicorn = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "planboard.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
             "--workers", "4", "--threads", "3", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.tmp / "gunicorn.log", "ab"),
        )
        if not wait_for_port(self.web_port, seconds=60):
            raise SystemExit("gunicorn did not start")

    def stop_everything(self):
        self.stop_clients.set()
        for proc in (self.gunicorn,):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker_kill()
        self.redis_stop()
        self.pg.stop(mode="immediate")

    # --- set-up --------------------------------------------------------------------------------

    def setup(self):
        log(f"PostgreSQL on 127.0.0.1:{self.args.pg_port}, Redis on 127.0.0.1:{self.args.redis_port}, in {self.tmp}")
        self.pg.init()
        self.pg.start()
        subprocess.run([*self.pg.as_postgres, str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.args.pg_port),
                        "-U", "postgres", DB], check=True)
        self.redis_start()
        manage = [sys.executable, str(ROOT / "manage.py")]
        eager = {**self.env, "CELERY_BROKER_URL": ""}  # seeding rolls up in-process
        subprocess.run([*manage, "migrate", "-v0"], check=True, env=eager, cwd=ROOT)
        started = time.monotonic()
        subprocess.run([*manage, "seed_demo", "--force"], check=True, env=eager, cwd=ROOT, stdout=subprocess.DEVNULL)
        log(f"demo plan seeded and rolled up in {time.monotonic() - started:.0f} s")
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        self.worker_start()
        self.gunicorn_start()

    def client_accounts(self) -> list[tuple[str, str]]:
        """Session cookies of staff of the first departments that report weekly indicators."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        from django.db import connection

        from actions.models import Department

        # Departments whose sheet of the week already has figures first (a client changes one of them per
        # save), then others that report weekly (their clients fill blank cells).
        filled = list(Department.objects.filter(
            figures__period_start=WEEK, figures__indicator__frequency="weekly", figures__value__isnull=False
        ).distinct().order_by("code"))
        others = Department.objects.filter(assignments__indicator__frequency="weekly").exclude(pk__in=[d.pk for d in filled])
        departments = filled + list(others.distinct().order_by("code"))
        accounts = []
        for department in departments:
            user = get_user_model().objects.filter(username=f"staff-{department.code}").first()
            if user is None:
                continue
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            accounts.append((department.code, session.session_key))
            if len(accounts) == self.args.clients:
                break
        connection.close()
        return accounts

    # --- clients -------------------------------------------------------------------------------

    def client(self, n: int, department: str, session: str):
        url = f"/report/?department={department}&frequency=weekly&period={WEEK}"
        cookies = {"sessionid": session, "django_language": "zh-hans"}
        turn = 0
        deadline = time.monotonic() + 900  # the drill stops the clients long before; this bounds the loop anyway
        while not self.stop_clients.is_set() and time.monotonic() < deadline:
            turn += 1
            note = f"drill c{n} s{turn}"
            status, posted = "error", False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
                header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": "127.0.0.1"}
                conn.request("GET", url, headers=header)
                response = conn.getresponse()
                page = response.read().decode(errors="replace")
                for value in response.headers.get_all("Set-Cookie") or []:
                    if value.startswith("csrftoken="):
                        cookies["csrftoken"] = value.split(";")[0].split("=", 1)[1]
                if response.status != 200:
                    status = f"GET {response.status}"
                    if response.status == 500 and 'id="unsaved-warning"' in page:
                        status = "GET 500 (the page says: reload and check)"
                    raise OSError(status)
                cells = re.findall(r'name="v-(\d+)" id="v-\d+" value="([^"]*)"\s+class="value-input"\s*(disabled)?', page)
                versions = dict(re.findall(r'name="ver-(\d+)" value="(\d+)"', page))
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
                editable = [(pk, value) for pk, value, disabled in cells if not disabled and value.strip()]
                editable = editable or [(pk, "0") for pk, value, disabled in cells if not disabled]
                if not editable:
                    status = "nothing to edit"
                    raise OSError(status)
                pk, value = editable[turn % len(editable)]
                number = float(value.replace(",", "")) + 1
                body = {
                    "csrfmiddlewaretoken": token, "department": department, "frequency": "weekly", "period": WEEK,
                    "action": "save", f"v-{pk}": f"{number:g}", f"note-{pk}": note, f"ver-{pk}": versions.get(pk, "0"),
                }
                header = {**header, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                          "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{self.web_port}{url}"}
                conn.request("POST", url, body=urlencode(body), headers=header)
                posted = True
                response = conn.getresponse()
                answer = response.read().decode(errors="replace")
                status = str(response.status)
                if response.status == 500 and 'id="unsaved-warning"' in answer:
                    status = "500 (the page says: reload and check)"
                conn.close()
            except (OSError, http.client.HTTPException, AttributeError, ValueError) as exc:  # counted below
                if status == "error":
                    status = f"error {type(exc).__name__}"
                time.sleep(0.5)
            with self.saves_lock:
                self.saves.append((note, status, posted))

    # --- checks --------------------------------------------------------------------------------

    def mismatches(self) -> int:
        """Rows that differ between what is stored and a fresh full roll-up (computed, then rolled back)."""
        from django.db import connection, transaction
        from django.forms.models import model_to_dict

        from actions.models import Plan
        from metrics.models import DepartmentIndicatorProgress, DepartmentScore, IndicatorProgress, Rollup
        from metrics.rollup.services import rollup_plan_weeks

        models = [IndicatorProgress, DepartmentIndicatorProgress, Rollup, DepartmentScore]

        def rows():
            return {
                m.__name__: {json.dumps({k: str(v) for k, v in model_to_dict(r).items() if k not in ("id", "computed_at")}, sort_keys=True)
                             for r in m.objects.all()}
                for m in models
            }

        class Undo(Exception):
            pass

        connection.close()
        stored = rows()
        fresh = None
        try:
            with transaction.atomic():
                plan = Plan.objects.get(year=2022)
                # A full run clears the stale mark too, but this one is undone. Every week from the figures
                # (no running sums): the reference must not lean on any stored row.
                rollup_plan_weeks(plan=plan, first=datetime.date(2022, 1, 1), last=datetime.date.fromisoformat(TODAY),
                                  from_figures=True)
                fresh = rows()
                raise Undo
        except Undo:
            pass
        # Rows a full roll-up writes that are not stored as such: wrong or missing.
        return sum(len(fresh[m] - stored[m]) for m in fresh)

    def stale(self) -> bool:
        from django.db import connection

        from metrics.models import StaleRollup

        connection.close()
        return StaleRollup.objects.exists()

    def present(self, notes: set[str]) -> set[str]:
        from django.db import connection

        from metrics.models import Figure

        connection.close()
        return set(Figure.history.filter(note__in=notes).values_list("note", flat=True))

    # --- the drill -----------------------------------------------------------------------------

    def run(self):
        self.setup()
        accounts = self.client_accounts()
        log(f"{len(accounts)} clients saving at once; gunicorn on 127.0.0.1:{self.web_port}")
        threads = [threading.Thread(target=self.client, args=(n, code, key), daemon=True) for n, (code, key) in enumerate(accounts)]
        self.wait_ready(1, seconds=180)
        for t in threads:
            t.start()
        start = time.monotonic()

        task = self.wait_mid_rollup(seconds=30)
        children = self.worker_children()
        log(f"SIGKILL the worker's pool processes {children} while task {task} runs")
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(5)
        task = self.wait_mid_rollup(seconds=30)
        log(f"SIGKILL the whole worker while task {task} runs; a new one starts 3 s later")
        self.worker_kill()
        time.sleep(3)
        self.worker_start()
        self.wait_ready(2, seconds=180)
        log("new worker ready; stop Redis for 8 s (no persistence: whatever was queued is gone)")
        self.redis_stop()
        time.sleep(8)
        self.redis_start()
        log("Redis started again, empty")
        time.sleep(5)
        task = self.wait_mid_rollup(seconds=30)
        log(f"stop PostgreSQL for 8 s while task {task} runs")
        self.pg.stop(mode="fast")
        time.sleep(8)
        self.pg.start()
        faults_over = time.monotonic()
        log("PostgreSQL started again: faults over; the clients go on saving for 10 s")
        time.sleep(10)
        self.stop_clients.set()
        for t in threads:
            t.join(timeout=40)
        log(f"clients stopped after {time.monotonic() - start:.0f} s")

        before = self.mismatches()
        log(f"roll-up mismatches right after the faults: {before}")
        from metrics.tasks import rollup_stale

        recovered_at, after, stale = None, before, True
        deadline = time.monotonic() + self.args.recovery_limit
        while time.monotonic() < deadline:
            try:
                rollup_stale.delay()  # the drill plays beat (production: every 5 minutes)
            except Exception as exc:  # noqa: BLE001 (reported, and tried again on the next round)
                log(f"could not queue the sweep: {exc!r}")
            time.sleep(self.args.sweep_seconds)
            stale = self.stale()
            if not stale:
                after = self.mismatches()
                if after == 0:
                    recovered_at = time.monotonic()
                    break
        else:
            after = self.mismatches()

        notes_acknowledged = {note for note, status, _ in self.saves if status == "302"}
        attempted = [note for note, _, posted in self.saves if posted]
        found = self.present({note for note, _, _ in self.saves})
        statuses = {}
        for _, status, posted in self.saves:
            key = f"POST {status}" if posted else status
            statuses[key] = statuses.get(key, 0) + 1
        worker_log = (self.tmp / "worker.log").read_text(errors="replace")
        print()
        print("Fault drill: worker pool killed, worker killed, Redis restarted empty, PostgreSQL stopped 8 s")
        print(f"  saves attempted (POST sent):         {len(attempted)}   (rounds, incl. sheet loads that failed: {len(self.saves)})")
        print(f"  saves acknowledged (HTTP 302):       {len(notes_acknowledged)}")
        print(f"  acknowledged and present afterwards: {len(notes_acknowledged & found)}")
        print(f"  present though not acknowledged:     {len(found - notes_acknowledged)}")
        print(f"  responses: {dict(sorted(statuses.items()))}")
        print(f"  roll-up mismatches (rows) right after the faults: {before}; after recovery: {after}")
        print(f"  stale mark left: {stale}")
        print(f"  worker log: {worker_log.count('WorkerLostError')} WorkerLostError, "
              f"{worker_log.count('database unavailable, retry')} retries on the database, "
              f"{worker_log.count('failed for good')} tasks failed for good (plan marked stale)")
        if recovered_at:
            print(f"  time to recover (PostgreSQL back to rows equal to a full roll-up): {recovered_at - faults_over:.0f} s"
                  f" (sweep every {self.args.sweep_seconds} s, lost after {self.args.lost_after} s)")
        else:
            print(f"  NOT recovered within {self.args.recovery_limit} s")
        lost = len(notes_acknowledged - found)
        return 0 if recovered_at and lost == 0 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--sweep-seconds", type=int, default=10, help="the drill's beat: seconds between sweeps")
    parser.add_argument("--lost-after", type=int, default=20, help="PLANBOARD_ROLLUP_LOST_AFTER for the drill")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs) instead of deleting it")
    parser.add_argument("--recovery-limit", type=int, default=420, help="give up recovering after this many seconds")
    args = parser.parse_args()
    for port in (args.pg_port, args.redis_port):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} is taken: pick another (--pg-port / --redis-port)")
    tmp = Path(tempfile.mkdtemp(prefix="planboard-drill-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    os.chmod(tmp, 0o755)
    drill = Drill(args, tmp)
    try:
        code = drill.run()
    finally:
        drill.stop_everything()
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
