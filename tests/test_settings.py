import datetime
from pathlib import Path

import celery
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


def read_settings(**env) -> tuple[int, str]:
    """Import the settings in a fresh interpreter with exactly these variables; return (exit code, output)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from django.conf import settings; s = settings; "
        "print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER, s.DATABASES['default']['ENGINE'], s.LANGUAGE_CODE, s.TIME_ZONE)"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "planboard.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=Path(__file__).resolve().parents[1],
        capture_output=True, text=True, timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


class SettingsTests:
    def test_the_defaults_run_on_a_laptop(self):
        code, out = read_settings(DEBUG="1")
        assert code == 0, out
        assert out.split() == ["True", "True", "django.db.backends.sqlite3", "zh-hans", "Asia/Shanghai"]

    def test_production_is_switched_by_environment_variables(self):
        code, out = read_settings(
            SECRET_KEY="s", DATABASE_URL="postgres://u@db.internal:5432/planboard", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
        )
        assert code == 0, out
        assert out.split()[:3] == ["False", "False", "django.db.backends.postgresql"]

    @pytest.mark.parametrize(
        "env, variable",
        [({}, "SECRET_KEY"), ({"DEBUG": "perhaps"}, "DEBUG"), ({"DEBUG": "1", "PLANBOARD_TODAY": "20 May"}, "PLANBOARD_TODAY")],
    )
    def test_it_refuses_to_start_with_a_bad_or_missing_value(self, env, variable):
        code, out = read_settings(**env)
        assert code != 0
        assert "ImproperlyConfigured" in out and variable in out


class EmailSettingsTests:
    def read_email(self, **env) -> tuple[int, str]:
        import subprocess
        import sys

        code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST or '-', s.EMAIL_PORT, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL)"
        base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "planboard.settings", "DEBUG": "1"}
        result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=Path(__file__).resolve().parents[1],
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout + result.stderr

    def test_a_laptop_prints_e_mail_to_the_console(self):
        code, out = self.read_email()
        assert code == 0, out
        assert out.split() == ["django.core.mail.backends.console.EmailBackend", "-", "587", "False", "planboard@localhost"]

    def test_production_sends_by_smtp_from_the_environment(self):
        code, out = self.read_email(EMAIL_HOST="smtp.example.gov.cn", EMAIL_PORT="465", EMAIL_USE_SSL="1",
                                    DEFAULT_FROM_EMAIL="planboard@example.gov.cn")
        assert code == 0, out
        assert out.split() == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.gov.cn", "465", "False", "planboard@example.gov.cn"]

    def test_tls_and_ssl_together_are_refused(self):
        code, out = self.read_email(EMAIL_HOST="smtp.example.gov.cn", EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")
        assert code != 0 and "EMAIL_USE_TLS and EMAIL_USE_SSL" in out


class RequirementsTests:
    def test_celery_is_pinned_with_the_extra_of_its_broker(self):
        """kombu's Redis transport imports `packaging`, which only celery[redis] brings (.ci/fresh_install proves it)."""
        lines = (Path(__file__).resolve().parent.parent / "requirements.txt").read_text().splitlines()
        pins = [line for line in lines if line.startswith("celery")]
        assert pins == [f"celery[redis]=={celery.__version__}"]
