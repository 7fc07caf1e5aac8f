"""Small typed readers for settings taken from the environment.

Each reader returns the default when the variable is unset or empty, and raises
ImproperlyConfigured naming the variable when the value cannot be read.
"""

import datetime
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_date(name: str) -> datetime.date | None:
    value = _raw(name)
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an ISO date (YYYY-MM-DD); got {value!r}") from None


def env_moment(name: str) -> datetime.date | datetime.datetime | None:
    """An ISO date (2022-05-20) or a local ISO datetime without a zone (2022-05-20T10:00)."""
    value = _raw(name)
    if value is None:
        return None
    try:
        if "T" in value or " " in value:
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                raise ValueError("a time zone offset")
            return moment
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an ISO date (YYYY-MM-DD) or a local date and time (YYYY-MM-DDTHH:MM); got {value!r}"
        ) from None


def env_database(name: str, default: str, *, conn_max_age: int = 0) -> dict:
    value = _raw(name) or default
    try:
        config = dj_database_url.parse(value, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL this project can use: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} names no database engine; got {value!r}")
    return config
