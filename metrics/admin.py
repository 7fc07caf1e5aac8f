from django.contrib import admin

from metrics.models import DepartmentIndicatorProgress, DepartmentScore, Figure, IndicatorProgress, Rollup, StaleRollup


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


@admin.register(IndicatorProgress)
class IndicatorProgressAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "week", "as_of", "actual", "completion_pct", "schedule_pct", "gap_pp", "light", "half_year_status", "reason"]
    list_filter = ["plan", "week", "light", "half_year_status"]
    search_fields = ["indicator__name"]
    list_select_related = ["indicator"]


@admin.register(DepartmentIndicatorProgress)
class DepartmentIndicatorProgressAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "department", "week", "actual", "completion_pct", "gap_pp", "light", "reason"]
    list_filter = ["plan", "week", "light", "department"]
    search_fields = ["indicator__name"]
    list_select_related = ["indicator", "department"]


@admin.register(Rollup)
class RollupAdmin(ReadOnlyAdmin):
    list_display = ["subject", "level", "week", "attainment_pct", "green", "yellow", "red", "no_light", "computed_at"]
    list_filter = ["plan", "week", "level"]


@admin.register(DepartmentScore)
class DepartmentScoreAdmin(ReadOnlyAdmin):
    list_display = ["department", "week", "score", "rank", "previous_rank", "completeness_pct", "timeliness_pct", "red"]
    list_filter = ["plan", "week"]
    list_select_related = ["department"]


@admin.register(StaleRollup)
class StaleRollupAdmin(ReadOnlyAdmin):
    list_display = ["plan", "since", "earliest_period", "reason"]
