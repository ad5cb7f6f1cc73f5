"""Attachments and Excel imports are judged by their bytes, not their names.

Issue 12: "an .exe renamed .pdf is accepted". Now a renamed program is refused with a Chinese
reason on every road a file comes in (staff registration, the portal, the backlog's evidence),
real PDF/JPEG/PNG/DOCX/XLSX files still go through, and an .xlsx that would unpack like an archive
bomb is refused by the ledger import (and the screening import) from the zip's directory,
before any reader inflates a part.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests.factories import bj, register
from xinfang.cases.models import Case
from xinfang.cases.validators import clean_upload
from xinfang.ledger import reading
from xinfang.ledger.importing import import_ledger
from xinfang.lib import uploads

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
# a 1x1 baseline JPEG (JFIF)
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def docx() -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph("息诉罢访承诺书")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    wb = Workbook()
    wb.active.append(["标题", "内容"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bomb_xlsx(member_mb: int = 64) -> bytes:
    """A well-formed .xlsx whose worksheet inflates about 1,000 times (64 MB of blanks in ~64 KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1 << 20)
            for _ in range(member_mb):
                sheet.write(block)
    return out.getvalue()


def _problem(name: str, data: bytes) -> str | None:
    try:
        clean_upload(name, len(data), SimpleUploadedFile(name, data))
    except ValidationError as exc:
        return exc.messages[0]
    return None


# ------------------------------------------------------------------ the check itself


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("证据.pdf", PDF),
        ("照片.jpg", JPEG),
        ("照片.JPEG", JPEG),
        ("截图.png", png()),
        ("承诺书.docx", docx()),
        ("明细.xlsx", xlsx()),
        ("说明.txt", "举报材料：某单位拖欠工资。".encode()),
        ("说明-gbk.txt", "举报材料：某单位拖欠工资。".encode("gb18030")),
    ],
)
def test_real_files_of_each_allowed_type_are_accepted(name, data):
    assert _problem(name, data) is None


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("证据.pdf", EXE, "与扩展名 .pdf 不符"),
        ("照片.jpg", EXE, "与扩展名 .jpg 不符"),
        ("照片.png", JPEG, "与扩展名 .png 不符"),
        ("说明.txt", EXE, "不是纯文本"),
        ("承诺书.docx", EXE, "不是 .docx"),
        ("承诺书.docx", xlsx(), "不是 .docx"),  # a zip, but a workbook
        ("老文档.doc", PDF, "不是 .doc"),
        ("明细.xlsx", bomb_xlsx(), "压缩炸弹"),
        ("空.pdf", b"", "为空"),
    ],
)
def test_a_file_whose_bytes_are_not_its_type_is_refused_in_chinese(name, data, fragment):
    problem = _problem(name, data)
    assert problem is not None and fragment in problem and name in problem, problem


def test_a_configured_type_without_a_known_signature_is_refused_not_trusted(settings):
    settings.XINFANG_ATTACHMENT_TYPES = ["pdf", "abc"]
    assert "无法识别 .abc" in _problem("x.abc", b"anything")


def test_zip_limits_count_members_and_total_size():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(5):
            z.writestr(f"m{i}.xml", "x" * 100)
    many = uploads.ZipLimits(members=4)
    assert "部件过多" in uploads.zip_problem(out, many)
    assert "解压后过大" in uploads.zip_problem(out, uploads.ZipLimits(total=400))
    assert uploads.zip_problem(out, uploads.ZipLimits()) is None
    assert uploads.zip_problem(io.BytesIO(b"not a zip")) is None  # the reader explains


# ------------------------------------------------------------------ on every road in


def test_staff_registration_refuses_an_exe_renamed_pdf(county, people):
    with pytest.raises(ValidationError) as exc:
        register(
            county,
            people.clerk,
            bj(2026, 3, 2, 9),
            attachments=[SimpleUploadedFile("证据.pdf", EXE, content_type="application/pdf")],
        )
    assert "与扩展名 .pdf 不符" in exc.value.message_dict["attachments"][0]
    assert not Case.objects.exists()
    case = register(
        county,
        people.clerk,
        bj(2026, 3, 2, 9),
        attachments=[SimpleUploadedFile("证据.pdf", PDF), SimpleUploadedFile("照片.jpg", JPEG)],
    )
    stored = {a.name: a.file.read() for a in case.attachments.all()}
    assert stored == {"证据.pdf": PDF, "照片.jpg": JPEG}  # the check left the files whole


def test_the_portal_refuses_an_exe_renamed_pdf(client, county):
    from tests.portal.test_portal import form_data

    response = client.post(
        "/portal/submit/",
        {**form_data(county), "attachments": [SimpleUploadedFile("证据.pdf", EXE)]},
    )
    assert response.status_code == 200
    assert "与扩展名 .pdf 不符" in response.content.decode()
    assert not Case.objects.exists()


# ------------------------------------------------------------------ archive bombs in imports


def test_the_ledger_import_refuses_a_zip_bomb_without_inflating_it(county, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a reader opened the bomb")

    data = bomb_xlsx()
    monkeypatch.setattr(reading, "CalamineWorkbook", type("C", (), {"from_filelike": never}))
    monkeypatch.setattr(reading, "ExcelReader", never)
    monkeypatch.setattr(zipfile.ZipFile, "open", never)  # no member is inflated at all
    result = import_ledger(io.BytesIO(data), office=county.office)
    assert not result.ok
    message = result.errors[0].message
    assert "压缩炸弹" in message and "未被读取" in message
    assert not Case.objects.exists()


def test_the_screening_import_refuses_a_zip_bomb(county, people, monkeypatch):
    from xinfang.backlog import screening

    round_ = screening.round_create(
        by=people.clerk,
        name="排查",
        period_start=dt.date(2027, 1, 4),
        period_end=dt.date(2027, 1, 29),
    )
    monkeypatch.setattr(screening, "load_workbook", lambda *a, **k: pytest.fail("read the bomb"))
    with pytest.raises(screening.ImportFailed) as exc:
        screening.import_entries(round_=round_, by=people.clerk, source=io.BytesIO(bomb_xlsx()))
    assert "压缩炸弹" in exc.value.messages[0]
