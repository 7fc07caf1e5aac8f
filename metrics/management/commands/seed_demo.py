from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from actions.models import Plan
from metrics.demo import (
    DEMO_PASSWORD,
    Scale,
    demo_today,
    seed_accounts,
    seed_figures,
    seed_milestones,
    seed_order_replies,
    seed_scale,
)
from metrics.tasks import rollup_plan_range
from planboard import clock


class Command(BaseCommand):
    help = "Create demo accounts for every role and deterministic figures up to a demo 'today'. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="plan year (default: the latest plan)")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password of every demo account")
        parser.add_argument(
            "--force", action="store_true",
            help="run although DEBUG is off (a demo server); the superuser 'admin' then needs a --password of your own",
        )
        scale = parser.add_argument_group("scale", "a synthetic plan for benchmarks instead of the demo")
        scale.add_argument("--scale", action="store_true", help="create the synthetic plan (replaces an earlier one)")
        scale.add_argument("--scale-year", type=int, default=Scale.year)
        scale.add_argument("--departments", type=int, default=Scale.departments)
        scale.add_argument("--indicators", type=int, default=Scale.indicators)
        scale.add_argument("--per-indicator", type=int, default=Scale.per_indicator, help="departments per indicator")
        scale.add_argument("--weeks", type=int, default=Scale.weeks)

    def handle(self, *args, year=None, password, force=False, **options):
        # The demo accounts' password is published (README, tests): on a database that may be production's
        # (DEBUG off) the command runs only when asked to, and never makes a superuser with that password.
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this database may be production's: seed_demo refuses to add demo accounts and figures. "
                "On a demo server run it with --force (and --password with a password of your own for the superuser)."
            )
        with_superuser = settings.DEBUG or password != DEMO_PASSWORD
        if not settings.DEBUG and with_superuser:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(f"--password is too weak for accounts outside DEBUG: {' '.join(exc.messages)}") from None
        if options["scale"]:
            return self.handle_scale(options)
        if not Plan.objects.exists():
            call_command("load_plan", stdout=self.stdout, stderr=self.stderr)
        plans = Plan.objects.all()
        plan = (plans.filter(year=year) if year else plans.order_by("-year")).first()
        if plan is None:
            raise CommandError(f"There is no plan for {year}; load one with load_plan first.")

        today = demo_today(plan, clock.today() if settings.PLANBOARD_TODAY else None)
        accounts = seed_accounts(password=password, with_superuser=with_superuser)
        created = seed_figures(plan=plan, today=today)
        seed_milestones(plan=plan, today=today)
        # Every week from January, so that past weeks, trends and rank changes can be shown.
        rollup_plan_range.delay(plan.pk, f"{plan.year}-01-01", today.isoformat())
        # With tasks run in-process (the demo) the roll-ups above have issued the orders; some units answer.
        replies = seed_order_replies(plan=plan, today=today)

        self.stdout.write(self.style.SUCCESS(
            f"Demo data for plan {plan.year} up to {today}: {created} new figures, {replies} replies to supervision orders."
        ))
        if not settings.PLANBOARD_TODAY or clock.today() != today:
            self.stdout.write(f"Run the app with PLANBOARD_TODAY={today} to see the campaign as of that day.")
        self.stdout.write(f"\nDemo accounts (password for all: {password}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<26} {account.role} {account.department}")
        if not with_superuser:
            self.stdout.write("No superuser 'admin' was created: outside DEBUG it needs --password with a password of your own.")

    def handle_scale(self, options):
        import time

        scale = Scale(
            year=options["scale_year"], departments=options["departments"], indicators=options["indicators"],
            per_indicator=min(options["per_indicator"], options["departments"]), weeks=options["weeks"],
        )
        started = time.monotonic()

        def progress(done, total):
            self.stdout.write(f"\r{done:,}/{total:,} figures", ending="")
            self.stdout.flush()

        plan = seed_scale(scale=scale, progress=progress)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Synthetic plan {plan.year} (id {plan.pk}): {scale.figures:,} figures in {time.monotonic() - started:.0f} s"
        ))
