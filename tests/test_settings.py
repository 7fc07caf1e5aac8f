import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from planboard.env import env_bool, env_database, env_date, env_int, env_list


class EnvTests:
    def test_it_reads_typed_values(self, monkeypatch):
        monkeypatch.setenv("X_BOOL", "yes")
        monkeypatch.setenv("X_INT", "42")
        monkeypatch.setenv("X_LIST", "a.example, b.example,")
        monkeypatch.setenv("X_DATE", "2022-05-20")
        assert env_bool("X_BOOL", default=False) is True
        assert env_int("X_INT", default=0) == 42
        assert env_list("X_LIST", default=[]) == ["a.example", "b.example"]
        assert env_date("X_DATE") == datetime.date(2022, 5, 20)

    def test_it_uses_defaults_when_unset_or_empty(self, monkeypatch):
        monkeypatch.delenv("X_BOOL", raising=False)
        monkeypatch.setenv("X_INT", "")
        assert env_bool("X_BOOL", default=True) is True
        assert env_int("X_INT", default=7) == 7
        assert env_date("X_UNSET_DATE") is None

    @pytest.mark.parametrize(
        "reader, value",
        [
            (lambda: env_bool("X_BAD", default=False), "maybe"),
            (lambda: env_int("X_BAD", default=0), "ten"),
            (lambda: env_date("X_BAD"), "2022-13-01"),
            (lambda: env_database("X_BAD", default="sqlite://"), "nosuchdb://host/name"),
        ],
    )
    def test_it_names_the_variable_when_a_value_is_invalid(self, monkeypatch, reader, value):
        monkeypatch.setenv("X_BAD", value)
        with pytest.raises(ImproperlyConfigured, match="X_BAD"):
            reader()

    def test_it_parses_postgres_urls(self, monkeypatch):
        monkeypatch.setenv("X_DB", "postgres://postgres@127.0.0.1:5432/planboard")
        config = env_database("X_DB", default="sqlite://")
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert config["NAME"] == "planboard"
