"""The app's clock, the one home of "today" and "now": every page, service, task and the demo ask here.

PLANBOARD_TODAY pins a moment for demos and tests:
- an ISO datetime (2022-05-20T10:00, local time) pins exactly: now() always returns it;
- an ISO date (2022-05-20) pins the day, and now() starts at DEFAULT_TIME_OF_DAY on it and moves on with
  the real time elapsed since this process started, never leaving the day, so that two saves in one run
  (or one demo session) still come one after the other.
Unset, both are the real ones. Business times (entered, submitted, reviewed, decided, uploaded, reminded,
rolled up, and the history of figures and notes) take now(); the `created` / `updated` columns of
TimestampedModel stay the database's real write times, an audit trail that no page shows.
"""

import datetime
import time

from django.conf import settings
from django.utils import timezone

# A pinned date without a time is read as this local time of day: office hours, before any deadline.
DEFAULT_TIME_OF_DAY = datetime.time(10, 0)

_STARTED = time.monotonic()


def today() -> datetime.date:
    """The app's idea of today: the date PLANBOARD_TODAY pins (demos, tests), else the local date."""
    pinned = settings.PLANBOARD_TODAY
    if pinned is None:
        return timezone.localdate()
    return pinned.date() if isinstance(pinned, datetime.datetime) else pinned


def pinned_moment() -> datetime.datetime | None:
    """The moment PLANBOARD_TODAY pins (its date at DEFAULT_TIME_OF_DAY when it gives no time), or None."""
    pinned = settings.PLANBOARD_TODAY
    if pinned is None:
        return None
    if not isinstance(pinned, datetime.datetime):
        pinned = datetime.datetime.combine(pinned, DEFAULT_TIME_OF_DAY)
    return timezone.make_aware(pinned) if timezone.is_naive(pinned) else pinned


def now() -> datetime.datetime:
    """When something happens: the pinned moment (moving on within the pinned day when only a date is
    pinned), else the real time, in the current time zone."""
    moment = pinned_moment()
    if moment is None:
        return timezone.localtime()
    if isinstance(settings.PLANBOARD_TODAY, datetime.datetime):
        return timezone.localtime(moment)
    end_of_day = timezone.make_aware(datetime.datetime.combine(settings.PLANBOARD_TODAY, datetime.time.max))
    return timezone.localtime(min(moment + datetime.timedelta(seconds=time.monotonic() - _STARTED), end_of_day))
