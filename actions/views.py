from django.shortcuts import render

from actions.selectors import action_cards, plan_current
from metrics.selectors import latest_rollup, stale_rollup
from planboard.clock import today


def home(request):
    """The plan at a glance: its title and the eight action cards."""
    plan = plan_current(today=today())
    context = {"plan": plan, "today": today()}
    if plan:
        context["actions"] = action_cards(plan=plan)
        context["rollup"] = latest_rollup(plan=plan)
        context["stale"] = stale_rollup(plan=plan)
    return render(request, "actions/home.html", context)
