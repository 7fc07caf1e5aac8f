"""The app's clock: PLANBOARD_TODAY pins a date (at 10:00, moving on through that day) or an exact moment."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from planboard import clock
from planboard.env import env_moment


class ClockTests:
    def test_a_pinned_date_starts_at_ten_and_moves_forward_within_that_day(self, settings):
        settings.PLANBOARD_TODAY = datetime.date(2022, 5, 20)
        first, second = clock.now(), clock.now()
        assert clock.today() == datetime.date(2022, 5, 20)
        assert first.date() == datetime.date(2022, 5, 20) and first.time() >= datetime.time(10, 0)
        assert first.time() < datetime.time(17, 0)  # before the Friday deadline
        assert second > first

    def test_a_pinned_datetime_pins_exactly(self, settings):
        settings.PLANBOARD_TODAY = datetime.datetime(2022, 5, 20, 16, 30)
        assert clock.today() == datetime.date(2022, 5, 20)
        assert clock.now() == clock.now() == timezone.make_aware(datetime.datetime(2022, 5, 20, 16, 30))
        assert timezone.localtime(clock.now()).strftime("%H:%M") == "16:30"

    def test_unpinned_it_is_the_real_time(self, settings):
        settings.PLANBOARD_TODAY = None
        assert abs(clock.now() - timezone.now()) < datetime.timedelta(seconds=5)
        assert clock.pinned_moment() is None

    def test_the_environment_gives_a_date_or_a_local_datetime(self, monkeypatch):
        monkeypatch.setenv("X_TODAY", "2022-05-20")
        assert env_moment("X_TODAY") == datetime.date(2022, 5, 20)
        monkeypatch.setenv("X_TODAY", "2022-05-20T10:00")
        assert env_moment("X_TODAY") == datetime.datetime(2022, 5, 20, 10, 0)

    @pytest.mark.parametrize("value", ["20 May", "2022-05-20T25:00", "2022-05-20T10:00+08:00"])
    def test_it_names_the_variable_when_the_moment_is_unreadable(self, monkeypatch, value):
        monkeypatch.setenv("X_TODAY", value)
        with pytest.raises(ImproperlyConfigured, match="X_TODAY"):
            env_moment("X_TODAY")
