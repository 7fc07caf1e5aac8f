"""Writes of notifications: send a message through a channel and log it (Delivery), and the messages themselves.

- `digests_send`: one 我的待办 digest per person per day by e-mail, printed from `inbox_items` (the page's
  own object); an empty inbox sends nothing.
- `deadline_reminders_send`: on the day before the weekly deadline and on its day (before it), each unit
  whose weekly sheet is not submitted is told, by its staff's e-mail and its group robots.
- `sheet_returned_notify`: at once, when the office returns a sheet (the reporting service's signal).
- `notify_red_order`: at once, when an order reaches red (the order rules call it on commit).
- `reminder_deliver`: a 催办 recorded by the office goes out through the unit's channels.

Every one checks the current state right before sending, so a unit that has done what was asked hears
nothing more (muted), and every one is idempotent: a message that went through is never sent twice for
the same key (Delivery.about + object_key + recipient or channel); one that failed is logged with its
error and tried again on the next run. Nothing here raises to the user: a failed channel is a log line.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from actions.models import Department
from actions.selectors import plan_current
from metrics.choices import DeliveryAbout, OrderLevel, SheetStatus
from metrics.inbox.selectors import ORDERS_AWAITING_UNIT, inbox_items, period_words, sheets_due
from metrics.models import Delivery, DepartmentChannel, Reminder, Sheet, SupervisionOrder
from metrics.notifications.channels import Channel, DeliveryFailed, EmailChannel, Message, channel_for
from metrics.reporting.selectors import sheet_url
from planboard import clock, roles
from planboard.periods import Frequency, due_at, reporting_period

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Who hears a message through which channel: a person by e-mail, or a department's robot."""

    channel: Channel
    recipient: object = None
    department_channel: DepartmentChannel | None = None


def link(path: str) -> str:
    """An absolute link for a message (settings.PLANBOARD_SITE_URL), or nothing when it is not set."""
    return f"{settings.PLANBOARD_SITE_URL}{path}" if settings.PLANBOARD_SITE_URL and path else ""


def deliver(*, target: Target, message: Message, about: str, object_key: str, department: Department | None = None,
            reminder: Reminder | None = None) -> Delivery:
    """Send one message through one channel and log it, whatever happens (never raises for the channel)."""
    error = ""
    try:
        target.channel.send(message)
    except DeliveryFailed as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 (a broken channel must not break the caller; the log says what it was)
        logger.exception("Delivery through %s failed unexpectedly", target.channel.kind)
        error = f"{type(exc).__name__}: {exc}"
    if error:
        logger.warning("Delivery %s %s to %s failed: %s", about, object_key, target.channel.address, error)
    delivery = Delivery(
        recipient=target.recipient, channel=target.department_channel, department=department, kind=target.channel.kind,
        address=target.channel.address[:254], about=about, object_key=object_key[:80], reminder=reminder,
        subject=message.subject[:300], body=message.body, ok=not error, error=error,
    )
    delivery.full_clean(exclude=["recipient", "channel", "department", "reminder"])
    delivery.save()
    return delivery


def delivered(*, target: Target, about: str, object_key: str) -> bool:
    """Whether this message already went through to this target (then it is not sent again)."""
    found = Delivery.objects.filter(about=about, object_key=object_key, ok=True)
    if target.department_channel is not None:
        return found.filter(channel=target.department_channel).exists()
    return found.filter(recipient=target.recipient, kind=target.channel.kind).exists()


def deliver_once(*, targets: list[Target], message: Message, about: str, object_key: str, department: Department | None = None,
                 reminder: Reminder | None = None) -> list[Delivery]:
    return [
        deliver(target=t, message=message, about=about, object_key=object_key, department=department, reminder=reminder)
        for t in targets
        if not delivered(target=t, about=about, object_key=object_key)
    ]


def department_targets(department: Department) -> list[Target]:
    """A unit's channels: its staff's e-mail addresses and its active group robots."""
    staff = (
        get_user_model().objects.filter(departments=department, is_active=True, groups__name=roles.Role.STAFF.value)
        .exclude(email="").distinct().order_by("username")
    )
    targets = [Target(channel=EmailChannel(to=user.email), recipient=user) for user in staff]
    for row in DepartmentChannel.objects.filter(department=department, active=True).order_by("pk"):
        targets.append(Target(channel=channel_for(row), department_channel=row))
    return targets


def _in_site_language():
    """Messages are written in the site's language (Chinese), whoever or whatever triggered them."""
    return translation.override(settings.LANGUAGE_CODE)


# The daily digest ------------------------------------------------------------------------------------------


def digest_message(inbox) -> Message:
    subject = _("My to-do list, %(day)s: %(n)s item(s)") % {"day": inbox.today.isoformat(), "n": inbox.count}
    body = render_to_string("notifications/digest.txt", {"inbox": inbox, "inbox_link": link(_inbox_path()), "link": link})
    return Message(subject=subject, body=body)


def _inbox_path() -> str:
    return reverse("metrics:inbox")


def digest_send(*, user, today: datetime.date) -> Delivery | None:
    """The person's digest of today, unless it went already, the inbox is empty or they have no address."""
    if not user.email:
        return None
    target = Target(channel=EmailChannel(to=user.email), recipient=user)
    key = f"digest:{today.isoformat()}"
    if delivered(target=target, about=DeliveryAbout.DIGEST, object_key=key):
        return None
    with _in_site_language():
        inbox = inbox_items(user=user, today=today)
        if inbox.is_empty:
            return None
        message = digest_message(inbox)
    return deliver(target=target, message=message, about=DeliveryAbout.DIGEST, object_key=key)


def digest_recipients():
    """Everyone with a role and an e-mail address."""
    return (
        get_user_model().objects.filter(is_active=True, groups__name__in=[r.value for r in roles.Role])
        .exclude(email="").distinct().order_by("username")
    )


def digests_send(*, today: datetime.date) -> list[Delivery]:
    sent = []
    for user in digest_recipients():
        if (delivery := digest_send(user=user, today=today)) is not None:
            sent.append(delivery)
    return sent


# Before the weekly deadline ----------------------------------------------------------------------------------


def deadline_reminders_send(*, today: datetime.date, now: datetime.datetime | None = None) -> list[Delivery]:
    """On the day before the plan's weekly deadline and on its day, before it: every unit whose sheet of
    the week is still due (not submitted: `sheets_due`, the inbox's own rule) hears it. Other days, nothing."""
    now = now or clock.now()
    plan = plan_current(today=today)
    if plan is None:
        return []
    week = reporting_period(today, Frequency.WEEKLY)
    due = due_at(plan, week, Frequency.WEEKLY)
    if not 0 <= (timezone.localtime(due).date() - today).days <= 1 or now >= due:
        return []
    sent = []
    for department in Department.objects.filter(assignments__indicator__task__action__plan=plan,
                                                assignments__indicator__frequency=Frequency.WEEKLY).distinct().order_by("code"):
        pending = [d for d in sheets_due(plan=plan, department=department, today=today) if d.frequency == Frequency.WEEKLY and d.start == week]
        if not pending:
            continue  # submitted (or approved): muted
        with _in_site_language():
            message = Message(
                subject=_("Weekly report due %(due)s: %(department)s has not submitted") % {
                    "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"), "department": department.name},
                body="\n".join(filter(None, [
                    _("The report sheet for the %(period)s is due by %(due)s and has not been submitted yet.") % {
                        "period": period_words(Frequency.WEEKLY, week), "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")},
                    link(pending[0].url),
                ])),
            )
        key = f"deadline:{department.pk}:{week.isoformat()}:{today.isoformat()}"
        sent += deliver_once(targets=department_targets(department), message=message, about=DeliveryAbout.DEADLINE,
                             object_key=key, department=department)
    return sent


# At once: a returned sheet, a red order, a 催办 ----------------------------------------------------------------


def sheet_returned_notify(*, sheet: Sheet) -> list[Delivery]:
    """Tell the unit its sheet was returned, with the comment; nothing if it was resubmitted meanwhile."""
    sheet = Sheet.objects.select_related("department", "plan").get(pk=sheet.pk)
    if sheet.status != SheetStatus.RETURNED:
        return []
    with _in_site_language():
        message = Message(
            subject=_("Report sheet returned: %(department)s, %(period)s") % {
                "department": sheet.department.name, "period": period_words(sheet.frequency, sheet.period_start)},
            body="\n".join(filter(None, [
                _("The supervision office returned the sheet for correction: %(comment)s") % {"comment": sheet.review_comment},
                _("Correct it and submit it again by %(day)s.") % {"day": sheet.reopened_until.isoformat()} if sheet.reopened_until else "",
                link(sheet_url(sheet.department, sheet.frequency, sheet.period_start)),
            ])),
        )
    key = f"sheet:{sheet.pk}:{timezone.localtime(sheet.reviewed_at):%Y%m%dT%H%M%S}" if sheet.reviewed_at else f"sheet:{sheet.pk}"
    return deliver_once(targets=department_targets(sheet.department), message=message, about=DeliveryAbout.SHEET_RETURNED,
                        object_key=key, department=sheet.department)


def notify_red_order(order: SupervisionOrder) -> list[Delivery]:
    """Tell the unit at once that an order is red (call it on commit when an order reaches red).

    Nothing if the order is no longer open and red, or no longer waits for the unit; sent once per order
    and day, so calling it twice is harmless.
    """
    order = SupervisionOrder.objects.select_related("department").get(pk=order.pk)
    if not order.is_open or order.level != OrderLevel.RED or order.status not in ORDERS_AWAITING_UNIT:
        return []
    with _in_site_language():
        try:
            path = order.get_absolute_url()
        except NoReverseMatch:  # the order page comes with the order work (metrics:order_detail); until then, no link
            path = ""
        message = Message(
            subject=_("Red supervision order (督办单): %(department)s") % {"department": order.department.name},
            body="\n".join(filter(None, [
                order.reason,
                _("Reply with your measures by %(day)s.") % {"day": order.deadline.isoformat()},
                link(path),
            ])),
        )
    key = f"order:{order.pk}:red:{clock.today().isoformat()}"
    return deliver_once(targets=department_targets(order.department), message=message, about=DeliveryAbout.RED_ORDER,
                        object_key=key, department=order.department)


def reminder_deliver(*, reminder: Reminder) -> list[Delivery]:
    """Send a recorded 催办 to the unit's staff and group robots; the deliveries hang on the reminder."""
    with _in_site_language():
        message = Message(
            subject=_("Reminder (催办) from the supervision office: %(subject)s") % {"subject": reminder.subject},
            body="\n".join(filter(None, [
                _("%(department)s, about the week of %(week)s: %(subject)s") % {
                    "department": reminder.department.name, "week": reminder.week.isoformat(), "subject": reminder.subject},
                reminder.note,
                link(_inbox_path()),
            ])),
        )
    return deliver_once(targets=department_targets(reminder.department), message=message, about=DeliveryAbout.REMINDER,
                        object_key=f"reminder:{reminder.pk}", department=reminder.department, reminder=reminder)
