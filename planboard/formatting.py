"""How numbers are printed: the one place, so that pages, exports, charts and progress_report agree.

Templates print through the filters of planboard.templatetags.planboard_format, which call these.
"""

from decimal import Decimal

DASH = "—"


def pct(value: float | None) -> str:
    """A percentage or percentage-point figure with one decimal, or a dash."""
    if value is None:
        return DASH
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text  # a value that rounds to zero has no sign


def amount(value) -> str:
    """An amount as entered (up to four decimals, no trailing zeros), or a dash."""
    if value is None:
        return DASH
    text = f"{Decimal(str(value)).quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pace(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def chart_pct(value: float | None) -> float | None:
    """A chart value rounded as pages print it (`pct`), or None (null in the chart)."""
    return None if value is None else float(pct(value))


def chart_amount(value) -> float | None:
    """An amount for a chart, rounded as pages print it (`amount`), or None."""
    return None if value is None else float(amount(value))
