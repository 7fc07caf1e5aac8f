"""The progress rows a day's first roll-up rewrites are rewritten in place (PostgreSQL's HOT updates).

Every row of the week in progress is rewritten once a day (its as-of day moves). An updated row whose indexed
columns are unchanged stays on its page, with no new index entries, only if the page has room for the new
version: half of each page of the two tables is left free for it (fillfactor 50; the old version is pruned on
a later visit). Without it, rewriting a week's 20,000 unit rows inserted 120,000 index entries and took most
of a day's first run. Rows written before this migration move to the new layout as they are rewritten.
The unit rows' own indexes on the indicator and on the unit go: every read is of a week (the unique
constraint and the plan-week index serve them), and each index costs one more entry per row written.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("metrics_departmentindicatorprogress", "metrics_indicatorprogress")


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ("actions", "0005_supervision_ladder"),
        ("metrics", "0015_rollup_weight_sums"),
    ]

    operations = [
        migrations.AlterField(
            model_name="departmentindicatorprogress",
            name="department",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="actions.department", verbose_name="department"),
        ),
        migrations.AlterField(
            model_name="departmentindicatorprogress",
            name="indicator",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="actions.indicator", verbose_name="indicator"),
        ),
        migrations.RunPython(leave_room, fill_pages),
    ]
