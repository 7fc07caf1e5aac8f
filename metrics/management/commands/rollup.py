import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from metrics.management.commands._plan_option import add_plan_options, get_plan
from metrics.models import StaleRollup
from metrics.rollup.services import rollup_plan_catch_up, rollup_plan_weeks, rollup_repair, stale_mark
from metrics.tasks import is_transient
from planboard.clock import today


class Command(BaseCommand):
    help = (
        "Roll up a plan now, synchronously: every week from --from to the as-of week; without either, "
        "this week and every week the plan is marked stale from (which clears the mark)."
    )

    def add_arguments(self, parser):
        add_plan_options(parser)
        parser.add_argument("--from", dest="first", type=datetime.date.fromisoformat, help="first week to recompute (YYYY-MM-DD)")
        parser.add_argument(
            "--verify", action="store_true",
            help="recompute every week of the range (default: since 1 January) from the figures and compare with "
            "what is stored; roll up again from the first week that differs (the nightly check)",
        )
        parser.add_argument(
            "--from-figures", action="store_true",
            help="recompute every week of the range from the figures instead of carrying the week before's "
            "running sums (slower; the same rows, which makes it a check)",
        )

    def handle(self, *args, plan=None, as_of=None, first=None, from_figures=False, verify=False, **options):
        plan = get_plan(plan)
        last = as_of or today()
        started = time.monotonic()
        weeks = 0

        def progress(done: int, total: int, week) -> None:
            nonlocal weeks
            weeks = total
            width = 30
            bar = "#" * (width * done // total) + "-" * (width - width * done // total)
            self.stdout.write(f"\r[{bar}] {done}/{total} week of {week.start} (as of {week.as_of})", ending="")
            self.stdout.flush()

        if verify:
            return self._verify(plan, first or datetime.date(plan.year, 1, 1), last)
        try:
            if first is None and as_of is None:
                rollup_plan_catch_up(plan=plan, progress=progress)
            else:
                rollup_plan_weeks(plan=plan, first=first or last, last=last, progress=progress, from_figures=from_figures)
        except DatabaseError as exc:
            self.stdout.write("")
            raise CommandError(self._failed(plan, first or last, exc)) from exc
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Rolled up plan {plan.year}: {weeks} week(s) in {time.monotonic() - started:.2f} s"
        ))
        stale = StaleRollup.objects.filter(plan=plan).first()
        if stale:
            self.stdout.write(self.style.WARNING(
                f"Plan {plan.year} stays marked stale from {stale.earliest_period or 'this week'} ({stale.reason}); "
                f"run without --from/--as-of, or with --from {stale.earliest_period or today()}, to catch up."
            ))

    def _verify(self, plan, first: datetime.date, last: datetime.date) -> None:
        started = time.monotonic()
        differing = rollup_repair(plan=plan, first=first, last=last)
        took = f"{time.monotonic() - started:.1f} s"
        if not differing:
            self.stdout.write(self.style.SUCCESS(f"Plan {plan.year}: every week from {first} agrees with its figures ({took})"))
            return
        for week, n in sorted(differing.items()):
            self.stdout.write(self.style.ERROR(f"week of {week}: {n} row(s) differed from the figures"))
        self.stdout.write(self.style.WARNING(f"Plan {plan.year}: rolled up again from the week of {min(differing)} ({took})"))

    def _failed(self, plan, first: datetime.date, exc: DatabaseError) -> str:
        """Mark the plan stale (nothing of the run was kept: it is one transaction) and say what went wrong."""
        cause = exc.__cause__ or exc
        kind = "database unavailable (transient; retry later)" if is_transient(exc) else "the database refused the work"
        if getattr(cause, "pgcode", None) == "57014":
            kind = "statement timeout (the query ran too long; raise statement_timeout, not a retry)"
        reason = f"rollup command: {type(cause).__name__}: {str(cause).strip()}"
        try:
            stale_mark(plan=plan, earliest=first, reason=reason)
            marked = "The plan is marked stale; the sweep retries every few minutes."
        except DatabaseError:
            marked = "The plan could not be marked stale either (the database is down)."
        return f"Roll-up of plan {plan.year} failed, nothing was changed: {kind}. {type(cause).__name__}: {str(cause).strip()}. {marked}"
