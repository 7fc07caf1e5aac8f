"""The as-of week every dashboard page is viewed at: `?week=YYYY-MM-DD`, any day of the week.

The day is normalised to its Monday. Without a value, or with one that cannot be shown, the page shows
the latest week that was rolled up; a value that cannot be shown comes back with a message saying why
(never an error page).
"""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from metrics.dashboards.selectors import rolled_up_weeks
from planboard.periods import Frequency, period_start


@dataclass
class AsOf:
    week: datetime.date | None
    weeks: list = field(default_factory=list)
    error: str = ""

    @property
    def query(self) -> str:
        """The query string that keeps this week on links and chart requests."""
        return f"week={self.week.isoformat()}" if self.week else ""


def as_of_week(request, plan) -> AsOf:
    """The week asked for in `?week=` (normalised to its Monday), else the latest rolled-up one."""
    weeks = rolled_up_weeks(plan=plan) if plan else []
    latest = weeks[0] if weeks else None
    raw = request.GET.get("week", "").strip()
    if not raw:
        return AsOf(week=latest, weeks=weeks)
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        return AsOf(week=latest, weeks=weeks, error=_("“%(value)s” is not a date (YYYY-MM-DD); showing the latest week.") % {"value": raw[:20]})
    week = period_start(day, Frequency.WEEKLY)
    if week not in weeks:
        return AsOf(week=latest, weeks=weeks, error=_("The week of %(day)s has not been rolled up; showing the latest week.") % {"day": week.isoformat()})
    return AsOf(week=week, weeks=weeks)
