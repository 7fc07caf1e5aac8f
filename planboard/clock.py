"""The app's clock. PLANBOARD_TODAY pins the date for demos and tests; every page and service asks here."""

import datetime

from django.conf import settings
from django.utils import timezone


def today() -> datetime.date:
    """The app's idea of today: PLANBOARD_TODAY when pinned (demos, tests), else the local date."""
    return settings.PLANBOARD_TODAY or timezone.localdate()


def now() -> datetime.datetime:
    """When something happens: now, on the app's 'today' when that is pinned (demos, tests)."""
    current = timezone.localtime()
    if settings.PLANBOARD_TODAY:
        return timezone.make_aware(datetime.datetime.combine(settings.PLANBOARD_TODAY, current.time().replace(tzinfo=None)))
    return current
