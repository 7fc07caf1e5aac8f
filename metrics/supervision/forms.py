"""Forms of the supervision office: the 催办 button's POST."""

from django import forms

from actions.models import Department
from metrics import permissions
from metrics.choices import ReminderKind
from planboard.periods import Frequency, period_start


class RemindForm(forms.Form):
    """A 催办: the department, what it is about, and the as-of week the office was looking at."""

    department = forms.ModelChoiceField(queryset=Department.objects.all())
    kind = forms.ChoiceField(choices=ReminderKind.choices)
    subject = forms.CharField(max_length=300)
    week = forms.DateField(input_formats=["%Y-%m-%d"])
    note = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_week(self):
        week = self.cleaned_data["week"]
        if outside := permissions.outside_plan(plan=self.plan, frequency=Frequency.WEEKLY, day=week):
            raise forms.ValidationError(outside)
        return period_start(week, Frequency.WEEKLY)
