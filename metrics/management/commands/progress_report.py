import csv
import json

from django.core.management.base import BaseCommand

from metrics.dashboards.selectors import indicator_progress, plan_rollup, revised_indicators
from metrics.management.commands._plan_option import add_plan_options, get_plan
from metrics.rollup.services import rollup_plan_week
from planboard import formatting
from planboard.exports import to_spreadsheet
from planboard.periods import Frequency, period_start

FIELDS = [
    "indicator_id", "action_number", "task", "indicator", "unit", "kind", "annual_target", "actual",
    "completion_pct", "schedule_pct", "gap_pp", "progress", "light", "half_year_status", "attainment_pct", "recent_pace",
    "required_pace_half", "required_pace_year", "forecast_checkpoint", "pace_alert", "reason", "week", "as_of",
    "latest_due", "departments_expected", "departments_reported", "data_complete", "revised",
]


def report_row(progress, revised: set[int] = frozenset()) -> dict:
    """One indicator's row, formatted exactly as the pages format it."""
    indicator = progress.indicator
    return {
        "indicator_id": indicator.pk,
        "action_number": indicator.task.action.number,
        "task": indicator.task.title,
        "indicator": indicator.name,
        "unit": indicator.unit,
        "kind": indicator.kind,
        "annual_target": formatting.amount(indicator.annual_target),
        "actual": formatting.amount(progress.actual),
        "completion_pct": formatting.pct(progress.completion_pct),
        "schedule_pct": formatting.pct(progress.schedule_pct),
        "gap_pp": formatting.pct(progress.gap_pp),
        # In words, read for the indicator's measure as every page's progress cell reads it (a rate's
        # completion_pct and schedule_pct are the engine's inputs, not how it is judged).
        "progress": formatting.progress(indicator.measure, progress),
        "light": progress.light,
        "half_year_status": progress.half_year_status,
        "attainment_pct": formatting.pct(progress.attainment_pct),
        "recent_pace": formatting.pace(progress.recent_pace),
        "required_pace_half": formatting.pace(progress.required_pace_half),
        "required_pace_year": formatting.pace(progress.required_pace_year),
        "forecast_checkpoint": formatting.pace(progress.forecast_checkpoint),
        "pace_alert": progress.pace_alert,
        "reason": progress.reason,
        "week": progress.week.isoformat(),
        "as_of": progress.as_of.isoformat(),
        "latest_due": progress.latest_due.isoformat() if progress.latest_due else "",
        "departments_expected": progress.departments_expected,
        "departments_reported": progress.departments_reported,
        "data_complete": progress.data_complete,
        "revised": indicator.pk in revised,
    }


class Command(BaseCommand):
    help = "Print one row per indicator of a plan as of a week (CSV or JSON), from the stored roll-up."

    def add_arguments(self, parser):
        add_plan_options(parser, as_of_required=True)
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, plan=None, as_of, format, **options):
        plan = get_plan(plan)
        week = period_start(as_of, Frequency.WEEKLY)
        rows = indicator_progress(plan=plan, week=week)
        if not rows.exists():
            self.stderr.write(f"Week of {week} was not rolled up yet; rolling it up now.")
            rollup_plan_week(plan=plan, day=as_of)
        revised = revised_indicators(plan=plan, rollup=plan_rollup(plan=plan, week=week))
        data = [report_row(p, revised) for p in rows.all()]
        if format == "json":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            writer = csv.DictWriter(self.stdout, fieldnames=FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({key: to_spreadsheet(value) for key, value in row.items()} for row in data)
