"""Hand-built inbox data for the inbox and notification tests: orders, replies, a returned sheet."""

import datetime

from actions.models import Indicator
from metrics.choices import OrderLevel, OrderStatus, OrderSubject, ReopenStatus, SheetStatus
from metrics.models import OrderReply, Sheet, SupervisionOrder
from tests.metrics.reporting import LAST_WEEK, TODAY


def order(cast, department=None, *, number=1, level=OrderLevel.YELLOW, status=OrderStatus.AWAITING_REPLY,
          deadline=datetime.date(2022, 5, 25), closed_on=None, reason="产值慢于序时进度 12.0 个百分点") -> SupervisionOrder:
    department = department or cast.dept_a
    indicator = Indicator.objects.get(task__action__plan=cast.plan, code=f"output-{number}")
    return SupervisionOrder.objects.create(
        plan=cast.plan, subject_kind=OrderSubject.INDICATOR, subject_key=f"indicator:{indicator.pk}:{department.pk}",
        indicator=indicator, department=department, level=level, status=status, reason=reason,
        week=datetime.date(2022, 5, 16), issued_on=datetime.date(2022, 5, 18), deadline=deadline, closed_on=closed_on,
    )


def reply(the_order, user, *, verdict=ReopenStatus.PENDING, comment="") -> OrderReply:
    return OrderReply.objects.create(order=the_order, measures="加快项目入库", expected_date=datetime.date(2022, 6, 10),
                                     replied_by=user, verdict=verdict, comment=comment)


def returned_sheet(cast, *, comment="第3项产值单位有误，请核对", week=LAST_WEEK) -> Sheet:
    """Last week's sheet of department A, returned by the office (open again for the plan's lock days)."""
    return Sheet.objects.create(
        plan=cast.plan, department=cast.dept_a, frequency="weekly", period_start=week, status=SheetStatus.RETURNED,
        submitted_by=cast.staff_a, reviewed_by=cast.supervisor, review_comment=comment,
        submitted_at=datetime.datetime(2022, 5, 13, 9, tzinfo=datetime.UTC), reviewed_at=datetime.datetime(2022, 5, 19, 9, tzinfo=datetime.UTC),
        reopened_until=TODAY + datetime.timedelta(days=3),
    )
