"""Forms of the supervision loop: 催办; replies, verification and hand steps on orders; 约谈."""

from django import forms
from django.utils.translation import gettext_lazy as _

from actions.models import Department, Indicator, Milestone
from metrics import permissions
from metrics.choices import OrderLevel, OrderSubject, ReminderKind
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


class OrderReplyForm(forms.Form):
    """The unit's reply to an order."""

    measures = forms.CharField(label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    expected_date = forms.DateField(label=_("Shortfall made up by"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label=_("Evidence (PDF, image or Office file)"), required=False)


class ReplyVerifyForm(forms.Form):
    """The office's verification of a reply: accept, or send back with a comment."""

    reply = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("return", _("Send back"))], widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class OrderCloseForm(forms.Form):
    reason = forms.CharField(label=_("Why it is closed by hand"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class OrderIssueForm(forms.Form):
    """The office issues an order by hand: about an indicator, a milestone or a unit's missing reports."""

    subject_kind = forms.ChoiceField(label=_("About"), choices=OrderSubject.choices)
    indicator = forms.ModelChoiceField(label=_("Indicator"), queryset=Indicator.objects.none(), required=False)
    milestone = forms.ModelChoiceField(label=_("Milestone"), queryset=Milestone.objects.none(), required=False)
    department = forms.ModelChoiceField(label=_("Unit (for missing reports)"), queryset=Department.objects.order_by("code"), required=False)
    level = forms.ChoiceField(label=_("Level"), choices=OrderLevel.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = Indicator.objects.filter(task__action__plan=plan).order_by("code")
        self.fields["milestone"].queryset = Milestone.objects.filter(task__action__plan=plan).order_by("planned_date", "pk")

    def clean(self):
        data = super().clean()
        kind = data.get("subject_kind")
        field = {OrderSubject.INDICATOR: "indicator", OrderSubject.MILESTONE: "milestone", OrderSubject.MISSING_REPORT: "department"}.get(kind)
        if field and not data.get(field):
            self.add_error(field, _("Choose what the order is about."))
        data["subject"] = data.get(field) if field else None
        return data


class InterviewScheduleForm(forms.Form):
    scheduled_for = forms.DateTimeField(label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    place = forms.CharField(label=_("Place"), max_length=200)
    unit_head = forms.CharField(label=_("Unit head interviewed"), max_length=100)


class InterviewCloseForm(forms.Form):
    commitment = forms.CharField(label=_("Rectification commitment (整改承诺)"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
