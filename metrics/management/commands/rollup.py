import datetime
import time

from django.core.management.base import BaseCommand

from metrics.management.commands._plan_option import add_plan_options, get_plan
from metrics.rollup.services import rollup_plan_weeks
from planboard.clock import today


class Command(BaseCommand):
    help = "Roll up a plan now, synchronously: the as-of week, or every week from --from to it."

    def add_arguments(self, parser):
        add_plan_options(parser)
        parser.add_argument("--from", dest="first", type=datetime.date.fromisoformat, help="first week to recompute (YYYY-MM-DD)")

    def handle(self, *args, plan=None, as_of=None, first=None, **options):
        plan = get_plan(plan)
        last = as_of or today()
        started = time.monotonic()

        def progress(done: int, total: int, week) -> None:
            width = 30
            bar = "#" * (width * done // total) + "-" * (width - width * done // total)
            self.stdout.write(f"\r[{bar}] {done}/{total} week of {week.start} (as of {week.as_of})", ending="")
            self.stdout.flush()

        weeks = rollup_plan_weeks(plan=plan, first=first or last, last=last, progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Rolled up plan {plan.year}: {len(weeks)} week(s) in {time.monotonic() - started:.2f} s"
        ))
