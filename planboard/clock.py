import datetime

from django.conf import settings
from django.utils import timezone


def today() -> datetime.date:
    """The app's idea of today: PLANBOARD_TODAY when pinned (demos, tests), else the local date."""
    return settings.PLANBOARD_TODAY or timezone.localdate()
