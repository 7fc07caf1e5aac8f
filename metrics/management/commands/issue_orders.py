from django.core.management.base import BaseCommand, CommandError

from metrics.management.commands._plan_option import add_plan_options, get_plan
from metrics.models import Rollup
from metrics.rollup.engine import Week
from metrics.supervision.orders import issue_orders
from planboard.clock import today


class Command(BaseCommand):
    help = (
        "Run the supervision ladder (督办单) on the stored roll-up of the as-of week: issue, escalate, step down "
        "and close orders, open 约谈. Every full roll-up also runs it; running it twice changes nothing."
    )

    def add_arguments(self, parser):
        add_plan_options(parser)

    def handle(self, *args, plan=None, as_of=None, **options):
        plan = get_plan(plan)
        now = today()
        week = Week.of(plan, min(as_of or now, now), now)
        if not Rollup.objects.filter(plan=plan, week=week.start, subject=f"plan:{plan.pk}").exists():
            raise CommandError(f"The week of {week.start} of plan {plan.year} is not rolled up: run `rollup --as-of {week.start}` first.")
        outcome = issue_orders(week)
        if outcome.skipped:
            self.stdout.write(self.style.WARNING(
                f"Nothing done: the ladder of plan {plan.year} has already judged a later day (orders move forward only)."
            ))
            return
        self.stdout.write(self.style.SUCCESS(
            f"Orders of plan {plan.year} as of {week.as_of}: {outcome.issued} issued, {outcome.escalated} escalated, "
            f"{outcome.stepped_down} stepped down, {outcome.closed} closed, {outcome.interviews} interview(s) opened"
        ))
