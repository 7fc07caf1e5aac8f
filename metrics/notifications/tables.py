import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from metrics.models import Delivery
from planboard.tables import BaseTable


class DeliveryTable(BaseTable):
    """Who was told what, when, through which channel, and whether it went through."""

    sent_at = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    recipient = tables.Column(verbose_name=_("Told"), accessor="pk", orderable=False)
    department = tables.Column(verbose_name=_("Department"))
    kind = tables.Column(verbose_name=_("Channel"))
    about = tables.Column(verbose_name=_("About"))
    subject = tables.Column(verbose_name=_("Subject"))
    ok = tables.Column(verbose_name=_("Result"))

    class Meta(BaseTable.Meta):
        model = Delivery
        attrs = {"class": "data-table stacked"}
        fields = ["sent_at", "recipient", "department", "kind", "about", "subject", "ok"]
        sequence = fields
        orderable = False
        per_page = 50

    def render_recipient(self, record):
        if record.address:
            return format_html("{}<br><span class=\"muted\">{}</span>", record.recipient_name, record.address)
        return record.recipient_name

    def render_ok(self, record):
        if record.ok:
            return _("Delivered")
        return format_html('<span class="delivery-failed">{}: {}</span>', _("Failed"), record.error)
