"""The sheet as an .xlsx template to fill offline, and reading it back into the same inputs as the web sheet."""

import io
import zipfile

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from metrics.reporting.forms import CellInput
from planboard.exports import from_spreadsheet, to_spreadsheet

MAX_WORKBOOK_BYTES = 5 * 1024 * 1024
# A template of the largest sheet unpacks to well under 1 MB; a zip bomb of 137 KB unpacks to 51 MB of shared
# strings, all of which openpyxl would hold in memory. Checked on the zip's directory before openpyxl opens it
# (zipfile never inflates a member past the size its directory declares).
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 100
MAX_ROWS = 5000
MAX_COLUMNS = 30
META_SHEET = "meta"
YES = {"是", "y", "yes", "1", "x", "✓", "√", "true", "不适用", "n/a"}
# Columns of the data sheet (1-based): the hidden id and version make the upload unambiguous and conflict-checked.
COL_ID, COL_ACTION, COL_TASK, COL_NAME, COL_UNIT, COL_MODE, COL_VALUE, COL_NA, COL_NOTE, COL_VERSION = range(1, 11)


class WorkbookError(ValueError):
    """The upload is not a workbook made from this sheet."""


def sheet_workbook(*, plan, department, frequency, start, rows) -> bytes:
    book = Workbook()
    data = book.active
    data.title = _("Sheet")
    headers = [
        "ID", _("Action"), _("Task"), _("Indicator"), _("Unit"), _("Staff enter"), _("Value"),
        _("Not applicable (是)"), _("Note"), _("Version"),
    ]
    data.append([to_spreadsheet(str(header)) for header in headers])
    for cell in data[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF4CC")
    for row in rows:
        indicator = row.indicator
        mode = _("Cumulative to date") if row.cumulative_entry else (
            _("Amount of the period") if indicator.is_summed else _("Year-to-date rate (%)")
        )
        value = row.input_value
        texts = [str(indicator.task.action), indicator.task.title, indicator.name, indicator.unit, str(mode)]
        data.append([
            indicator.pk, *map(to_spreadsheet, texts),
            float(value) if value else None, "是" if row.not_applicable else None, to_spreadsheet(row.note) or None, row.version,
        ])
        for column in (COL_VALUE, COL_NA, COL_NOTE):
            data.cell(row=data.max_row, column=column).fill = fill
            data.cell(row=data.max_row, column=column).protection = Protection(locked=False)
    yes_no = DataValidation(type="list", formula1='"是"', allow_blank=True)
    data.add_data_validation(yes_no)
    yes_no.add(f"H2:H{max(data.max_row, 2)}")
    data.column_dimensions["A"].hidden = True
    data.column_dimensions["J"].hidden = True
    for letter, width in zip("BCDEFGHI", (14, 30, 30, 8, 14, 14, 12, 30)):
        data.column_dimensions[letter].width = width
    data.freeze_panes = "G2"
    meta = book.create_sheet(META_SHEET)
    meta.append(["department", department.code])
    meta.append(["frequency", frequency])
    meta.append(["period", start.isoformat()])
    meta.append(["plan", plan.year])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_workbook(upload, *, department, frequency, start) -> dict[int, CellInput]:
    """The cells of an uploaded template, checked to be a workbook made for this very sheet."""
    if upload is None:
        raise WorkbookError(_("Choose the filled .xlsx file to upload."))
    if upload.size > MAX_WORKBOOK_BYTES:
        raise WorkbookError(_("The workbook is too large (at most 5 MB)."))
    head = upload.read(4)
    upload.seek(0)
    if head != b"PK\x03\x04":
        raise WorkbookError(_("This is not an .xlsx workbook: download the template from this page and fill it in."))
    _check_zip(upload)
    try:
        book = load_workbook(upload, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise WorkbookError(_("This is not an .xlsx workbook: download the template from this page and fill it in.")) from None
    try:
        if META_SHEET not in book.sheetnames:
            raise WorkbookError(_("This workbook was not made from a planboard sheet: download the template from this page."))
        meta = {
            str(row[0]): str(row[1]) for row in book[META_SHEET].iter_rows(max_row=10, max_col=2, values_only=True) if row and row[0]
        }
        if (meta.get("department"), meta.get("frequency"), meta.get("period")) != (department.code, frequency, start.isoformat()):
            raise WorkbookError(
                _("This workbook is for another sheet (%(department)s, %(period)s): open that sheet to upload it.")
                % {"department": meta.get("department"), "period": meta.get("period")}
            )
        cells: dict[int, CellInput] = {}
        data = book[book.sheetnames[0]]
        if (data.max_row or 0) > MAX_ROWS or (data.max_column or 0) > MAX_COLUMNS:
            raise WorkbookError(_too_big())
        for number, row in enumerate(data.iter_rows(min_row=2, max_col=COL_VERSION, values_only=True), start=2):
            if number > MAX_ROWS:
                raise WorkbookError(_too_big())
            if not row or row[COL_ID - 1] in (None, ""):
                continue
            try:
                indicator_id = int(row[COL_ID - 1])
                version = int(row[COL_VERSION - 1] or 0)
            except (TypeError, ValueError):
                raise WorkbookError(_("The hidden columns of the workbook were changed: download a fresh template.")) from None
            value = row[COL_VALUE - 1]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            na = str(row[COL_NA - 1] or "").strip().lower() in YES
            cells[indicator_id] = CellInput(
                raw="" if value is None else str(value), not_applicable=na, note=from_spreadsheet(str(row[COL_NOTE - 1] or "")), version=version
            )
        return cells
    finally:
        book.close()



def _too_big() -> str:
    return _(
        "The workbook is far larger than a sheet's template (at most %(rows)s rows, %(columns)s columns and %(mb)s MB unpacked): "
        "download the template from this page and fill it in."
    ) % {"rows": MAX_ROWS, "columns": MAX_COLUMNS, "mb": MAX_UNPACKED_BYTES // 2**20}


def _check_zip(upload) -> None:
    """Refuse a workbook whose parts would unpack to more than a template ever does, before anything is inflated."""
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise WorkbookError(_("This is not an .xlsx workbook: download the template from this page and fill it in.")) from None
    finally:
        upload.seek(0)
    if len(members) > MAX_MEMBERS or sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise WorkbookError(_too_big())
