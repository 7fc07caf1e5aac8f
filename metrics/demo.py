"""Deterministic demo data: accounts for every role and figures from January to a demo 'today'.

The same inputs give the same figures on every machine (a seeded random generator per indicator),
so that screenshots, tests and benchmarks agree. The plan's targets are illustrative, and so is this.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from actions.choices import SUMMED_KINDS, Direction, Frequency, IndicatorKind
from actions.models import Department, IndicatorDepartment, Milestone, Plan
from metrics.choices import FigureState
from metrics.models import Figure
from planboard import clock
from planboard.periods import due_at, period_end, periods_until, reporting_period
from planboard.roles import Role

DEMO_PASSWORD = "planboard-demo"

# How fast an indicator runs against its target: most on course, some slightly behind, a few far behind.
PACE_PROFILES = [
    ("ahead", Decimal("1.12"), Decimal("1.5")),
    ("ahead", Decimal("1.04"), Decimal("0.6")),
    ("on course", Decimal("1.00"), Decimal("0.1")),
    ("slightly behind", Decimal("0.95"), Decimal("-0.5")),
    ("slightly behind", Decimal("0.92"), Decimal("-0.8")),
    ("far behind", Decimal("0.70"), Decimal("-2.5")),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    department: str = ""


def demo_today(plan: Plan, pinned: datetime.date | None) -> datetime.date:
    """The demo's 'today': the pinned date when it falls in the plan year, else 20 May of that year."""
    if pinned and pinned.year == plan.year:
        return pinned
    return datetime.date(plan.year, 5, 20)


def demo_moment(today: datetime.date) -> datetime.datetime:
    """The moment the demo stands at on its 'today': the pinned moment (the date at the clock's default time
    of day, or the pinned time), so that no demo figure is entered after it. Fixed, not the moving clock,
    so that the demo is the same on every run."""
    pinned = clock.pinned_moment()
    if pinned is not None and clock.today() == today:
        return pinned
    return timezone.make_aware(datetime.datetime.combine(today, clock.DEFAULT_TIME_OF_DAY))


@transaction.atomic
def seed_accounts(*, password: str = DEMO_PASSWORD, with_superuser: bool = True) -> list[DemoAccount]:
    """Create (or reset the password of) one account per role and one staff account per department.

    With `with_superuser`, also the superuser `admin`; without, an existing `admin` that still has the
    published demo password loses it (it can be given a new one with `changepassword admin`).
    """
    User = get_user_model()
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}

    def account(username: str, *, role: Role | None, **extra) -> "User":
        user, _ = User.objects.get_or_create(username=username, defaults=extra)
        user.set_password(password)
        for name, value in extra.items():
            setattr(user, name, value)
        user.save()
        if role:
            user.groups.add(groups[role])
        return user

    accounts = [DemoAccount("leader", Role.LEADER.label), DemoAccount("supervisor", Role.SUPERVISOR.label)]
    if with_superuser:
        accounts.insert(0, DemoAccount("admin", "superuser"))
        account("admin", role=None, is_staff=True, is_superuser=True, first_name="系统管理员")
    else:
        for admin in User.objects.filter(username="admin"):
            if admin.check_password(DEMO_PASSWORD):
                admin.set_unusable_password()
                admin.save(update_fields=["password"])
    account("leader", role=Role.LEADER, first_name="区领导")
    account("supervisor", role=Role.SUPERVISOR, first_name="督查办")
    for department in Department.objects.all():
        user = account(f"staff-{department.code}", role=Role.STAFF, first_name=f"{department.short_name}填报员")
        department.members.add(user)
        accounts.append(DemoAccount(user.username, Role.STAFF.label, department.short_name))
    return accounts


def seed_milestones(*, plan: Plan, today: datetime.date) -> int:
    """Mark the demo's milestones due by `today`: most done on time, some late, some still open.

    Only milestones with no done date are touched, so dates someone entered stay. Returns how many were set.
    """
    done = 0
    due = (
        Milestone.objects.filter(task__action__plan=plan, planned_date__lte=today)
        .select_related("task__action")
        .order_by("planned_date", "task__action__number", "task__number", "number")
    )
    for n, milestone in enumerate(due):
        # Three in five done on time, one late, one still open; dates someone entered are kept.
        if milestone.done_date is not None or n % 5 == 4:
            continue
        task = milestone.task
        rng = random.Random(f"{plan.year}:milestone:{task.action.number}.{task.number}.{milestone.number}")
        if n % 5 == 3 and milestone.planned_date < today:
            milestone.done_date = min(milestone.planned_date + datetime.timedelta(days=rng.randint(2, 12)), today)
        else:
            milestone.done_date = milestone.planned_date - datetime.timedelta(days=rng.randint(0, 10))
        milestone.save(update_fields=["done_date", "updated"])
        done += 1
    return done


def seed_figures(*, plan: Plan, today: datetime.date, batch_size: int = 2000) -> int:
    """Create the demo figures of a plan up to `today`; existing figures are kept. Returns how many were new."""
    User = get_user_model()
    staff_by_department = {
        d.pk: User.objects.filter(username=f"staff-{d.code}").first() for d in Department.objects.all()
    }
    assignments = (
        IndicatorDepartment.objects.filter(indicator__task__action__plan=plan)
        .select_related("indicator", "department")
        .order_by("indicator__code", "department__code")
    )
    counts = {}
    for a in assignments:
        counts[a.indicator_id] = counts.get(a.indicator_id, 0) + 1

    created = 0
    batch: list[Figure] = []
    moment = demo_moment(today)
    for assignment in assignments:
        batch.extend(_figures_for(assignment, counts[assignment.indicator_id], plan, today, moment, staff_by_department))
        if len(batch) >= batch_size:
            created += _save(batch, batch_size)
            batch = []
    created += _save(batch, batch_size)
    return created


def _save(batch: list[Figure], batch_size: int) -> int:
    before = Figure.objects.count()
    Figure.objects.bulk_create(batch, batch_size=batch_size, ignore_conflicts=True)
    return Figure.objects.count() - before


def _figures_for(assignment, department_count, plan, today, moment, staff_by_department):
    indicator, department = assignment.indicator, assignment.department
    rng = random.Random(f"{plan.year}:{indicator.code}:{department.code}")
    profile = PACE_PROFILES[random.Random(f"{plan.year}:{indicator.code}").randrange(len(PACE_PROFILES))]
    _, pace, rate_offset = profile
    # Up to the period now due (a month is reported after it ends), some of whose reports are missing.
    current = reporting_period(today, indicator.frequency)
    starts = [start for start in periods_until(plan.year, indicator.frequency, today) if start <= current]

    target = assignment.target_share
    if target is None and indicator.annual_target is not None:
        target = indicator.annual_target / department_count if indicator.is_summed else indicator.annual_target

    # About a quarter of the departments have not sent this period's report yet; the rest miss a cell now and then.
    department_late = random.Random(f"{plan.year}:{department.code}:late").random() < 0.25
    cumulative_reported = Decimal("0")
    for start in starts:
        end = period_end(start, indicator.frequency)
        if start == current and (department_late or rng.random() < 0.04):
            continue
        entered_at = _entered_at(rng, due_at(plan, start, indicator.frequency))
        if timezone.localtime(entered_at).date() > today:
            continue  # would arrive after "today": not reported yet
        # Due later today, it was sent this morning: never after the demo's moment. Before and after its
        # deadline as it was, so that timeliness (and every roll-up number) is the same.
        entered_at = min(entered_at, moment)
        figure = Figure(
            indicator=indicator,
            department=department,
            period_start=start,
            entered_by=staff_by_department.get(department.pk),
            entered_at=entered_at,
        )
        if rng.random() < 0.015:
            figure.state = FigureState.NOT_APPLICABLE
            figure.note = "本期无此项业务（演示数据）"
        elif indicator.kind in SUMMED_KINDS:
            expected_cumulative = target * _schedule_share(indicator, plan.year, end) * pace
            noise = Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
            wanted = max(expected_cumulative * noise, cumulative_reported)
            if indicator.kind == IndicatorKind.COUNT:
                wanted = wanted.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
            figure.value = (wanted - cumulative_reported).quantize(Decimal("0.0001"))
            cumulative_reported += figure.value
        else:
            offset = rate_offset if indicator.direction == Direction.HIGHER else -rate_offset
            noise = Decimal(str(round(rng.uniform(-0.3, 0.3), 2)))
            figure.value = ((target or Decimal("0")) + offset + noise).quantize(Decimal("0.01"))
        yield figure


def _schedule_share(indicator, year: int, end: datetime.date) -> Decimal:
    """The share of the annual target due by `end`: phased monthly targets where set, else time elapsed."""
    if indicator.monthly_targets and indicator.annual_target:
        # Within a month, interpolate between the previous month's cumulative target and this one's.
        targets = [Decimal(str(v)) for v in indicator.monthly_targets]
        month_end = period_end(end.replace(day=1), Frequency.MONTHLY)
        previous = targets[end.month - 2] if end.month > 1 else Decimal("0")
        done = previous + (targets[end.month - 1] - previous) * Decimal(end.day) / Decimal(month_end.day)
        return done / indicator.annual_target
    start = datetime.date(year, 1, 1)
    days = (datetime.date(year, 12, 31) - start).days + 1
    return Decimal(min(max((end - start).days + 1, 0), days)) / Decimal(days)


def _entered_at(rng: random.Random, due: datetime.datetime) -> datetime.datetime:
    """Most reports arrive on the due day before the deadline; about one in eight comes one to four days late."""
    if rng.random() < 0.12:
        return due + datetime.timedelta(days=rng.randint(1, 4), hours=rng.randint(-6, 6))
    return due - datetime.timedelta(hours=rng.randint(1, 8), minutes=rng.randint(0, 59))


@dataclass(frozen=True)
class Scale:
    """The size of a synthetic plan for benchmarks: figures = indicators × per_indicator × weeks."""

    year: int = 2030
    departments: int = 40
    indicators: int = 2000
    per_indicator: int = 10
    weeks: int = 52

    @property
    def figures(self) -> int:
        return self.indicators * self.per_indicator * self.weeks


def seed_scale(*, scale: Scale, batch_size: int = 10_000, progress=None) -> Plan:
    """A synthetic plan with weekly amounts and figures for `scale.weeks` weeks, for benchmarks.

    Deterministic, and replaced as a whole when run again (its own year and department codes, so the
    real plan is never touched).
    """
    from actions.models import Action, Indicator, Task

    Figure.objects.filter(indicator__task__action__plan__year=scale.year).delete()
    Plan.objects.filter(year=scale.year).delete()
    plan = Plan.objects.create(year=scale.year, title=f"压力测试计划（合成数据，{scale.figures:,} 条）")
    departments = [
        Department.objects.update_or_create(
            code=f"bench-{n:03d}", defaults={"name": f"压测单位{n:03d}", "short_name": f"压测{n:03d}"}
        )[0]
        for n in range(1, scale.departments + 1)
    ]
    actions = [
        Action.objects.create(plan=plan, number=n, codename=f"压测{n}", title=f"压测行动{n}", lead_department=departments[0])
        for n in range(1, 9)
    ]
    tasks_per_action = max(1, scale.indicators // 8 // 10)
    tasks = Task.objects.bulk_create(
        Task(action=a, number=n, title=f"压测任务{a.number}.{n}", lead_department=departments[n % len(departments)],
             deadline=datetime.date(scale.year, 12, 31))
        for a in actions for n in range(1, tasks_per_action + 1)
    )
    indicators = Indicator.objects.bulk_create(
        Indicator(task=tasks[n % len(tasks)], code=f"bench-{n:05d}", name=f"压测指标{n}", unit="万元", kind="amount",
                  frequency=Frequency.WEEKLY, annual_target=Decimal(1000 + n % 500), weight=Decimal(1 + n % 3))
        for n in range(scale.indicators)
    )
    assignments = IndicatorDepartment.objects.bulk_create(
        IndicatorDepartment(indicator=ind, department=departments[(n + k * 3) % len(departments)])
        for n, ind in enumerate(indicators) for k in range(scale.per_indicator)
    )
    weeks = [datetime.date.fromisocalendar(scale.year, w, 1) for w in range(1, scale.weeks + 1)]
    entered = timezone.make_aware(datetime.datetime(scale.year, 1, 1, 12))
    rng = random.Random(scale.year)
    rates = [Decimal(str(round(rng.uniform(10, 30), 2))) for _ in assignments]
    batch, done = [], 0
    # Week by week, as units report: the table's rows lie in the order a real year's do (a week's figures
    # together), which is what reads of a week's latest periods meet.
    for start in weeks:
        for assignment, rate in zip(assignments, rates):
            batch.append(Figure(
                indicator_id=assignment.indicator_id, department_id=assignment.department_id, period_start=start,
                value=rate, entered_at=entered + datetime.timedelta(days=(start - weeks[0]).days + 4),
            ))
        if len(batch) >= batch_size:
            Figure.objects.bulk_create(batch, batch_size=batch_size)
            done += len(batch)
            batch = []
            if progress:
                progress(done, scale.figures)
    Figure.objects.bulk_create(batch, batch_size=batch_size)
    return plan


DEMO_MEASURES = {
    "indicator": ["成立专班，逐企逐项调度，按周倒排进度，确保6月底前补齐缺口。", "已约谈进度滞后的项目业主，加快要素保障，下周起每周报送进展。"],
    "milestone": ["节点已倒排工期，增派施工力量，预计两周内完成。"],
    "missing_report": ["补报缺失数据，落实专人负责每周五前报送。"],
}


def seed_order_replies(*, plan: Plan, today: datetime.date) -> int:
    """Some units answer their orders, and the office accepts one answer: the loop in several states.

    Only when no order has a reply yet (a second run adds nothing). Returns the replies made."""
    from metrics.models import OrderReply, SupervisionOrder
    from metrics.supervision import services

    if OrderReply.objects.filter(order__plan=plan).exists() or clock.today() != today:
        return 0  # already answered, or the app's clock is not the demo's day (replies are dated by it)
    User = get_user_model()
    office = User.objects.filter(username="supervisor").first()
    made = 0
    open_orders = SupervisionOrder.objects.filter(plan=plan, closed_on__isnull=True).select_related("department").order_by("pk")
    for n, order in enumerate(open_orders):
        if n % 3:
            continue
        staff = User.objects.filter(username=f"staff-{order.department.code}").first()
        if staff is None:
            continue
        reply = services.order_reply(
            user=staff, order=order, measures=DEMO_MEASURES[order.subject_kind][made % len(DEMO_MEASURES[order.subject_kind])],
            expected_date=min(plan.checkpoint, today + datetime.timedelta(days=30)) if today < plan.checkpoint else today,
        )
        if office and made % 2 == 0:
            services.reply_verify(user=office, reply=reply, accept=made % 4 == 0, comment="" if made % 4 == 0 else "措施不够具体，请补充时间表。")
        made += 1
    return made
