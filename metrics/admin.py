from django.contrib import admin

from metrics.models import (
    Delivery,
    DepartmentChannel,
    CloseOffRequest,
    DepartmentIndicatorProgress,
    DepartmentScore,
    Evidence,
    ExtensionRequest,
    Figure,
    IndicatorProgress,
    MonthlyRanking,
    ProgressNote,
    Reminder,
    ReopenRequest,
    Rollup,
    Sheet,
    RollupCorrection,
    StaleRollup,
)


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
    list_display = [
        "department", "week", "score", "rank", "previous_rank", "overall_rank", "attainment_pct", "led_tasks_pct",
        "completeness_pct", "timeliness_pct", "red", "led_red",
    ]
    list_filter = ["plan", "week"]
    list_select_related = ["department"]


@admin.register(MonthlyRanking)
class MonthlyRankingAdmin(ReadOnlyAdmin):
    list_display = ["department", "month", "week", "score", "rank", "overall_rank", "frozen_at"]
    list_filter = ["plan", "month"]
    list_select_related = ["department"]


@admin.register(StaleRollup)
class StaleRollupAdmin(ReadOnlyAdmin):
    list_display = ["plan", "since", "earliest_period", "reason"]


@admin.register(RollupCorrection)
class RollupCorrectionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "found_at", "differing"]


# Reporting: sheets, reopen requests, progress notes and evidence change through the reporting pages
# (metrics.reporting.services), which check permissions, versions and locks; the admin only shows them.


@admin.register(Sheet)
class SheetAdmin(ReadOnlyAdmin):
    list_display = ["department", "frequency", "period_start", "status", "submitted_at", "reviewed_at", "reopened_until"]
    list_filter = ["status", "frequency", "department"]
    search_fields = ["department__name", "review_comment"]
    list_select_related = ["department"]
    date_hierarchy = "period_start"


@admin.register(ReopenRequest)
class ReopenRequestAdmin(ReadOnlyAdmin):
    list_display = ["sheet", "requested_by", "requested_at", "status", "decided_by", "decided_at"]
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
    list_display = ["original_name", "task", "department", "period_start", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["department", "content_type"]
    search_fields = ["original_name", "task__title"]
    list_select_related = ["task__action", "department", "uploaded_by"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """催办 records are written by the supervision page only."""

    list_display = ["reminded_at", "department", "kind", "subject", "week", "reminded_by"]
    list_filter = ["kind", "department"]
    search_fields = ["subject", "department__name"]
    list_select_related = ["department", "reminded_by"]


@admin.register(DepartmentChannel)
class DepartmentChannelAdmin(admin.ModelAdmin):
    """The departments' group robots (企业微信 / 钉钉), kept by the supervision office."""

    list_display = ["department", "kind", "active", "updated"]
    list_filter = ["kind", "active", "department"]
    search_fields = ["department__name"]
    list_select_related = ["department"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: written only by the notification services."""

    list_display = ["sent_at", "kind", "address", "department", "about", "subject", "ok"]
    list_filter = ["ok", "kind", "about", "department"]
    search_fields = ["subject", "address", "object_key"]
    list_select_related = ["department"]
    date_hierarchy = "sent_at"
# 销号 and 延期 change through metrics.closeoff.services (permissions, segregation of duties, the task's status
# and deadline); the admin only shows them.


@admin.register(CloseOffRequest)
class CloseOffRequestAdmin(ReadOnlyAdmin):
    list_display = ["task", "requested_by", "requested_at", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["task__title", "note", "decision_note"]
    list_select_related = ["task__action", "task__parent", "requested_by", "decided_by"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["task", "current_deadline", "new_deadline", "requested_by", "requested_at", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["task__title", "reason", "decision_note"]
    list_select_related = ["task__action", "task__parent", "requested_by", "decided_by"]
