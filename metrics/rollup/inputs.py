"""Whether a week's run may carry the week before's stored sums, and which logged changes a run has covered.

Running sums (engine.rollup_week's `carry`) are exact only if nothing the week before's sums read has changed
since they were stored without a roll-up that covered it. PostgreSQL triggers log every such write in the
writing transaction (metrics.models.InputChange, migration 0017). A run notes what it has seen before it
starts (`seen`: the log's last id and the run's snapshot); once it has rolled up every week a change affects,
it deletes exactly the changes that snapshot saw (`consume`), so a change committed while it ran stays for
the next run. A week may carry when the week before is stored as of its last day and no change to a period
before the week is left (`settled_before`); a lost roll-up leaves its change, and the week is added up from
its figures until the sweep or the nightly check has covered it.
"""

import datetime
from dataclasses import dataclass

from django.db import connection

from actions.models import Plan
from metrics.choices import RollupLevel
from metrics.models import InputChange, Rollup
from metrics.rollup.engine import T, Week, carries
from planboard import clock
from planboard.periods import Frequency, year_start

LOG = InputChange._meta.db_table


@dataclass(frozen=True)
class Seen:
    """What of the log a run saw before it started: its last id and the snapshot it was read in."""

    last_id: int
    snapshot: str


def seen() -> Seen | None:
    """The log as this moment sees it (None where nothing is logged: SQLite, which never carries)."""
    if not carries():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0), pg_current_snapshot()::text FROM {LOG}")
        last_id, snapshot = cursor.fetchone()
    return Seen(last_id, snapshot)


def _indicators_of(plan: Plan) -> str:
    return f"""SELECT i.id FROM {T["indicator"]} i JOIN {T["task"]} t ON t.id = i.task_id JOIN {T["action"]} a ON a.id = t.action_id
      WHERE a.plan_id = {int(plan.pk)}"""


def _plan_changes(plan: Plan) -> str:
    """The log's rows about `plan`: its figures (by indicator) and its structure (by plan)."""
    return f"(c.plan_id = {int(plan.pk)} OR c.indicator_id IN ({_indicators_of(plan)}))"


def settled_before(week: Week) -> bool:
    """Whether `week` may carry the week before's stored sums: on PostgreSQL (`carries`), the week before is
    of the plan's year and stored as of its last day (by a whole run: the plan's row), and no change to a
    period before `week`, nor to the plan's structure, is left in the log."""
    plan = week.plan
    if not carries() or week.previous < year_start(plan.year, Frequency.WEEKLY):
        return False
    before = Week.of(plan, week.previous, clock.today())
    stored = Rollup.objects.filter(plan=plan, level=RollupLevel.PLAN, week=before.start).values_list("as_of", flat=True)
    if list(stored) != [before.as_of]:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {LOG} c WHERE (c.period_start IS NULL OR c.period_start < %s) AND {_plan_changes(plan)})",
            [week.start],
        )
        return not cursor.fetchone()[0]


def consume(
    mark: Seen | None, plan: Plan, *, from_week: datetime.date, indicator_ids=None, every_week: bool = False
) -> None:
    """Delete the changes `mark` saw that a run has covered: it rolled up every week from `from_week` to the
    current one, for `indicator_ids` (None: every indicator of the plan). With `every_week` (the run began at
    the plan's first week, or checked every week), the plan's structure changes too."""
    if mark is None:
        return
    if indicator_ids is None:
        indicators = _indicators_of(plan)
    else:
        indicators = ", ".join(str(int(i)) for i in indicator_ids) or "NULL"
    covered = f"(c.period_start >= %(from_week)s AND c.indicator_id IN ({indicators}))"
    if every_week:
        covered = f"({covered} OR {_plan_changes(plan)})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {LOG} c WHERE c.id <= %(last_id)s
              AND pg_visible_in_snapshot(c.xact::text::xid8, %(snapshot)s::pg_snapshot) AND {covered}""",
            {"last_id": mark.last_id, "snapshot": mark.snapshot, "from_week": from_week},
        )
