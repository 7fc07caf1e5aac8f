import datetime
import zoneinfo

import pytest

from actions.models import Plan
from planboard.periods import due_at, period_end, period_start, periods_until, reporting_period

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


class PeriodTests:
    @pytest.mark.parametrize(
        "day, frequency, start, end",
        [
            (datetime.date(2022, 5, 20), "weekly", datetime.date(2022, 5, 16), datetime.date(2022, 5, 22)),
            (datetime.date(2022, 5, 16), "weekly", datetime.date(2022, 5, 16), datetime.date(2022, 5, 22)),
            (datetime.date(2022, 1, 1), "weekly", datetime.date(2021, 12, 27), datetime.date(2022, 1, 2)),
            (datetime.date(2022, 2, 14), "monthly", datetime.date(2022, 2, 1), datetime.date(2022, 2, 28)),
            (datetime.date(2024, 2, 29), "monthly", datetime.date(2024, 2, 1), datetime.date(2024, 2, 29)),
            (datetime.date(2022, 12, 31), "monthly", datetime.date(2022, 12, 1), datetime.date(2022, 12, 31)),
        ],
    )
    def test_it_finds_the_period_of_a_day(self, day, frequency, start, end):
        assert period_start(day, frequency) == start
        assert period_end(start, frequency) == end

    def test_a_month_is_reported_after_it_ends(self):
        assert reporting_period(datetime.date(2022, 5, 20), "monthly") == datetime.date(2022, 4, 1)
        assert reporting_period(datetime.date(2022, 5, 20), "weekly") == datetime.date(2022, 5, 16)

    def test_weekly_periods_are_the_iso_weeks_of_the_year(self):
        weeks = periods_until(2022, "weekly", datetime.date(2022, 12, 31))
        assert weeks[0] == datetime.date(2022, 1, 3) and len(weeks) == 52
        assert periods_until(2022, "weekly", datetime.date(2022, 1, 9)) == [datetime.date(2022, 1, 3)]
        assert periods_until(2022, "monthly", datetime.date(2022, 3, 1))[-1] == datetime.date(2022, 3, 1)

    def test_reports_fall_due_on_the_plans_weekday_and_day_of_month(self):
        plan = Plan(year=2022, report_weekday=4, report_due_time=datetime.time(17), monthly_report_day=5)
        assert due_at(plan, datetime.date(2022, 5, 16), "weekly") == datetime.datetime(2022, 5, 20, 17, tzinfo=SHANGHAI)
        assert due_at(plan, datetime.date(2022, 12, 1), "monthly") == datetime.datetime(2023, 1, 5, 17, tzinfo=SHANGHAI)
