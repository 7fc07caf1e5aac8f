import datetime

from django.core.management.base import CommandError

from actions.models import Plan
from actions.selectors import plan_current
from planboard.clock import today


def add_plan_options(parser, *, as_of_required: bool = False) -> None:
    parser.add_argument("--plan", type=int, help="plan id (default: the plan of the current year, else the latest)")
    parser.add_argument(
        "--as-of", dest="as_of", type=datetime.date.fromisoformat, required=as_of_required,
        help="a day of the as-of week (YYYY-MM-DD; default: today)",
    )


def get_plan(plan_id: int | None) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id else plan_current(today=today())
    if plan is None:
        raise CommandError(f"No plan {plan_id}." if plan_id else "No plan is loaded; run load_plan first.")
    return plan
