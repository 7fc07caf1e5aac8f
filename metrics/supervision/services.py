"""Writes of the supervision office: 催办 (reminders), recorded and sent."""

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from actions.models import Department, Plan
from metrics import permissions
from metrics.choices import ReminderKind
from metrics.models import Reminder
from metrics.tasks import reminder_delivery_request
from planboard.periods import Frequency


@transaction.atomic
def reminder_record(
    *, user, plan: Plan, department: Department, kind: str, subject: str, week: datetime.date, note: str = ""
) -> Reminder:
    """Record a 催办: who reminded which department of what, about which as-of week (now); then send it
    to the department's staff by e-mail and to its group robots (metrics.notifications)."""
    permissions.require(permissions.can_review(user))
    if outside := permissions.outside_plan(plan=plan, frequency=Frequency.WEEKLY, day=week):
        raise ValidationError({"week": outside})
    if kind == ReminderKind.MISSING_REPORT:
        # The missing-reports button posts how many are missing; the record says it in words.
        subject = _("%(n)s reports missing for the week of %(week)s") % {"n": subject, "week": week.isoformat()}
    reminder = Reminder(plan=plan, department=department, kind=kind, subject=subject[:300], week=week, note=note, reminded_by=user)
    reminder.full_clean()
    reminder.save()
    # The 催办 also goes out through the unit's channels (logged in Delivery), once the record is committed.
    transaction.on_commit(partial(reminder_delivery_request, reminder))
    return reminder
