"""Reading what staff type or upload: numbers, dates and evidence files, with messages in the user's language.

Plain functions that the sheet's save calls per cell, so that the web sheet and the Excel upload (both go
through `metrics.reporting.services.sheet_save`) are checked alike; the forms in forms.py only parse.
"""

import datetime
import re
import statistics
import unicodedata
import warnings
import zipfile
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from planboard.formatting import amount as format_amount
from planboard.formatting import pct as format_pct

# Figure.value is DecimalField(max_digits=16, decimal_places=4).
MAX_INTEGER_DIGITS = 12
MAX_DECIMAL_PLACES = 4

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# Extension → (what it is, its content type). Checked on the content, not trusted from the name: first its
# first bytes (MAGIC), then its structure (_structure_ok).
PDF, PNG, JPEG, OOXML, OLE = "pdf", "png", "jpeg", "ooxml", "ole"
EVIDENCE_TYPES = {
    "pdf": (PDF, "application/pdf"),
    "png": (PNG, "image/png"),
    "jpg": (JPEG, "image/jpeg"),
    "jpeg": (JPEG, "image/jpeg"),
    "docx": (OOXML, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (OOXML, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (OOXML, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": (OLE, "application/msword"),
    "xls": (OLE, "application/vnd.ms-excel"),
    "ppt": (OLE, "application/vnd.ms-powerpoint"),
}
MAGIC = {
    PDF: [b"%PDF-"],
    PNG: [b"\x89PNG\r\n\x1a\n"],
    JPEG: [b"\xff\xd8\xff"],
    OOXML: [b"PK\x03\x04"],
    OLE: [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
}
# The parts an Office file of each kind cannot do without.
OOXML_PARTS = {
    "docx": {"[Content_Types].xml", "_rels/.rels", "word/document.xml"},
    "xlsx": {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"},
    "pptx": {"[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml"},
}
OOXML_MAX_MEMBERS = 5000
OOXML_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
IMAGE_MAX_PIXELS = 50_000_000
# Markup that a browser would run if it ever sniffed the file as HTML (downloads also send nosniff).
MARKUP = re.compile(rb"<\s*(html|script|body|iframe|svg|object|embed|!doctype)", re.IGNORECASE)
PDF_XREF_AT = re.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")


class InputError(ValueError):
    """A value that cannot be accepted; the message is shown next to the field."""


def parse_number(raw: str) -> Decimal:
    """A decimal from what someone typed or pasted: thousands separators and spaces are ignored.

    Full-width characters from a Chinese input method (１２．５) are read as their ASCII forms.
    """
    text = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace("，", "").replace(" ", "").replace("\u00a0", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputError(_("Enter a number, such as 12.5.")) from None
    if not number.is_finite():
        raise InputError(_("Enter an ordinary number: NaN and infinity are not figures."))
    if abs(number) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise InputError(_("The number is too large: use at most %(n)s digits before the decimal point.") % {"n": MAX_INTEGER_DIGITS})
    exponent = number.as_tuple().exponent
    if -exponent > MAX_DECIMAL_PLACES:
        # 12.50000 is fine; 12.50001 is not.
        if number != number.quantize(Decimal(1).scaleb(-MAX_DECIMAL_PLACES)):
            raise InputError(_("Use at most %(n)s digits after the decimal point.") % {"n": MAX_DECIMAL_PLACES})
        number = number.quantize(Decimal(1).scaleb(-MAX_DECIMAL_PLACES))
    return number


def parse_date(raw: str) -> datetime.date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise InputError(_("Enter a date as YYYY-MM-DD.")) from None


def outlier_bounds(history: list[Decimal], *, non_negative: bool = False) -> tuple[Decimal, Decimal] | None:
    """The range a new value is expected in, from the department's own past values, or None if too few.

    Median-based, so that one odd week does not widen the range: median ± 5 × max(1.4826 × MAD, a quarter of
    the median); for an indicator that cannot be negative (amounts, counts) the range starts at 0 at the
    lowest. Values outside it are not refused; they need a confirming note.
    """
    if len(history) < 4:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(v - median) for v in history)
    scale = max(Decimal("1.4826") * mad, abs(median) / 4)
    if scale == 0:
        return None
    low = median - 5 * scale
    return (max(low, Decimal("0")) if non_negative else low), median + 5 * scale


def implausible_against_target(
    *, amount: Decimal, cumulative_before: Decimal, target: Decimal | None, multiple: Decimal
) -> str | None:
    """Why a period amount is implausible against the department's annual target, or None when it is not.

    One period above the whole annual target, or a cumulative that this period takes past `multiple` times
    the target (the plan's plausible_multiple), needs a confirming note, as an outlier does. The history-based
    outlier check cannot see these when the department's past figures are all alike (or all zero), and it
    never compares with the target. Asked once, when the cumulative crosses the line, not on every later period.
    """
    if target is None or target <= 0 or amount <= 0:
        return None
    cumulative = cumulative_before + amount
    values = {
        "value": format_amount(amount),
        "target": format_amount(target),
        "cumulative": format_amount(cumulative),
        "pct": format_pct(float(cumulative / target * 100)),
    }
    if amount > target:
        return _(
            "%(value)s in one period is more than this department's whole annual target, %(target)s "
            "(the cumulative would be %(pct)s %% of it). If it is right, confirm it with a note."
        ) % values
    limit = target * multiple
    if cumulative > limit >= cumulative_before:
        return _(
            "With %(value)s the cumulative reaches %(cumulative)s, %(pct)s %% of this department's annual target of %(target)s. "
            "If it is right, confirm it with a note."
        ) % values
    return None


def check_evidence(upload) -> str:
    """Check an uploaded evidence file by its size and its content; return its content type."""
    if upload.size > EVIDENCE_MAX_BYTES:
        raise InputError(
            _("“%(name)s” is too large: files may be at most %(mb)s MB.") % {"name": upload.name, "mb": EVIDENCE_MAX_BYTES // 2**20}
        )
    if upload.size == 0:
        raise InputError(_("“%(name)s” is empty.") % {"name": upload.name})
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in EVIDENCE_TYPES:
        raise InputError(
            _("“%(name)s” is not an accepted file type. Upload PDF, PNG, JPEG or Office files (Word, Excel, PowerPoint).")
            % {"name": upload.name}
        )
    family, content_type = EVIDENCE_TYPES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    ok = any(head.startswith(magic) for magic in MAGIC[family])
    if ok:
        try:
            ok = _structure_ok(family, extension, upload)
        finally:
            upload.seek(0)
    if not ok:
        raise InputError(
            _("“%(name)s” does not contain what its name says (.%(ext)s): the file was not accepted.")
            % {"name": upload.name, "ext": extension}
        )
    return content_type


def _structure_ok(family: str, extension: str, upload) -> bool:
    """Whether the file is built as its kind is, beyond its first bytes (OLE files are checked by those only)."""
    if family == PDF:
        return _pdf_ok(upload.read())
    if family == OOXML:
        return _ooxml_ok(upload, OOXML_PARTS[extension])
    if family in (PNG, JPEG):
        return _image_ok(upload, family)
    return True


def _pdf_ok(content: bytes) -> bool:
    """A PDF ends with %%EOF after a startxref whose offset points at a cross-reference table or stream."""
    tail = content[-2048:]
    if b"%%EOF" not in tail or MARKUP.search(content[:4096]):
        return False
    found = re.findall(rb"startxref\s+(\d+)", tail)
    if not found:
        return False
    offset = int(found[-1])
    return 0 < offset < len(content) and PDF_XREF_AT.match(content, offset) is not None


def _ooxml_ok(upload, required: set[str]) -> bool:
    """An Office file is a zip with the parts its kind needs and nothing that unpacks beyond reason."""
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return False
    names = {member.filename for member in members}
    return (
        required <= names
        and len(members) <= OOXML_MAX_MEMBERS
        and sum(member.file_size for member in members) <= OOXML_MAX_UNPACKED_BYTES
    )


def _image_ok(upload, family: str) -> bool:
    """An image decodes whole as the format its name says, has no markup in it, and (PNG) nothing after its end."""
    content = upload.read()
    upload.seek(0)
    if MARKUP.search(content) or (family == PNG and not content.endswith(b"IEND\xaeB`\x82")):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format != family.upper() or image.width * image.height > IMAGE_MAX_PIXELS:
                    return False
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return False
    return True
