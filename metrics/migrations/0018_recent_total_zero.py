"""An amount's or a count's stored recent total (the last four periods) is 0, not null, once the window exists.

The hourly run carries the week before's recent total (plus the periods that entered the window, less those
that left it); a sum carried that way cannot tell an empty window from one that adds up to zero, so both are
stored as 0. Rows written before this change held null for an empty window: set to 0 here, so that the
nightly check, which compares every stored column with the figures, does not report them as wrong.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef

SUMMED = ("amount", "count")


def zero_empty_windows(apps, schema_editor):
    IndicatorProgress = apps.get_model("metrics", "IndicatorProgress")
    DepartmentIndicatorProgress = apps.get_model("metrics", "DepartmentIndicatorProgress")
    windowed = IndicatorProgress.objects.filter(
        week=OuterRef("week"), indicator_id=OuterRef("indicator_id"), recent_from__isnull=False
    )
    DepartmentIndicatorProgress.objects.filter(
        Exists(windowed), recent_total__isnull=True, indicator__kind__in=SUMMED
    ).update(recent_total=0)
    unit_rows = DepartmentIndicatorProgress.objects.filter(week=OuterRef("week"), indicator_id=OuterRef("indicator_id"))
    IndicatorProgress.objects.filter(
        Exists(unit_rows), recent_total__isnull=True, recent_from__isnull=False, indicator__kind__in=SUMMED
    ).update(recent_total=0)


class Migration(migrations.Migration):

    dependencies = [
        ("metrics", "0017_input_changes"),
    ]

    operations = [
        migrations.RunPython(zero_empty_windows, migrations.RunPython.noop),
    ]
