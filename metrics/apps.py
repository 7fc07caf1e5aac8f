from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Figures and roll-ups")

    def ready(self):
        from metrics.rollup.engine import week_rolled_up
        from metrics.supervision.orders import on_week_rolled_up

        week_rolled_up.connect(on_week_rolled_up, dispatch_uid="metrics.supervision.orders")
        # Connect the notifications' listeners to reporting's signals (imported here: models must be loaded).
        from metrics.notifications import receivers  # noqa: F401, PLC0415
