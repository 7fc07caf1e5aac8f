import django_filters
from django.utils.translation import gettext_lazy as _

from actions.models import Department
from metrics.choices import ChannelKind, DeliveryAbout
from metrics.models import Delivery


class DeliveryFilterSet(django_filters.FilterSet):
    """The delivery log's filters: the department, what it was about, the channel, failed only."""

    department = django_filters.ModelChoiceFilter(label=_("Department"), queryset=Department.objects.order_by("kind", "code"), empty_label=_("Any"))
    about = django_filters.ChoiceFilter(label=_("About"), choices=DeliveryAbout.choices, empty_label=_("Any"))
    kind = django_filters.ChoiceFilter(label=_("Channel"), choices=ChannelKind.choices, empty_label=_("Any"))
    ok = django_filters.ChoiceFilter(label=_("Result"), choices=[("true", _("Delivered")), ("false", _("Failed"))], empty_label=_("Any"), method="by_result")

    class Meta:
        model = Delivery
        fields = ["department", "about", "kind", "ok"]

    def by_result(self, queryset, name, value):
        return queryset.filter(ok=value == "true")
