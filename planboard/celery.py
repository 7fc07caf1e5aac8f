"""The Celery app. Configuration comes from Django settings (keys prefixed CELERY_)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planboard.settings")

app = Celery("planboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
