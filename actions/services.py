"""Writes to the plan."""

from dataclasses import dataclass, field

from django.db import transaction

from actions.models import Action, Department, Indicator, IndicatorDepartment, Milestone, Plan, Task


@dataclass
class PlanLoadSummary:
    plan: Plan
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def count(self, model, created: bool) -> None:
        bucket = self.created if created else self.updated
        name = model._meta.model_name
        bucket[name] = bucket.get(name, 0) + 1


def _upsert(summary: PlanLoadSummary, model, *, defaults: dict, **lookup):
    obj, created = model.objects.update_or_create(defaults=defaults, **lookup)
    summary.count(model, created)
    return obj


@transaction.atomic
def plan_load(*, data: dict) -> PlanLoadSummary:
    """Create or update a plan from validated plan-file data (see actions.plan_file.validate_plan).

    Idempotent: items are matched by their natural keys (department code, action number, task number
    within its action, sub-task number within its parent task, indicator code, milestone number) and
    updated in place. Nothing is deleted: an item the file no
    longer names is kept, with its reported figures, and listed in `summary.kept`. Runtime state the
    file does not hold (task status, milestone done dates, department members) is left alone, and so is a
    deadline moved by a granted extension (延期).
    """
    plan_data = dict(data["plan"])
    year = plan_data.pop("year")
    plan, created = Plan.objects.update_or_create(year=year, defaults=plan_data)
    summary = PlanLoadSummary(plan=plan)
    summary.count(Plan, created)

    for dept in data["departments"]:
        _upsert(summary, Department, code=dept["code"], defaults={k: v for k, v in dept.items() if k != "code"})
    departments = {d.code: d for d in Department.objects.all()}

    for action_data in data["actions"]:
        action = _upsert(
            summary,
            Action,
            plan=plan,
            number=action_data["number"],
            defaults={
                "codename": action_data["codename"],
                "title": action_data["title"],
                "lead_leader": action_data["lead_leader"],
                "lead_department": departments[action_data["lead_department"]],
            },
        )
        _kept(summary, action.tasks.filter(parent=None).exclude(number__in=[t["number"] for t in action_data["tasks"]]))
        for task_data in action_data["tasks"]:
            task = _load_task(summary, action, task_data, departments, parent=None)
            _kept(summary, task.subtasks.exclude(number__in=[t["number"] for t in task_data["subtasks"]]))
            for subtask_data in task_data["subtasks"]:
                _load_task(summary, action, subtask_data, departments, parent=task)
    _kept(summary, plan.actions.exclude(number__in=[a["number"] for a in data["actions"]]))
    # Checked once all are loaded: an indicator moved to another task (or sub-task) is not "kept".
    codes = [i["code"] for a in data["actions"] for t in _tasks_of(a) for i in t["indicators"]]
    _kept(summary, Indicator.objects.filter(task__action__plan=plan).exclude(code__in=codes))
    return summary


def _tasks_of(action_data: dict) -> list[dict]:
    """An action's tasks and their sub-tasks, from validated plan-file data."""
    return [t for task in action_data["tasks"] for t in (task, *task["subtasks"])]


def _load_task(summary: PlanLoadSummary, action: Action, data: dict, departments: dict, *, parent: Task | None) -> Task:
    defaults = {
        "title": data["title"],
        "description": data["description"],
        "lead_leader": data["lead_leader"],
        "lead_department": departments[data["lead_department"]],
        "deadline": data["deadline"],
    }
    # A deadline moved by a granted extension (延期, metrics.models.ExtensionRequest, status "granted") is
    # runtime state, as the status is: reloading the file keeps it. A relation lookup, not an import.
    if Task.objects.filter(action=action, parent=parent, number=data["number"], extension_requests__status="granted").exists():
        del defaults["deadline"]
    task = _upsert(summary, Task, action=action, parent=parent, number=data["number"], defaults=defaults)
    task.co_departments.set([departments[c] for c in data["co_departments"]])

    for milestone in data["milestones"]:
        _upsert(
            summary,
            Milestone,
            task=task,
            number=milestone["number"],
            defaults={"title": milestone["title"], "planned_date": milestone["planned_date"]},
        )
    _kept(summary, task.milestones.exclude(number__in=[m["number"] for m in data["milestones"]]))

    # Indicator codes are unique in the plan, so an indicator moved to another task keeps its figures.
    plan_indicators = Indicator.objects.filter(task__action__plan=action.plan)
    for ind in data["indicators"]:
        existing = plan_indicators.filter(code=ind["code"]).first()
        fields = {
            "task": task,
            "name": ind["name"],
            "unit": ind["unit"],
            "kind": ind["kind"],
            "annual_target": ind["annual_target"],
            "monthly_targets": ind["monthly_targets"],
            "direction": ind["direction"],
            "frequency": ind["frequency"],
            "weight": ind["weight"],
            "entry_mode": ind["entry_mode"],
            "rate_department": departments[ind["rate_department"]] if ind.get("rate_department") else None,
        }
        indicator = existing or Indicator(code=ind["code"])
        summary.count(Indicator, created=existing is None)
        for name, value in fields.items():
            setattr(indicator, name, value)
        indicator.save()
        for assignment in ind["departments"]:
            IndicatorDepartment.objects.update_or_create(
                indicator=indicator,
                department=departments[assignment["department"]],
                defaults={"target_share": assignment["share"]},
            )
        # A department the file no longer names stops being expected to report; its figures stay.
        indicator.assignments.exclude(department__code__in=[a["department"] for a in ind["departments"]]).delete()
    return task


def _kept(summary: PlanLoadSummary, queryset) -> None:
    summary.kept.extend(f"{obj._meta.verbose_name}: {obj}" for obj in queryset)

