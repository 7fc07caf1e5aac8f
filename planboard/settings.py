"""Settings for planboard, read from the environment.

The defaults run on a laptop with no services: SQLite in the project folder, Celery tasks run eagerly.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

from pathlib import Path

from celery.schedules import crontab
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
    "actions",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "planboard.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
            # The number filters belong to the project package, which is no app: registered here by name.
            "libraries": {"planboard_format": "planboard.templatetags.planboard_format"},
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

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery: with no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://localhost/"  # never used to send; keeps Celery from looking for a local AMQP server
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A save queues a roll-up; if the broker is down, give up fast (the roll-up is marked stale, not lost).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A full roll-up of a year takes seconds; these limits stop a stuck one (each week is its own transaction).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place for periodic work. django-celery-beat's DatabaseScheduler copies it into its tables.
CELERY_BEAT_SCHEDULE = {
    # Fresh figures every hour; this also catches up any week a missed roll-up left stale.
    "rollup-current-plan-hourly": {"task": "metrics.tasks.rollup_current_plan", "schedule": crontab(minute=7)},
    # A snapshot right after the weekly reporting deadline (the plans' default: Friday 17:00).
    "rollup-at-weekly-deadline": {"task": "metrics.tasks.rollup_current_plan", "schedule": crontab(day_of_week="fri", hour=17, minute=1)},
    # Judge the week that just ended on its Sunday.
    "close-previous-week": {"task": "metrics.tasks.close_previous_week", "schedule": crontab(day_of_week="mon", hour=0, minute=30)},
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
}
