from django.contrib import admin

from metrics.models import Figure, PlanRollup


class ReadOnlyAdmin(admin.ModelAdmin):
    """Figures change only through the reporting services (which record history); roll-ups are computed."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Figure)
class FigureAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "department", "period_start", "state", "value", "entered_by", "entered_at"]
    list_filter = ["state", "department", "indicator__frequency", "indicator__task__action"]
    search_fields = ["indicator__name", "department__name", "note"]
    list_select_related = ["indicator", "department", "entered_by"]
    date_hierarchy = "period_start"


@admin.register(PlanRollup)
class PlanRollupAdmin(ReadOnlyAdmin):
    list_display = ["plan", "as_of", "computed_at", "figure_count", "departments_reported", "departments_expected"]
    list_filter = ["plan"]
    date_hierarchy = "as_of"
