from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from actions.models import Action, Department, Indicator, IndicatorDepartment, Milestone, Plan, Task

admin.site.site_header = _("Planboard administration")
admin.site.site_title = _("Planboard")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["year", "title", "checkpoint", "yellow_gap_pp", "growth_yellow_pp", "deadline_warning_days"]
    search_fields = ["title"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "code", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "code"]
    filter_horizontal = ["members"]


class TaskInline(admin.TabularInline):
    model = Task
    fields = ["number", "title", "lead_leader", "lead_department", "deadline", "status"]
    extra = 0
    show_change_link = True


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["number", "codename", "title", "lead_leader", "lead_department", "plan"]
    list_display_links = ["number", "codename"]
    list_filter = ["plan", "lead_department"]
    search_fields = ["codename", "title", "lead_leader"]
    list_select_related = ["plan", "lead_department"]
    inlines = [TaskInline]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = Indicator
    fields = ["code", "name", "unit", "kind", "annual_target", "frequency", "weight"]
    extra = 0
    show_change_link = True


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["__str__", "parent", "lead_leader", "lead_department", "deadline", "status"]
    list_filter = ["action__plan", "action", "status", "lead_department"]
    search_fields = ["title", "description", "lead_leader"]
    list_select_related = ["action", "parent__action", "parent__parent", "lead_department"]
    filter_horizontal = ["co_departments"]
    date_hierarchy = "deadline"
    inlines = [MilestoneInline, IndicatorInline]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "task", "planned_date", "done_date"]
    list_filter = ["task__action", "planned_date", "done_date"]
    search_fields = ["title", "task__title"]
    list_select_related = ["task__action", "task__parent"]


class IndicatorDepartmentInline(admin.TabularInline):
    model = IndicatorDepartment
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "kind", "annual_target", "direction", "frequency", "weight", "task"]
    list_filter = ["kind", "frequency", "direction", "task__action"]
    search_fields = ["name", "code", "task__title"]
    list_select_related = ["task__action", "task__parent"]
    inlines = [IndicatorDepartmentInline]
