import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actions.models import Department
from metrics.choices import OrderLevel, OrderStatus, OrderSubject
from metrics.models import SupervisionOrder


class OrderFilterSet(django_filters.FilterSet):
    """The orders list's filters: open or closed, level, status, what about, unit."""

    state = django_filters.ChoiceFilter(
        label=_("Open or closed"), choices=[("open", pgettext_lazy("order state", "Open")), ("closed", pgettext_lazy("order state", "Closed"))], method="by_state", empty_label=_("Any"),
    )
    level = django_filters.ChoiceFilter(label=_("Level"), choices=OrderLevel.choices, empty_label=_("Any"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices, empty_label=_("Any"))
    subject_kind = django_filters.ChoiceFilter(label=_("About"), choices=OrderSubject.choices, empty_label=_("Any"))
    department = django_filters.ModelChoiceFilter(label=_("Unit"), queryset=Department.objects.order_by("code"), empty_label=_("Any"))

    class Meta:
        model = SupervisionOrder
        fields = ["state", "level", "status", "subject_kind", "department"]

    def by_state(self, queryset, name, value):
        return queryset.filter(closed_on__isnull=(value == "open"))
