"""Settings for planboard, read from the environment.

The defaults run on a laptop with no services: SQLite in the project folder, Celery tasks run eagerly.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0, and
PLANBOARD_BEHIND_PROXY=1 when a reverse proxy terminates TLS (see "HTTPS" below).
"""

import datetime
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from planboard.env import env_bool, env_database, env_int, env_list, env_moment, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "development-only-not-secret"  # noqa: S105 (used only while DEBUG is on)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

# Memory PostgreSQL may use per sort or hash while rolling up (SET LOCAL work_mem), e.g. "64MB".
PLANBOARD_ROLLUP_WORK_MEM = env_str("PLANBOARD_ROLLUP_WORK_MEM", default="64MB")

# Seconds after which the stale sweep rolls a save up again, in case its own roll-up was lost (a broker
# restarted without persistence, the database down even for the stale mark). Longer than a redelivery
# takes, so the sweep does not race it.
PLANBOARD_ROLLUP_LOST_AFTER = env_int("PLANBOARD_ROLLUP_LOST_AFTER", default=600)

# "Today" and "now" for the whole app (planboard.clock). Pinned for demos and tests (the demo plan is 2022's):
# a date (at 10:00 local, moving on through the day) or a local datetime (exactly); unset means the real time.
PLANBOARD_TODAY = env_moment("PLANBOARD_TODAY")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "django_celery_beat",
    "simple_history",
    "axes",
    "actions",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "planboard.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "planboard.urls"
WSGI_APPLICATION = "planboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "planboard.context_processors.user_roles",
                "metrics.context_processors.stale_banner",
            ],
            # The number filters belong to the project package, which is no app: registered here by name.
            "libraries": {
                "planboard_format": "planboard.templatetags.planboard_format",
                "planboard_tables": "planboard.templatetags.planboard_tables",
            },
        },
    },
]

DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Seconds a connection is kept for reuse; 0 closes it after each request or task.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
    )
}
# CI points a real Celery worker at the test database, so its name must be known in advance.
if env_str("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force protection by django-axes (pinned in requirements.txt): a well-kept library that counts failed
# sign-ins in the database, for the site's login and the admin's alike, and gives the admin a list of them.
# After AXES_FAILURE_LIMIT failures an account is blocked, whichever address they came from, and so is an
# address, whichever accounts it tried; for AXES_COOLOFF_MINUTES (0: until an administrator lifts it).
# An administrator lifts a block by deleting its row under 访问尝试 in the admin, or with
# `manage.py axes_reset_username <name>` / `axes_reset_ip <address>` / `axes_reset` (everything).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=60)) or None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "planboard.security.client_ip"
AXES_LOCKOUT_CALLABLE = "planboard.security.lockout_response"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Chinese is the default whatever the browser asks for; English is one click away (see LanguageMiddleware).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Chart.js 4 comes from npm (package.json); only its dist folder is served.
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (needs collectstatic); plain files while developing.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}

# HTTPS. Production serves planboard over HTTPS only, usually behind a reverse proxy that terminates TLS.
# PLANBOARD_BEHIND_PROXY=1 says such a proxy is in front and, on every request, OVERWRITES X-Forwarded-Proto
# (with the scheme the client used) and APPENDS the client's address to X-Forwarded-For; nginx:
#     proxy_set_header X-Forwarded-Proto $scheme;
#     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
# Only then does Django believe X-Forwarded-Proto: without a proxy that overwrites it, any client could send
# "https" itself. Behind a TLS proxy without PLANBOARD_BEHIND_PROXY=1 every request looks like plain http,
# and SECURE_SSL_REDIRECT sends the browser round in circles: set one or the other.
PLANBOARD_BEHIND_PROXY = env_bool("PLANBOARD_BEHIND_PROXY", default=False)
if PLANBOARD_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# With DEBUG off the defaults are HTTPS-only: secure cookies, plain http redirected to https (except the health
# check, which load balancers call over http), and HSTS for a year with subdomains and preload (browsers take
# HSTS only from HTTPS responses). SECURE_COOKIES=0, SECURE_SSL_REDIRECT=0 and SECURE_HSTS_SECONDS=0 turn them
# off, e.g. for a test server on plain http; start HSTS low (SECURE_HSTS_SECONDS=300) on a first deployment.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# Content-Security-Policy by django-csp (pinned in requirements.txt; Django 5.2 has no CSP of its own).
# Everything is served from the site itself (Chart.js from node_modules through static files), and no
# template has an inline script, style or event handler, so the policy allows nothing else. A page that
# needs an exception says why next to it. CSP_REPORT_ONLY=1 sends it as Report-Only while trying a change.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env_bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

# Celery: with no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://localhost/"  # never used to send; keeps Celery from looking for a local AMQP server
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it has finished, and handed back to the queue if its worker process dies:
# the roll-ups are idempotent, so running one twice is harmless and losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A save queues a roll-up; if the broker is down, give up fast (the roll-up is marked stale, not lost).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A full roll-up of a year takes seconds; these limits stop a stuck one (a full run is one transaction).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=360)
# Redis hands an unacknowledged task to another worker after this many seconds (the whole worker was killed):
# just longer than a task may run, and than the longest retry wait (metrics.tasks.RETRY_COUNTDOWNS, 300 s),
# so a live task is never handed out twice, and a lost one comes back within minutes, not Celery's hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(CELERY_TASK_TIME_LIMIT, 300) + 60}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place for periodic work. django-celery-beat's DatabaseScheduler copies it into its tables.
CELERY_BEAT_SCHEDULE = {
    # Fresh figures every hour; this also catches up any week a missed roll-up left stale.
    "rollup-current-plan-hourly": {"task": "metrics.tasks.rollup_current_plan", "schedule": crontab(minute=7)},
    # A snapshot right after the weekly reporting deadline (the plans' default: Friday 17:00).
    "rollup-at-weekly-deadline": {"task": "metrics.tasks.rollup_current_plan", "schedule": crontab(day_of_week="fri", hour=17, minute=1)},
    # Catch up whatever is marked stale (a roll-up that failed for good, or was lost), within minutes.
    "rollup-stale-sweep": {"task": "metrics.tasks.rollup_stale", "schedule": crontab(minute="*/5")},
    # Every week so far recomputed from the figures and compared with what is stored (running sums and
    # incremental runs are checked; a week that differs is rolled up again and logged as an error).
    "rollup-verify-nightly": {"task": "metrics.tasks.verify_current_plan", "schedule": crontab(hour=2, minute=17)},
    # Judge the week that just ended on its Sunday.
    "close-previous-week": {"task": "metrics.tasks.close_previous_week", "schedule": crontab(day_of_week="mon", hour=0, minute=30)},
    # 我的待办 by e-mail, one per person per day, before office hours (a second run the same day sends nothing).
    "daily-digest": {"task": "metrics.tasks.send_daily_digests", "schedule": crontab(hour=7, minute=30)},
    # Before the weekly deadline (the plans' default: Friday 17:00): units that have not submitted are told.
    "weekly-deadline-reminders": {"task": "metrics.tasks.send_deadline_reminders", "schedule": crontab(day_of_week="thu,fri", hour=9, minute=0)},
}

# E-mail (the digest, returned sheets, red orders, 催办): SMTP once EMAIL_HOST is set, else the console
# backend (messages printed to the log, as on a laptop). EMAIL_BACKEND overrides either.
EMAIL_HOST = env_str("EMAIL_HOST", default="")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
# STARTTLS on 587 by default; EMAIL_USE_SSL=1 (with EMAIL_PORT=465) for implicit TLS instead.
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=bool(EMAIL_HOST) and not EMAIL_USE_SSL)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="planboard@localhost")
# Seconds to wait for a group robot (企业微信 / 钉钉 webhook) before the delivery is logged as failed.
PLANBOARD_ROBOT_TIMEOUT = env_int("PLANBOARD_ROBOT_TIMEOUT", default=5)
# The address messages link to (the inbox, a sheet), e.g. https://planboard.example.gov.cn; empty: no links.
PLANBOARD_SITE_URL = env_str("PLANBOARD_SITE_URL", default="").rstrip("/")

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
}
