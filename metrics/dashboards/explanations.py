"""Plain-language explanations of how a stored progress row was computed, from its own inputs.

The rules are metrics.rollup.engine's and actions.schedule's (see their docstrings); these sentences only put a row's numbers into them.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actions.choices import RATE_KINDS, SUMMED_KINDS, Direction, Frequency, IndicatorKind
from metrics.choices import Light, Reason
from planboard import formatting

REASONS = {
    Reason.NO_TARGET: gettext_lazy("The indicator has no annual target, so completion cannot be computed."),
    Reason.ZERO_TARGET: gettext_lazy("The annual target is zero, so completion cannot be computed (no division by zero)."),
    Reason.NO_SHARE: gettext_lazy("The department has no share of the target, so its completion cannot be computed."),
    Reason.NO_FIGURES: gettext_lazy("No figures have been reported yet for the periods counted."),
    Reason.NOT_APPLICABLE: gettext_lazy("Every reported figure is marked not applicable."),
    Reason.NO_PERIOD_CLOSED: gettext_lazy("No reporting period has closed yet (monthly figures count once the month has ended)."),
    Reason.SCHEDULE_NOT_STARTED: gettext_lazy("The schedule has not started yet (序时进度 is zero), so there is nothing to judge against."),
    Reason.NO_MILESTONE_DUE: gettext_lazy("No milestone has fallen due yet."),
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def explain(progress, plan, departments=()) -> list[str]:
    """Sentences saying how completion, schedule, gap and light of `progress` were computed.

    `departments`: the indicator's department rows with their latest period (selectors.indicator_departments),
    so that a rate says how old the rates in its mean are."""
    ind = progress.indicator
    f = formatting
    lines = []
    share = f.pct(progress.schedule_share * 100 if progress.schedule_share is not None else None)
    if ind.kind in SUMMED_KINDS:
        if ind.direction == Direction.LOWER:
            lines.append(_("A cap (lower is better): completion is the share of the allowance used, %(actual)s ÷ %(target)s = %(completion)s%%.")
                         % {"actual": f.amount(progress.actual), "target": f.amount(progress.target), "completion": f.pct(progress.completion_pct)})
            lines.append(_("The gap is schedule minus used: %(schedule)s − %(completion)s = %(gap)s points.")
                         % {"schedule": f.pct(progress.schedule_pct), "completion": f.pct(progress.completion_pct), "gap": f.pct(progress.gap_pp)})
        else:
            lines.append(_("Completion is the cumulative actual divided by the annual target: %(actual)s ÷ %(target)s = %(completion)s%%.")
                         % {"actual": f.amount(progress.actual), "target": f.amount(progress.target), "completion": f.pct(progress.completion_pct)})
            lines.append(_("The gap is completion minus schedule: %(completion)s − %(schedule)s = %(gap)s points.")
                         % {"completion": f.pct(progress.completion_pct), "schedule": f.pct(progress.schedule_pct), "gap": f.pct(progress.gap_pp)})
        if ind.monthly_targets:
            lines.append(_("The schedule follows the phased monthly targets: %(share)s%% of the year's target is due by %(day)s.")
                         % {"share": share, "day": progress.as_of.isoformat()})
        elif ind.frequency == Frequency.MONTHLY:
            lines.append(_("The schedule (序时进度) is months ended ÷ 12 = %(share)s%%, as of %(day)s.") % {"share": share, "day": progress.as_of.isoformat()})
        else:
            lines.append(_("The schedule (序时进度) is days elapsed ÷ days in the year = %(share)s%%, as of %(day)s.") % {"share": share, "day": progress.as_of.isoformat()})
        if progress.cutoff:
            lines.append(_("Figures are counted up to the period starting %(cutoff)s.") % {"cutoff": progress.cutoff.isoformat()})
    elif ind.kind in RATE_KINDS:
        lines.append(_("A rate: the actual is the mean of the departments' latest year-to-date rates, %(actual)s%%, against the target rate %(target)s%%.")
                     % {"actual": f.amount(progress.actual), "target": f.amount(progress.target)})
        lines.append(_("The gap is %(gap)s percentage points (actual − target, reversed when lower is better); it is never divided by 50%%.")
                     % {"gap": f.pct(progress.gap_pp)})
        reported = [row for row in departments if row.latest_period is not None]
        old = [row for row in reported if row.latest_is_old]
        if old:
            lines.append(_("%(old)s of the %(n)s departments' latest rates are older than the period due (%(due)s) and still count in the mean; the table below shows each one's period.")
                         % {"old": len(old), "n": len(reported), "due": f.period(progress.cutoff, ind.frequency)})
    else:
        lines.append(_("Milestones: completion is the nodes done on time ÷ the nodes due = %(completion)s%%; the gap is completion − 100 = %(gap)s points.")
                     % {"completion": f.pct(progress.completion_pct), "gap": f.pct(progress.gap_pp)})
    if ind.kind == IndicatorKind.MILESTONE:
        lines.append(_("Light: red when a node due is not done; yellow when one was done late or an open one falls due within %(days)s days; green otherwise.")
                     % {"days": plan.deadline_warning_days})
    else:
        threshold = plan.growth_yellow_pp if ind.kind in RATE_KINDS else plan.yellow_gap_pp
        lines.append(_("Light: green when the gap is zero or better, yellow up to %(threshold)s points behind, red beyond.")
                     % {"threshold": f.amount(threshold)})
    if ind.kind in SUMMED_KINDS and ind.direction == Direction.LOWER and progress.target == 0:
        lines.append(_("A zero cap (零事故): met while nothing has happened, broken by the first occurrence."))
    if ind.kind != IndicatorKind.MILESTONE and progress.latest_due:
        lines.append(
            _("Reports of the latest period due (%(period)s): %(reported)s of %(expected)s departments.")
            % {"period": progress.latest_due.isoformat(), "reported": progress.departments_reported, "expected": progress.departments_expected}
        )
        if not progress.data_complete:
            lines.append(_("数据不全 (incomplete): the total lacks the reports still missing, so it may be understated."))
    if progress.light == Light.MISSING:
        lines.append(_("未报 (not reported): behind while reports are missing. It is chased as a missing report, not counted red."))
    if progress.reason:
        lines.append(_("No value: %(reason)s") % {"reason": reason_text(progress.reason)})
    return lines
