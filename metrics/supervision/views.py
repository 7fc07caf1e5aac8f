"""The supervision page (督查): who is behind, what is overdue, who has not reported; and 催办."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from actions.selectors import plan_current
from metrics import permissions
from metrics.dashboards.asof import as_of_week
from metrics.dashboards.selectors import plan_rollup
from metrics.supervision import selectors, services
from metrics.supervision.forms import RemindForm
from metrics.supervision.tables import LaggingTable, MissingReportsTable, OverdueMilestoneTable, ReminderTable
from planboard.clock import today


def _plan():
    plan = plan_current(today=today())
    if plan is None:
        raise Http404(_("No plan is loaded."))
    return plan


def supervision(request):
    """督查: red and yellow indicators, overdue milestones, missing reports of the as-of week, and 催办."""
    plan = _plan()
    asof = as_of_week(request, plan)
    rollup = plan_rollup(plan=plan, week=asof.week)
    can_remind = permissions.can_review(request.user) and asof.week is not None
    options = {"week": asof.week, "can_remind": can_remind, "asof_query": asof.query}
    lagging = LaggingTable(selectors.lagging_indicators(plan=plan, week=asof.week), **options)
    overdue = OverdueMilestoneTable(selectors.overdue_milestones(plan=plan, as_of=rollup.as_of if rollup else None), **options)
    RequestConfig(request, paginate={"per_page": 50}).configure(lagging)
    context = {
        "plan": plan,
        "asof": asof,
        "rollup": rollup,
        "can_remind": can_remind,
        "lagging": lagging,
        "overdue": overdue,
        "missing": MissingReportsTable(selectors.missing_reports(plan=plan, week=asof.week), **options),
        "reminders": ReminderTable(selectors.reminders(plan=plan)),
    }
    return render(request, "supervision/supervision.html", context)


@require_POST
def remind(request):
    """Record a 催办 (supervision office only) and go back to the supervision page of the same week."""
    permissions.require(permissions.can_review(request.user), _("Only the supervision office may send reminders."))
    plan = _plan()
    form = RemindForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The reminder was not recorded: it needs a department, a subject, a kind and a week."))
        week = request.POST.get("week", "")[:10]
        return HttpResponseRedirect(reverse("metrics:supervision") + (f"?week={week}" if week else ""))
    data = form.cleaned_data
    reminder = services.reminder_record(
        user=request.user, plan=plan, department=data["department"], kind=data["kind"], subject=data["subject"],
        week=data["week"], note=data["note"],
    )
    messages.success(request, _("Reminder recorded: %(department)s, %(subject)s.") % {"department": reminder.department.name, "subject": reminder.subject})
    return HttpResponseRedirect(reverse("metrics:supervision") + f"?week={data['week'].isoformat()}")
