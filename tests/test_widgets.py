"""planboard.widgets against the Django widgets they stand in for: the same markup, option for option."""

import re

import pytest
from django import forms

from actions.models import Department
from planboard.widgets import PlainSelect


def tags(html: str) -> str:
    """The markup without the whitespace between tags (Django's templates leave blank lines there)."""
    return re.sub(r">\s+<", "><", str(html)).strip()


CHOICES = [("", "Any"), ("a", 'A & <b>"quoted"</b>'), (1, "One"), ("Group <g>", [("x", "X"), ("y", "Y")])]


@pytest.mark.parametrize("value", [None, "", "a", 1, "y", "missing"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "class": "narrow", "required": True, "disabled": False}])
def test_plain_select_writes_what_select_writes(value, attrs):
    ours = PlainSelect(choices=CHOICES).render("f", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("f", value, attrs=attrs)
    assert tags(ours) == tags(django)
    assert "&lt;b&gt;" in ours and "&quot;quoted&quot;" in ours  # labels escaped, never markup


@pytest.mark.django_db
def test_plain_select_lists_model_choices_as_select_does(demo_plan):
    departments = Department.objects.order_by("name")
    chosen = departments[3]

    def rendered(widget):
        class Filter(forms.Form):
            department = forms.ModelChoiceField(queryset=departments, widget=widget, empty_label="Any", required=False)

        return Filter({"department": chosen.pk})["department"]

    ours, django = str(rendered(PlainSelect)), str(rendered(forms.Select))
    assert tags(ours) == tags(django)
    assert ours.count("<option") == departments.count() + 1
    assert f'<option value="{chosen.pk}" selected>' in ours
