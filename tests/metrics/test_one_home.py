"""One home per rule: the staff sheet, the ledger and the overview cards show what the roll-up computed.

The 序时进度 the staff sheet prints is checked against the roll-up's stored row for that department, for
every indicator of the demo plan and several as-of days (one inside the ramp of the phased weekly
indicator `high-tech-firms`), and against a computation written here independently of the code.
"""

import datetime

import pytest
from django.urls import reverse

from actions.choices import SUMMED_KINDS, Frequency
from actions.models import Department, Indicator, Milestone
from metrics.choices import Light, RollupLevel
from metrics.models import DepartmentIndicatorProgress, Rollup
from metrics.reporting.selectors import judging_week, sheet_rows
from metrics.rollup.services import rollup_plan_week, rollup_plan_weeks
from planboard import formatting
from planboard.periods import reporting_period

DAYS = [datetime.date(2022, 3, 31), datetime.date(2022, 5, 18), datetime.date(2022, 5, 20), datetime.date(2022, 6, 30)]


def expected_schedule_pct(indicator, day: datetime.date) -> float:
    """序时进度 written out from the domain notes, independently of actions.schedule."""
    year = day.year
    if indicator.frequency == Frequency.MONTHLY:
        months = day.month if (day + datetime.timedelta(days=1)).month != day.month else day.month - 1
        if indicator.monthly_targets and indicator.kind in SUMMED_KINDS:
            return 0.0 if months == 0 else float(indicator.monthly_targets[months - 1]) / float(indicator.annual_target) * 100
        return months / 12 * 100
    if indicator.monthly_targets and indicator.kind in SUMMED_KINDS:
        targets = [0.0] + [float(t) for t in indicator.monthly_targets]
        days_in_month = ((day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)).day
        due = targets[day.month - 1] + (targets[day.month] - targets[day.month - 1]) * day.day / days_in_month
        return due / float(indicator.annual_target) * 100
    return (day.timetuple().tm_yday) / (366 if year % 4 == 0 else 365) * 100


@pytest.mark.django_db
class SheetAgreesWithRollupTests:
    @pytest.mark.parametrize("day", DAYS, ids=[d.isoformat() for d in DAYS])
    def test_every_sheet_row_shows_the_rollups_schedule_and_light(self, demo_plan, settings, day):
        settings.PLANBOARD_TODAY = day
        for frequency in Frequency:
            rollup_plan_week(plan=demo_plan, day=judging_week(frequency=frequency, start=reporting_period(day, frequency), today=day))
        checked = 0
        for department in Department.objects.filter(assignments__indicator__task__action__plan=demo_plan).distinct():
            for frequency in Frequency:
                start = reporting_period(day, frequency)
                week = judging_week(frequency=frequency, start=start, today=day)
                stored = {
                    p.indicator_id: p for p in DepartmentIndicatorProgress.objects.filter(plan=demo_plan, week=week, department=department)
                }
                for row in sheet_rows(plan=demo_plan, department=department, frequency=frequency, start=start, today=day):
                    progress = stored[row.indicator.pk]
                    assert row.progress == progress
                    assert row.progress.light == progress.light
                    if row.indicator.is_summed:
                        assert formatting.pct(row.schedule_pct) == formatting.pct(progress.schedule_pct), row.indicator.code
                        judged = min(week + datetime.timedelta(days=6), day)
                        if week <= demo_plan.checkpoint < judged:
                            judged = demo_plan.checkpoint
                        assert row.schedule_pct == pytest.approx(expected_schedule_pct(row.indicator, judged)), row.indicator.code
                    checked += 1
        assert checked >= Indicator.objects.filter(task__action__plan=demo_plan).exclude(kind="milestone").count()

    def test_the_phased_indicator_is_judged_on_its_ramp_on_the_sheet_and_the_pages(self, demo_plan, settings, client):
        day = datetime.date(2022, 5, 18)
        settings.PLANBOARD_TODAY = day
        rollup_plan_week(plan=demo_plan, day=day)
        indicator = Indicator.objects.get(task__action__plan=demo_plan, code="high-tech-firms")
        share = indicator.assignments.select_related("department").first()
        progress = DepartmentIndicatorProgress.objects.get(week=datetime.date(2022, 5, 16), indicator=indicator, department=share.department)
        assert progress.schedule_pct == pytest.approx((6 + 4 * 18 / 31) / 40 * 100)  # 20.8 %, not 37.5 % (138 of 365 days)
        client.force_login(share.department.members.first())
        html = client.get(reverse("metrics:entry"), {"department": share.department.code, "frequency": "weekly"}).content.decode()
        row = html[html.index(f'data-indicator="{indicator.pk}"'):]
        row = row[: row.index("entry-input")]
        assert f"序时 {formatting.pct(progress.schedule_pct)}%" in row
        assert f'data-light="{progress.light}"' in row


@pytest.mark.django_db
class AggregateLightTests:
    def test_the_ledger_task_and_the_overview_card_read_the_one_stored_light(self, client, cast, settings):
        """A task whose only milestone is overdue is red in the ledger, on its action's card and in the roll-up."""
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
        milestone = Milestone.objects.filter(task__action__plan=cast.plan).select_related("task__action").first()
        action = milestone.task.action
        Milestone.objects.filter(task__action=action).exclude(pk=milestone.pk).delete()
        Indicator.objects.filter(task__action=action).exclude(kind="milestone").delete()
        milestone.planned_date, milestone.done_date = datetime.date(2022, 5, 1), None
        milestone.save()
        rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 16), last=datetime.date(2022, 5, 20))
        task_row = Rollup.objects.get(level=RollupLevel.TASK, task=milestone.task, week=datetime.date(2022, 5, 16))
        action_row = Rollup.objects.get(level=RollupLevel.ACTION, action=action, week=datetime.date(2022, 5, 16))
        assert task_row.milestones_overdue == 1 and task_row.light == Light.RED
        assert action_row.light == Light.RED

        client.force_login(cast.leader)
        ledger = client.get(reverse("metrics:action_detail", args=[action.number])).context["table"]
        ledger_light = next(r.record.light for r in ledger.rows if r.record.pk == milestone.task.pk)
        overview = client.get(reverse("metrics:overview")).content.decode()
        card = overview[overview.index(f'href="/dashboards/actions/{action.number}/') :]
        assert ledger_light == task_row.light
        assert f'data-light="{action_row.light}"' in card[: card.index("</header>")]
