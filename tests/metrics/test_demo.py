import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Sum
from django.http import HttpRequest

from actions.models import Department, Indicator, IndicatorDepartment
from metrics.choices import FigureState
from metrics.demo import DEMO_PASSWORD
from metrics.models import Figure, Rollup
from planboard.periods import reporting_period
from planboard.roles import Role
from tests.factories import seed_demo

TODAY = datetime.date(2022, 5, 20)


@pytest.fixture
def demo(db, settings):
    settings.PLANBOARD_TODAY = TODAY
    seed_demo(verbosity=0)


def snapshot():
    return list(Figure.objects.order_by("indicator__code", "department__code", "period_start").values_list(
        "indicator__code", "department__code", "period_start", "state", "value", "entered_at"
    ))


class SeedDemoTests:
    def test_it_creates_an_account_for_every_role_and_department(self, demo, client):
        users = get_user_model().objects
        assert users.get(username="leader").groups.filter(name=Role.LEADER).exists()
        assert users.get(username="supervisor").groups.filter(name=Role.SUPERVISOR).exists()
        for department in Department.objects.all():
            staff = users.get(username=f"staff-{department.code}")
            assert list(staff.departments.all()) == [department]
        assert 15 <= Department.objects.count() <= 20
        assert client.login(request=HttpRequest(), username="staff-industry", password=DEMO_PASSWORD)

    def test_it_is_deterministic_and_safe_to_run_again(self, demo):
        first = snapshot()
        seed_demo(verbosity=0)
        assert snapshot() == first
        Figure.objects.all().delete()
        seed_demo(verbosity=0)
        assert snapshot() == first

    def test_it_keeps_figures_someone_entered(self, demo):
        figure = Figure.objects.filter(state=FigureState.REPORTED).first()
        figure.value = Decimal("123.4567")
        figure.save()
        seed_demo(verbosity=0)
        figure.refresh_from_db()
        assert figure.value == Decimal("123.4567")

    def test_figures_run_from_january_to_the_demo_today(self, demo):
        weekly = Figure.objects.filter(indicator__frequency="weekly")
        monthly = Figure.objects.filter(indicator__frequency="monthly")
        assert weekly.order_by("period_start").first().period_start == datetime.date(2022, 1, 3)
        assert weekly.aggregate(m=Max("period_start"))["m"] == datetime.date(2022, 5, 16)
        assert monthly.aggregate(m=Max("period_start"))["m"] == datetime.date(2022, 4, 1)
        assert Figure.objects.filter(entered_at__date__gt=TODAY).count() == 0

    def test_some_current_reports_are_still_missing(self, demo):
        week = reporting_period(TODAY, "weekly")
        expected = IndicatorDepartment.objects.filter(indicator__frequency="weekly").count()
        entered = Figure.objects.filter(indicator__frequency="weekly", period_start=week).count()
        assert 0 < entered < expected
        rollup = Rollup.objects.get(level="plan", as_of=TODAY)
        assert 0 < rollup.departments_reported < rollup.departments_expected == Department.objects.count()

    def test_the_campaign_is_mid_way_some_ahead_some_behind(self, demo):
        """Cumulative amounts against time elapsed (a plain check here; the roll-up issue does the real math)."""
        elapsed = Decimal((TODAY - datetime.date(2022, 1, 1)).days + 1) / 365
        ratios = []
        for indicator in Indicator.objects.filter(kind="amount", monthly_targets__isnull=True):
            total = indicator.figures.aggregate(s=Sum("value"))["s"] or 0
            ratios.append(total / indicator.annual_target / elapsed)
        assert any(r >= 1 for r in ratios), "some indicators should be ahead of schedule"
        assert any(Decimal("0.85") <= r < 1 for r in ratios), "some slightly behind"
        assert any(r < Decimal("0.8") for r in ratios), "some far behind"

    def test_milestones_due_are_mostly_done_some_late_some_open(self, demo):
        from actions.models import Milestone

        due = Milestone.objects.filter(planned_date__lte=TODAY)
        on_time = [m for m in due if m.done_date and m.done_date <= m.planned_date]
        late = [m for m in due if m.done_date and m.done_date > m.planned_date]
        open_ = [m for m in due if m.done_date is None]
        assert on_time and late and open_
        assert not Milestone.objects.filter(planned_date__gt=TODAY, done_date__isnull=False).exists()

    def test_it_marks_a_few_cells_not_applicable_with_a_note(self, demo):
        na = Figure.objects.filter(state=FigureState.NOT_APPLICABLE)
        assert na.exists()
        assert not na.filter(value__isnull=False).exists() and not na.filter(note="").exists()


@pytest.mark.django_db
class SeedDemoOutsideDebugTests:
    """DEBUG off means the database may be production's: no demo accounts unless asked, no published superuser."""

    def test_it_refuses_to_run_when_debug_is_off(self, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="--force"):
            call_command("seed_demo", verbosity=0)
        assert not get_user_model().objects.exists()

    def test_with_force_it_makes_no_superuser_with_the_published_password(self, settings):
        settings.DEBUG = False
        settings.PLANBOARD_TODAY = TODAY
        seed_demo(verbosity=0)  # an earlier run with DEBUG on made `admin` with the published password
        call_command("seed_demo", "--force", verbosity=0)
        users = get_user_model().objects
        assert not any(u.check_password(DEMO_PASSWORD) for u in users.filter(is_superuser=True))
        assert users.get(username="leader").check_password(DEMO_PASSWORD)  # the demo's role accounts stay

    def test_with_force_and_a_password_of_ones_own_it_makes_the_superuser(self, settings):
        settings.DEBUG = False
        settings.PLANBOARD_TODAY = TODAY
        with pytest.raises(CommandError, match="too weak"):
            call_command("seed_demo", "--force", "--password", "123", verbosity=0)
        call_command("seed_demo", "--force", "--password", "Kq7!vR2#demo-server", verbosity=0)
        assert get_user_model().objects.get(username="admin", is_superuser=True).check_password("Kq7!vR2#demo-server")
