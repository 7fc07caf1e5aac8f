from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Figures and roll-ups")

    def ready(self):
        from metrics.closeoff.signals import tasks_closed_off
        from metrics.rollup.engine import week_rolled_up
        from metrics.supervision.orders import on_tasks_closed_off, on_week_rolled_up

        # The supervision ladder runs after each full roll-up, and closes a task's orders when it is closed off.
        week_rolled_up.connect(on_week_rolled_up, dispatch_uid="metrics.supervision.orders")
        tasks_closed_off.connect(on_tasks_closed_off, dispatch_uid="metrics.supervision.orders.closed_off")
        # Connect the notifications' listeners to reporting's and the ladder's signals (models must be loaded).
        from metrics.notifications import receivers  # noqa: F401, PLC0415
