"""Helpers for the reporting tests: the demo 'today', the current week, posting a sheet."""

import datetime

from django.urls import reverse

from actions.models import Indicator

TODAY = datetime.date(2022, 5, 20)  # a Friday: this week's report is due today at 17:00
WEEK = datetime.date(2022, 5, 16)
LAST_WEEK = datetime.date(2022, 5, 9)
CLOSED_WEEK = datetime.date(2022, 5, 2)  # due 6 May, locked after 9 May
NEXT_WEEK = datetime.date(2022, 5, 23)


def indicators(plan, department=None):
    qs = Indicator.objects.filter(task__action__plan=plan).order_by("task__action__number")
    if department is not None:
        qs = qs.filter(departments=department)
    return list(qs)


def sheet_url(department, period=WEEK, frequency="weekly"):
    return f"{reverse('metrics:entry')}?department={department.code}&frequency={frequency}&period={period.isoformat()}"


def sheet_post(department, values: dict, *, period=WEEK, frequency="weekly", action="save", **extra):
    """POST data for a sheet: values maps an indicator to a string, or to (string, note), or to ('na', reason)."""
    data = {"department": department.code, "frequency": frequency, "period": period.isoformat(), "action": action}
    for indicator, value in values.items():
        pk = indicator.pk if hasattr(indicator, "pk") else indicator
        version = 0
        if isinstance(value, dict):
            version = value.get("version", 0)
            note = value.get("note", "")
            na = value.get("na", False)
            value = value.get("value", "")
        elif isinstance(value, tuple):
            value, note = value
            na = value == "na"
            if na:
                value = ""
        else:
            note, na = "", False
        data[f"v-{pk}"] = value
        data[f"note-{pk}"] = note
        data[f"ver-{pk}"] = str(version)
        if na:
            data[f"na-{pk}"] = "1"
    data.update(extra)
    return data
