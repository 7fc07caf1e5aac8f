"""Forms of 销号 and 延期: they parse the POST; metrics.closeoff.services decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from metrics.closeoff.selectors import task_evidence
from metrics.closeoff.services import NOTE_MAX_LENGTH, REASON_MAX_LENGTH


class CloseoffRequestForm(forms.Form):
    """Staff propose a task closed off: a note, evidence files of the task, and/or a new file."""

    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.ModelMultipleChoiceField(
        label=_("Evidence files of the task"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    file = forms.FileField(label=_("Or upload a file"), required=False)

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = task_evidence(task)
        self.fields["evidence"].label_from_instance = lambda item: f"{item.original_name}（{item.uploaded_at:%Y-%m-%d}）"


class ExtensionRequestForm(forms.Form):
    """Staff ask to extend a task's deadline: the reason and the new date."""

    new_deadline = forms.DateField(
        label=_("New deadline"), input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2022-11-30.")},
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class CloseoffDecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept: close off (销号)")), ("return", _("Send back"))])
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)


class ExtensionDecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("grant", _("Grant")), ("refuse", _("Refuse"))])
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH)
