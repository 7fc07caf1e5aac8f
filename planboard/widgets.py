"""Form widgets rendered in Python where Django's widget templates cost a page's time."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: in their order, False left out, True as a bare name."""
    return format_html_join(
        "", " {}{}", ((name, "" if value is True else format_html('="{}"', str(value))) for name, value in attrs.items() if value is not False)
    )


class PlainSelect(forms.Select):
    """A <select> written as Django's templates write it (select.html, select_option.html, attrs.html),
    without a template per option: a filter's unit list (some 60 options) took 2 ms of a dashboard page's
    CPU through them. tests/test_widgets.py compares the two. Its labels are text: a number would print
    unlocalised, where a template localises it."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "", '\n  <option value="{}"{}>{}</option>',
                ((str(option["value"]), _attrs(option["attrs"]), option["label"]) for option in options),
            )
            groups.append(format_html('\n  <optgroup label="{}">{}\n  </optgroup>', group_name, rendered) if group_name else rendered)
        return format_html('<select name="{}"{}>{}\n</select>', widget["name"], _attrs(widget["attrs"]), mark_safe("".join(groups)))
