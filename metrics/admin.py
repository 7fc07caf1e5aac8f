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


# Reporting: sheets, reopen requests, progress notes and evidence change through the reporting pages
# (metrics.services), which check permissions, versions and locks; the admin only shows them.
from metrics.models import Evidence, ProgressNote, ReopenRequest, Sheet  # noqa: E402


@admin.register(Sheet)
class SheetAdmin(ReadOnlyAdmin):
    list_display = ["department", "frequency", "period_start", "status", "submitted_at", "reviewed_at", "reopened_until"]
    list_filter = ["status", "frequency", "department"]
    search_fields = ["department__name", "review_comment"]
    list_select_related = ["department"]
    date_hierarchy = "period_start"


@admin.register(ReopenRequest)
class ReopenRequestAdmin(ReadOnlyAdmin):
    list_display = ["sheet", "requested_by", "created", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["reason", "sheet__department__name"]
    list_select_related = ["sheet__department", "requested_by", "decided_by"]


@admin.register(ProgressNote)
class ProgressNoteAdmin(ReadOnlyAdmin):
    list_display = ["task", "department", "period_start", "entered_by", "updated"]
    list_filter = ["department"]
    search_fields = ["task__title", "progress", "problems", "next_steps"]
    list_select_related = ["task__action", "department", "entered_by"]
    date_hierarchy = "period_start"


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "task", "department", "period_start", "size", "uploaded_by", "created"]
    list_filter = ["department", "content_type"]
    search_fields = ["original_name", "task__title"]
    list_select_related = ["task__action", "department", "uploaded_by"]
