import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.choices import TaskStatus
from actions.models import Department, Task
from metrics.choices import Light
from planboard.widgets import PlainSelect


class LedgerFilterSet(django_filters.FilterSet):
    """The ledger's filters: light, department (lead or co-), status, and a text search."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    light = django_filters.ChoiceFilter(label=_("Light"), choices=Light.choices, empty_label=_("Any"))
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=Department.objects.order_by("name"), method="by_department", empty_label=_("Any"),
        widget=PlainSelect,  # every unit: on each ledger page
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TaskStatus.choices, empty_label=_("Any"))

    class Meta:
        model = Task
        fields = ["q", "light", "department", "status"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value) | Q(lead_leader__icontains=value) | Q(progress__icontains=value)
            | Q(problems__icontains=value) | Q(next_steps__icontains=value)
        )

    def by_department(self, queryset, name, value):
        co = Task.co_departments.through.objects.filter(department=value).values("task_id")
        return queryset.filter(Q(lead_department=value) | Q(pk__in=co))
