"""How computed numbers are shown: one place, so that pages, exports and progress_report agree."""

from decimal import Decimal

DASH = "—"


def pct(value: float | None) -> str:
    """A percentage or percentage-point figure with one decimal, or a dash."""
    return DASH if value is None else f"{value:.1f}"


def amount(value) -> str:
    """An amount as entered (up to four decimals, no trailing zeros), or a dash."""
    if value is None:
        return DASH
    text = f"{Decimal(str(value)).quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pace(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"
