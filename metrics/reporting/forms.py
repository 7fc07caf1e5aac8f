"""Forms of reporting: what the sheet, the review and the reopen request post, parsed into typed input.

A sheet's inputs are named by the id of what they are about (`v-12`, `na-12`, `note-12`, `ver-12` for
indicator 12, and `shown-v-12`, `shown-na-12`, `shown-note-12` for what the form showed in them (likewise
`shown-progress-3`, `shown-problems-3`, `shown-next-3` and `shown-ms-7`); `progress-3`, `problems-3`, `next-3`, `nver-3` for task 3; `ms-7` for milestone 7; `file-3`
for evidence of task 3). Which ids a department may post is metrics.reporting.services' decision.
"""

import datetime
import re
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from planboard.periods import Frequency

CELL_KEY = re.compile(r"^(v|na|note|ver)-(\d+)$")
SHOWN_KEY = re.compile(r"^shown-(v|na|note)-(\d+)$")
SHOWN_NOTE_KEY = re.compile(r"^shown-(progress|problems|next)-(\d+)$")
SHOWN_MILESTONE_KEY = re.compile(r"^shown-ms-(\d+)$")
NOTE_KEY = re.compile(r"^(progress|problems|next|nver)-(\d+)$")
MILESTONE_KEY = re.compile(r"^ms-(\d+)$")
FILE_KEY = re.compile(r"^file-(\d+)$")
TRUE = {"1", "on", "true", "yes"}
# Longest texts accepted, by the forms and again by the services (which other callers reach directly).
NOTE_MAX_LENGTH = 500  # a figure's note
PROGRESS_MAX_LENGTH = 2000  # each of a task's progress, problems and next steps
REASON_MAX_LENGTH = 500  # a reopen request's reason
COMMENT_MAX_LENGTH = 2000  # a review comment
DECISION_NOTE_MAX_LENGTH = 1000  # the note of a reopen decision


@dataclass
class CellInput:
    """What the sheet (or the Excel upload) says for one indicator. version: the figure's version seen, 0 if none.

    shown_*: what the form showed in the cell when it was loaded (None when the source does not say, as an
    Excel upload): a cell posted as it was shown is one its author did not touch.
    """

    raw: str = ""
    not_applicable: bool = False
    note: str = ""
    version: int = 0
    shown_raw: str | None = None
    shown_not_applicable: bool = False
    shown_note: str = ""

    @property
    def untouched(self) -> bool:
        shown = (self.shown_raw, self.shown_not_applicable, self.shown_note)
        return self.shown_raw is not None and (self.raw, self.not_applicable, self.note) == shown


def _text(value: str) -> str:
    # Browsers post a textarea's line breaks as CRLF; compare texts as the service stores them.
    return value.replace("\r\n", "\n").strip()


@dataclass
class NoteInput:
    """A task's progress note as posted; shown_*: what the form showed (None: not said), as for CellInput."""

    progress: str = ""
    problems: str = ""
    next_steps: str = ""
    version: int = 0
    shown_progress: str | None = None
    shown_problems: str = ""
    shown_next_steps: str = ""

    @property
    def untouched(self) -> bool:
        posted = (self.progress, self.problems, self.next_steps)
        shown = (self.shown_progress or "", self.shown_problems, self.shown_next_steps)
        return self.shown_progress is not None and tuple(map(_text, posted)) == tuple(map(_text, shown))


@dataclass
class SheetInput:
    """Everything one sheet POST says, by id."""

    cells: dict[int, CellInput] = field(default_factory=dict)
    notes: dict[int, NoteInput] = field(default_factory=dict)
    milestones: dict[int, str] = field(default_factory=dict)
    milestones_shown: dict[int, str] = field(default_factory=dict)
    files: dict[int, list] = field(default_factory=dict)
    submit: bool = False


def _version(value: str) -> int:
    return int(value) if value.isdigit() else -1


class SheetTargetForm(forms.Form):
    """Which sheet a request is about: department code, frequency and any day of the period (all optional)."""

    department = forms.CharField(required=False, max_length=20)
    frequency = forms.ChoiceField(required=False, choices=Frequency.choices)
    period = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def target(self) -> tuple[str, str, datetime.date | None] | None:
        """(department code, frequency, day) when valid, else None."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return data["department"], data["frequency"] or Frequency.WEEKLY, data["period"]


class SheetForm(forms.Form):
    """The sheet POST: save or submit, and the inputs named by id."""

    action = forms.ChoiceField(required=False, choices=[("save", _("Save")), ("submit", _("Save and submit"))])

    def clean(self):
        cleaned = super().clean()
        sheet = SheetInput(submit=cleaned.get("action") == "submit")
        for key in self.data:
            value = self.data.get(key, "")
            if match := CELL_KEY.match(key):
                kind, cell = match.group(1), sheet.cells.setdefault(int(match.group(2)), CellInput())
                if kind == "v":
                    cell.raw = value
                elif kind == "na":
                    cell.not_applicable = value in TRUE
                elif kind == "note":
                    cell.note = value
                else:
                    cell.version = _version(value)
            elif match := SHOWN_KEY.match(key):
                kind, cell = match.group(1), sheet.cells.setdefault(int(match.group(2)), CellInput())
                if kind == "v":
                    cell.shown_raw = value
                elif kind == "na":
                    cell.shown_not_applicable = value in TRUE
                else:
                    cell.shown_note = value
            elif match := SHOWN_NOTE_KEY.match(key):
                kind, note = match.group(1), sheet.notes.setdefault(int(match.group(2)), NoteInput())
                if kind == "progress":
                    note.shown_progress = value
                elif kind == "problems":
                    note.shown_problems = value
                else:
                    note.shown_next_steps = value
            elif match := SHOWN_MILESTONE_KEY.match(key):
                sheet.milestones_shown[int(match.group(1))] = value
            elif match := NOTE_KEY.match(key):
                kind, note = match.group(1), sheet.notes.setdefault(int(match.group(2)), NoteInput())
                if kind == "progress":
                    note.progress = value
                elif kind == "problems":
                    note.problems = value
                elif kind == "next":
                    note.next_steps = value
                else:
                    note.version = _version(value)
            elif match := MILESTONE_KEY.match(key):
                sheet.milestones[int(match.group(1))] = value
        for key in self.files:
            if match := FILE_KEY.match(key):
                sheet.files[int(match.group(1))] = self.files.getlist(key)
        cleaned["sheet"] = sheet
        return cleaned


class ReviewForm(forms.Form):
    """The supervision office approves a submitted sheet or returns it with a comment."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("return", _("Return to the department"))])
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH)


class ReopenRequestForm(forms.Form):
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH)


class ReopenDecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("grant", _("Grant")), ("refuse", _("Refuse"))])
    note = forms.CharField(required=False, max_length=DECISION_NOTE_MAX_LENGTH)
