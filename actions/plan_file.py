"""Reading and validating a plan file (YAML). Validation collects every problem before anything is loaded."""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.utils import translation

from actions.choices import RATE_KINDS, SUMMED_KINDS, DepartmentKind, Direction, EntryMode, Frequency, IndicatorKind
from actions.models import Plan, monthly_targets_problem

DEFAULT_PLAN_PATH = Path(__file__).resolve().parent / "plans" / "2022.yaml"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PlanFileError(Exception):
    """The plan file cannot be loaded; `problems` holds one line per problem, each saying where."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Checker:
    known_departments: set[str]
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            self.problem(where, "must be a mapping of fields")
            return {}
        return value

    def items(self, value, where: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(where, "must be a list")
            return []
        return value

    def text(self, data: dict, key: str, where: str, *, required: bool = True, max_length: int = 200) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(f"{where}.{key}", "is missing")
            return ""
        value = str(value).strip()
        if len(value) > max_length:
            self.problem(f"{where}.{key}", f"is longer than {max_length} characters")
        return value

    def slug(self, data: dict, key: str, where: str) -> str:
        value = self.text(data, key, where, max_length=60)
        if value and not SLUG.match(value):
            self.problem(f"{where}.{key}", f"{value!r} must be lower-case letters, digits and hyphens")
        return value

    def integer(self, data: dict, key: str, where: str, *, low: int, high: int) -> int | None:
        value = data.get(key)
        if value is None:
            self.problem(f"{where}.{key}", "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(f"{where}.{key}", f"{value!r} must be a whole number from {low} to {high}")
            return None
        return value

    def number(self, data: dict, key: str, where: str, *, required: bool = True, positive: bool = False) -> Decimal | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"{where}.{key}", "is missing")
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.problem(f"{where}.{key}", f"{value!r} is not a number")
            return None
        if number < 0:
            self.problem(f"{where}.{key}", f"{value!r} cannot be negative")
            return None
        if positive and number == 0:
            self.problem(f"{where}.{key}", "must be greater than zero")
            return None
        return number

    def date(self, data: dict, key: str, where: str, *, required: bool = True) -> datetime.date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"{where}.{key}", "is missing")
            return None
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            self.problem(f"{where}.{key}", f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def choice(self, data: dict, key: str, where: str, choices, default=None) -> str:
        value = data.get(key, default)
        if value is None:
            self.problem(f"{where}.{key}", "is missing")
            return ""
        if value not in choices.values:
            self.problem(f"{where}.{key}", f"{value!r} must be one of {', '.join(choices.values)}")
            return ""
        return value

    def unique_number(self, data: dict, where: str, seen: set[int], label: str, *, high: int = 999) -> int | None:
        """The item's `number`, checked to be a whole number and not used before in its list."""
        number = self.integer(data, "number", where, low=1, high=high)
        if number is not None:
            if number in seen:
                self.problem(f"{where}.number", f"duplicate {label} number {number}")
            seen.add(number)
        return number

    def department(self, code, where: str) -> str:
        if code is None or code == "":
            self.problem(where, "is missing")
            return ""
        if code not in self.known_departments:
            self.problem(where, f"unknown department {code!r}")
            return ""
        return code


def read_plan_file(path: Path | str, *, existing_departments: set[str] = frozenset()) -> dict:
    """Parse and validate a plan file; return the normalised plan or raise PlanFileError with every problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except yaml.YAMLError as exc:
        raise PlanFileError([f"{path}: is not valid YAML: {exc}"]) from None
    return validate_plan(raw, existing_departments=existing_departments)


def validate_plan(raw, *, existing_departments: set[str] = frozenset()) -> dict:
    """Check a parsed plan file and return it in normalised form, or raise PlanFileError.

    Problems are always in English, the language of the file's field names.
    """
    with translation.override(None):
        return _validate_plan(raw, existing_departments)


def _validate_plan(raw, existing_departments) -> dict:
    if not isinstance(raw, dict):
        raise PlanFileError(["the file must hold a mapping with plan, departments and actions"])

    file_departments = [d.get("code") for d in raw.get("departments") or [] if isinstance(d, dict)]
    check = _Checker(known_departments=set(existing_departments) | {c for c in file_departments if c})

    plan = _plan(check, check.mapping(raw.get("plan"), "plan"))
    departments = _departments(check, check.items(raw.get("departments"), "departments"))
    actions = _actions(check, raw.get("actions"), plan)
    if check.problems:
        raise PlanFileError(check.problems)
    return {"plan": plan, "departments": departments, "actions": actions}


def _plan(check: _Checker, data: dict) -> dict:
    year = check.integer(data, "year", "plan", low=2000, high=2100)
    checkpoint = check.date(data, "checkpoint", "plan", required=False)
    if checkpoint is None and year:
        checkpoint = datetime.date(year, 6, 30)
    elif checkpoint and year and checkpoint.year != year:
        check.problem("plan.checkpoint", f"{checkpoint} is not in the plan year {year}")
    thresholds = check.mapping(data.get("thresholds") or {}, "plan.thresholds")
    result = {
        "year": year,
        "title": check.text(data, "title", "plan"),
        "note": check.text(data, "note", "plan", required=False, max_length=2000),
        "checkpoint": checkpoint,
    }
    for key in ("yellow_gap_pp", "growth_yellow_pp"):
        value = check.number(thresholds, key, "plan.thresholds", required=False)
        if value is not None:
            result[key] = value
    reporting = check.mapping(data.get("reporting") or {}, "plan.reporting")
    if "weekday" in reporting:
        result["report_weekday"] = check.integer(reporting, "weekday", "plan.reporting", low=0, high=6)
    if "due_time" in reporting:
        try:
            result["report_due_time"] = datetime.time.fromisoformat(str(reporting["due_time"]))
        except ValueError:
            check.problem("plan.reporting.due_time", f"{reporting['due_time']!r} is not a time (HH:MM)")
    if "monthly_day" in reporting:
        result["monthly_report_day"] = check.integer(reporting, "monthly_day", "plan.reporting", low=1, high=28)
    if "lock_after_days" in reporting:
        result["lock_after_days"] = check.integer(reporting, "lock_after_days", "plan.reporting", low=0, high=60)
    plausible = check.number(thresholds, "plausible_multiple", "plan.thresholds", required=False)
    if plausible is not None and plausible < 1:
        check.problem("plan.thresholds.plausible_multiple", f"{plausible} must be at least 1 (the annual target itself)")
    elif plausible is not None:
        result["plausible_multiple"] = plausible
    if "deadline_warning_days" in thresholds:
        result["deadline_warning_days"] = check.integer(thresholds, "deadline_warning_days", "plan.thresholds", low=0, high=60)
    result.update(_scoring(check, check.mapping(data.get("scoring") or {}, "plan.scoring")))
    result.update(_supervision(check, check.mapping(data.get("supervision") or {}, "plan.supervision")))
    return result


# plan.supervision key -> (Plan field, lowest, highest): the supervision ladder (督办单) and its deductions.
SUPERVISION_DAYS = {
    "reply_days": ("order_reply_days", 1, 60),
    "due_soon_days": ("order_due_soon_days", 0, 60),
    "red_weeks": ("order_red_weeks", 1, 26),
    "interview_red_orders": ("interview_red_orders", 1, 50),
    "interview_window_days": ("interview_window_days", 1, 366),
}
SUPERVISION_PENALTIES = {
    "blue": "score_order_penalty_blue",
    "yellow": "score_order_penalty_yellow",
    "red": "score_order_penalty_red",
    "interview": "score_interview_penalty",
}


def _supervision(check: _Checker, supervision: dict) -> dict:
    result = {}
    for key, (field_name, low, high) in SUPERVISION_DAYS.items():
        if key in supervision:
            result[field_name] = check.integer(supervision, key, "plan.supervision", low=low, high=high)
    penalties = check.mapping(supervision.get("penalties") or {}, "plan.supervision.penalties")
    for key, field_name in SUPERVISION_PENALTIES.items():
        value = check.number(penalties, key, "plan.supervision.penalties", required=False)
        if value is not None and value < 0:
            check.problem(f"plan.supervision.penalties.{key}", f"{value} cannot be negative")
        elif value is not None:
            result[field_name] = value
    unknown = sorted(set(supervision) - set(SUPERVISION_DAYS) - {"penalties"}) + sorted(
        f"penalties.{k}" for k in set(penalties) - set(SUPERVISION_PENALTIES)
    )
    if unknown:
        check.problem("plan.supervision", f"unknown keys {', '.join(map(repr, unknown))}: use {', '.join(SUPERVISION_DAYS)}, "
                      f"penalties ({', '.join(SUPERVISION_PENALTIES)})")
    return result


# plan.scoring key -> Plan field: the weights of the unit score's parts (比武打擂) and the red-light penalty.
SCORE_WEIGHTS = {
    "indicators": "score_weight_indicators",
    "led_tasks": "score_weight_led",
    "milestones": "score_weight_milestones",
    "timeliness": "score_weight_timeliness",
}


def _scoring(check: _Checker, scoring: dict) -> dict:
    result = {}
    for key, field_name in SCORE_WEIGHTS.items():
        if key in scoring:
            result[field_name] = check.integer(scoring, key, "plan.scoring", low=0, high=100)
    unknown = sorted(set(scoring) - set(SCORE_WEIGHTS) - {"red_penalty"})
    if unknown:
        check.problem("plan.scoring", f"unknown keys {', '.join(map(repr, unknown))}: use {', '.join(SCORE_WEIGHTS)}, red_penalty")
    weights = [result.get(f, Plan._meta.get_field(f).default) for f in SCORE_WEIGHTS.values()]
    if None not in weights and sum(weights) == 0:
        check.problem("plan.scoring", "the weights cannot all be zero")
    penalty = check.number(scoring, "red_penalty", "plan.scoring", required=False)
    if penalty is not None:
        result["score_red_penalty"] = penalty
    return result


def _departments(check: _Checker, items: list) -> list[dict]:
    seen: set[str] = set()
    departments = []
    for i, item in enumerate(items, start=1):
        where = f"departments[{i}]"
        data = check.mapping(item, where)
        code = check.slug(data, "code", where)
        if code in seen:
            check.problem(f"{where}.code", f"duplicate department code {code!r}")
        seen.add(code)
        departments.append({
            "code": code,
            "name": check.text(data, "name", where, max_length=100),
            "short_name": check.text(data, "short_name", where, max_length=30),
            "kind": check.choice(data, "kind", where, DepartmentKind, default=DepartmentKind.DEPARTMENT.value),
        })
    return departments


def _actions(check: _Checker, value, plan: dict) -> list[dict]:
    items = check.items(value, "actions")
    if not items:
        check.problem("actions", "the plan has no actions")
    numbers: set[int] = set()
    codenames: set[str] = set()
    indicator_codes: set[str] = set()
    actions = []
    for i, item in enumerate(items, start=1):
        data = check.mapping(item, f"actions[{i}]")
        where = f"actions[{i}]" + (f" ({data['codename']})" if data.get("codename") else "")
        number = check.unique_number(data, where, numbers, "action", high=8)
        codename = check.text(data, "codename", where, max_length=20)
        if codename in codenames:
            check.problem(f"{where}.codename", f"duplicate codename {codename!r}")
        codenames.add(codename)
        actions.append({
            "number": number,
            "codename": codename,
            "title": check.text(data, "title", where),
            "lead_leader": check.text(data, "lead_leader", where, required=False, max_length=100),
            "lead_department": check.department(data.get("lead_department"), f"{where}.lead_department"),
            "tasks": _tasks(check, data.get("tasks"), where, plan, indicator_codes),
        })
    return actions


def _tasks(check: _Checker, value, parent: str, plan: dict, indicator_codes: set[str], *, key: str = "tasks") -> list[dict]:
    """The tasks of an action, or (key "subtasks") the sub-tasks of a task: the plan has two levels."""
    numbers: set[int] = set()
    tasks = []
    for i, item in enumerate(check.items(value, f"{parent}.{key}"), start=1):
        where = f"{parent}.{key}[{i}]"
        data = check.mapping(item, where)
        number = check.unique_number(data, where, numbers, "task" if key == "tasks" else "sub-task")
        deadline = check.date(data, "deadline", where)
        if deadline and plan.get("year") and deadline.year != plan["year"]:
            check.problem(f"{where}.deadline", f"{deadline} is not in the plan year {plan['year']}")
        lead = check.department(data.get("lead_department"), f"{where}.lead_department")
        co = [
            check.department(code, f"{where}.co_departments[{j}]")
            for j, code in enumerate(check.items(data.get("co_departments"), f"{where}.co_departments"), start=1)
        ]
        subtasks = []
        if key == "tasks":
            subtasks = _tasks(check, data.get("subtasks"), where, plan, indicator_codes, key="subtasks")
        elif data.get("subtasks"):
            check.problem(f"{where}.subtasks", "a sub-task cannot have sub-tasks of its own (the plan has two levels)")
        tasks.append({
            "number": number,
            "title": check.text(data, "title", where),
            "description": check.text(data, "description", where, required=False, max_length=5000),
            "lead_leader": check.text(data, "lead_leader", where, required=False, max_length=100),
            "lead_department": lead,
            "co_departments": [c for c in co if c and c != lead],
            "deadline": deadline,
            "indicators": _indicators(check, data.get("indicators"), where, indicator_codes),
            "milestones": _milestones(check, data.get("milestones"), where, plan),
            "subtasks": subtasks,
        })
    return tasks


def _indicators(check: _Checker, value, parent: str, codes: set[str]) -> list[dict]:
    indicators = []
    for i, item in enumerate(check.items(value, f"{parent}.indicators"), start=1):
        where = f"{parent}.indicators[{i}]"
        data = check.mapping(item, where)
        code = check.slug(data, "code", where)
        if code in codes:
            check.problem(f"{where}.code", f"duplicate indicator code {code!r}")
        codes.add(code)
        kind = check.choice(data, "kind", where, IndicatorKind)
        target = check.number(data, "annual_target", where, required=kind != IndicatorKind.MILESTONE)
        monthly = data.get("monthly_targets")
        if monthly is not None and kind:
            problem = monthly_targets_problem(monthly, target, kind)
            if problem:
                check.problem(f"{where}.monthly_targets", problem)
                monthly = None
            else:
                monthly = [str(Decimal(str(v))) for v in monthly]
        entry_mode = check.choice(data, "entry", where, EntryMode, default=EntryMode.PERIOD.value)
        if entry_mode == EntryMode.CUMULATIVE and kind and kind not in SUMMED_KINDS:
            check.problem(f"{where}.entry", "only amounts and counts can be entered as cumulative values")
        assignments = []
        seen: set[str] = set()
        for j, entry in enumerate(check.items(data.get("departments"), f"{where}.departments"), start=1):
            entry_where = f"{where}.departments[{j}]"
            entry = check.mapping(entry, entry_where)
            department = check.department(entry.get("department"), f"{entry_where}.department")
            if department in seen:
                check.problem(f"{entry_where}.department", f"{department!r} is listed twice")
            seen.add(department)
            share = check.number(entry, "share", entry_where, required=False)
            assignments.append({"department": department, "share": share})
        if not assignments:
            check.problem(f"{where}.departments", "name at least one responsible department")
        rate_department = data.get("rate_department")
        if rate_department is not None:
            if kind and kind not in RATE_KINDS:
                check.problem(f"{where}.rate_department", "only growth rates and ratios take one department's rate")
            elif rate_department not in seen:
                check.problem(f"{where}.rate_department", f"{rate_department!r} is not one of the indicator's departments")
        shares = [a["share"] for a in assignments if a["share"] is not None]
        if shares:
            if kind and kind not in SUMMED_KINDS:
                check.problem(f"{where}.departments", "only amounts and counts can split their target into shares")
            elif len(shares) != len(assignments):
                check.problem(f"{where}.departments", "give every department a share, or none")
            elif target is not None and sum(shares) != target:
                check.problem(f"{where}.departments", f"the shares add up to {sum(shares)}, not the annual target {target}")
        indicators.append({
            "code": code,
            "name": check.text(data, "name", where),
            "unit": check.text(data, "unit", where, max_length=20),
            "kind": kind,
            "annual_target": target,
            "monthly_targets": monthly,
            "direction": check.choice(data, "direction", where, Direction, default=Direction.HIGHER.value),
            "frequency": check.choice(data, "frequency", where, Frequency, default=Frequency.MONTHLY.value),
            "weight": check.number(data, "weight", where, required=False, positive=True) or Decimal("1"),
            "entry_mode": entry_mode,
            "rate_department": rate_department,
            "departments": assignments,
        })
    return indicators


def _milestones(check: _Checker, value, parent: str, plan: dict) -> list[dict]:
    numbers: set[int] = set()
    milestones = []
    for i, item in enumerate(check.items(value, f"{parent}.milestones"), start=1):
        where = f"{parent}.milestones[{i}]"
        data = check.mapping(item, where)
        number = check.unique_number(data, where, numbers, "milestone")
        milestones.append({
            "number": number,
            "title": check.text(data, "title", where),
            "planned_date": check.date(data, "planned", where),
        })
    return milestones
