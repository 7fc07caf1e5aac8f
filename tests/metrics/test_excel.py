import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from metrics.models import Figure
from tests.metrics.reporting import LAST_WEEK, TODAY, WEEK, indicators, sheet_post, sheet_url

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def pinned_today(settings):
    settings.PLANBOARD_TODAY = TODAY


def download(client, department, period=WEEK):
    response = client.get(reverse("metrics:xlsx_download") + f"?department={department.code}&frequency=weekly&period={period}")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    return load_workbook(io.BytesIO(response.content))


def upload(client, department, book, period=WEEK, name="sheet.xlsx"):
    out = io.BytesIO()
    book.save(out)
    data = {"department": department.code, "frequency": "weekly", "period": period.isoformat(),
            "workbook": SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)}
    return client.post(reverse("metrics:xlsx_upload"), data)


def confirm_data(html):
    """The hidden fields of the preview's confirm form, as a dict."""
    form = html.split('id="confirm-form"')[1].split("</form>")[0]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


@pytest.mark.django_db
class ExcelRoundTripTests:
    def test_the_template_lists_every_indicator_with_its_current_value(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "7.5"}))
        book = download(client, cast.dept_a)
        data = book.worksheets[0]
        assert [c.value for c in data[1]][3] == "指标"
        rows = list(data.iter_rows(min_row=2, values_only=True))
        assert len(rows) == 8
        assert rows[0][0] == ind.pk and rows[0][6] == 7.5 and rows[0][9] == 1
        assert book["meta"].sheet_state == "hidden"

    def test_an_upload_is_previewed_and_saved_only_when_confirmed(self, client, cast):
        inds = indicators(cast.plan)
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a)
        data = book.worksheets[0]
        data["G2"] = 12
        data["G3"] = "1,500.25"
        data["I3"] = "年度结转一次入账"  # above the department's whole annual target: confirmed with a note
        data["H4"] = "是"
        data["I4"] = "本周无此业务"
        response = upload(client, cast.dept_a, book)
        assert response.status_code == 200
        html = response.content.decode()
        assert "预览修改" in html and "确认后才会保存" in html
        assert html.count("<tr><td>") == 3
        assert Figure.objects.count() == 0  # nothing saved by the preview
        response = client.post(sheet_url(cast.dept_a), {**confirm_data(html), "action": "save"})
        assert response.status_code == 302
        saved = {f.indicator_id: f for f in Figure.objects.all()}
        assert saved[inds[0].pk].value == 12 and saved[inds[1].pk].value == 1500.25
        assert saved[inds[2].pk].state == "not_applicable" and saved[inds[2].pk].note == "本周无此业务"

    def test_an_upload_goes_through_the_same_checks_as_the_sheet(self, client, cast):
        inds = indicators(cast.plan)
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a)
        book.worksheets[0]["G2"] = "很多"
        book.worksheets[0]["G3"] = -4
        response = upload(client, cast.dept_a, book)
        assert response.status_code == 400
        html = response.content.decode()
        assert f'id="err-{inds[0].pk}" role="alert">请输入数字，例如 12.5。' in html
        assert f'id="err-{inds[1].pk}" role="alert">该指标不能为负数。' in html
        assert Figure.objects.count() == 0

    def test_a_figure_changed_since_the_download_is_a_conflict(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "3"}))
        book.worksheets[0]["G2"] = 4
        response = upload(client, cast.dept_a, book)
        assert response.status_code == 400 and "当前已保存：3" in response.content.decode()
        assert Figure.objects.get().value == 3

    def test_it_refuses_a_workbook_of_another_sheet_or_no_workbook(self, client, cast):
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a, period=LAST_WEEK)
        response = upload(client, cast.dept_a, book)
        assert "该工作簿属于另一张填报表（dept-a，2022-05-09）" in client.get(response.url).content.decode()
        response = client.post(reverse("metrics:xlsx_upload"), {
            "department": cast.dept_a.code, "frequency": "weekly", "period": WEEK.isoformat(),
            "workbook": SimpleUploadedFile("fake.xlsx", b"%PDF-1.4 not a workbook"),
        })
        assert "这不是 .xlsx 工作簿" in client.get(response.url).content.decode()
        assert Figure.objects.count() == 0


def bomb(xlsx: bytes, member: str, size: int) -> bytes:
    """The workbook with one more part of `size` bytes that compresses to almost nothing."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(member, b"<sst>" + b"A" * size + b"</sst>")
    return out.getvalue()


@pytest.mark.django_db
class WorkbookSizeTests:
    """A small upload that unpacks to a huge workbook is refused before openpyxl reads it."""

    def post(self, client, cast, content):
        return client.post(reverse("metrics:xlsx_upload"), {
            "department": cast.dept_a.code, "frequency": "weekly", "period": WEEK.isoformat(),
            "workbook": SimpleUploadedFile("sheet.xlsx", content, content_type=XLSX),
        })

    def test_it_refuses_a_workbook_that_unpacks_far_beyond_a_template(self, client, cast, monkeypatch):
        client.force_login(cast.staff_a)
        template = client.get(reverse("metrics:xlsx_download") + f"?department={cast.dept_a.code}&frequency=weekly&period={WEEK}").content
        content = bomb(template, "xl/sharedStrings2.xml", 51 * 2**20)
        assert len(content) < 200 * 1024
        monkeypatch.setattr("metrics.reporting.excel.load_workbook", lambda *a, **k: pytest.fail("openpyxl opened the bomb"))
        response = self.post(client, cast, content)
        assert "工作簿远大于填报模板" in client.get(response.url).content.decode()
        assert Figure.objects.count() == 0

    def test_it_refuses_a_workbook_with_too_many_rows(self, client, cast):
        client.force_login(cast.staff_a)
        book = download(client, cast.dept_a)
        for n in range(6000):
            book.worksheets[0].append([None, "x"])
        out = io.BytesIO()
        book.save(out)
        response = self.post(client, cast, out.getvalue())
        assert "工作簿远大于填报模板（最多 5000 行、30 列，解压后最多 20 MB）" in client.get(response.url).content.decode()
        assert Figure.objects.count() == 0
