from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Figures and roll-ups")

    def ready(self):
        # Connect the notifications' listeners to reporting's signals (imported here: models must be loaded).
        from metrics.notifications import receivers  # noqa: F401, PLC0415
