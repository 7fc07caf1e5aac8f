"""Template filters that print numbers through planboard.formatting, so pages agree with exports and progress_report."""

from django import template

from planboard import formatting

register = template.Library()


@register.filter
def pct(value):
    return formatting.pct(value)


@register.filter
def amount(value):
    return formatting.amount(value)


@register.filter
def pace(value):
    return formatting.pace(value)


@register.filter
def signed_pct(value):
    """A gap in points with its sign (+2.0 / -3.5), or a dash."""
    return formatting.signed_pct(value)


@register.filter
def progress_text(row, measure):
    """A stored progress row in words, read for its indicator's measure: `{{ row|progress_text:indicator.measure }}`."""
    return formatting.progress(measure, row)
