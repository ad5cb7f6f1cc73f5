"""`xinfang backup` / `xinfang restore`: back up a real database with matters, their timelines and
attachment files; wipe it; restore; find every matter, event and attachment byte-identical.

Runs on whichever database the suite runs on (SQLite; PostgreSQL in `make test`'s second pass,
through pg_dump/pg_restore).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import bj, make_county, make_personas, register
from xinfang.cases import services
from xinfang.cases.models import Attachment, Case, CaseEvent, Outcome

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40  # every byte value, a few pages long
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 3000


def _clear_search_index() -> None:
    """The search index is a raw table (cases_search) that Django's flush leaves alone."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM cases_search")
        else:  # SQLite's contentless FTS5 index empties itself this way
            cursor.execute("INSERT INTO cases_fts (cases_fts) VALUES ('delete-all')")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    _clear_search_index()
    yield settings.MEDIA_ROOT
    _clear_search_index()  # the rows restored here must not outlive this test's matters


def _world():
    county = make_county()
    make_personas(county)
    t = bj(2026, 9, 1, 9)
    first = register(
        county,
        None,
        t,
        attachments=[
            SimpleUploadedFile("证据.pdf", PDF, content_type="application/pdf"),
            SimpleUploadedFile("现场.png", PNG, content_type="image/png"),
        ],
    )
    t += dt.timedelta(days=1)
    first = services.case_route(case=first, by=None, unit=county.hr, at=t)
    first = services.case_accept(case=first, by=None, at=t + dt.timedelta(days=1))
    services.case_reply(
        case=first, by=None, outcome=Outcome.SUPPORTED, text="已督促发放", at=t + dt.timedelta(2)
    )
    register(county, None, t, title="小区噪音扰民", content="夜间施工噪音")
    register(
        county,
        None,
        t,
        title="学校收费",
        attachments=[SimpleUploadedFile("收据.pdf", b"%PDF-1.4 receipt")],
    )


def _snapshot() -> dict:
    matters = sorted(
        Case.objects.values_list(
            "number", "title", "content", "petitioner_name", "petitioner_phone", "state", "due_at"
        )
    )
    events = sorted(
        (e.case.number, e.kind, e.at.isoformat(), repr(sorted(e.details.items())))
        for e in CaseEvent.objects.select_related("case")
    )
    files = {}
    for a in Attachment.objects.select_related("case"):
        with a.file.open("rb") as f:
            files[(a.case.number, a.name)] = f.read()
    return {"matters": matters, "events": events, "files": files}


def _wipe(media: Path) -> None:
    call_command("flush", interactive=False, verbosity=0)
    _clear_search_index()
    shutil.rmtree(media)
    assert not Case.objects.exists()


def test_backup_wipe_restore_finds_everything_byte_identical(media, tmp_path, capsys):
    _world()
    before = _snapshot()
    assert len(before["matters"]) == 3 and len(before["files"]) == 3
    assert len(before["events"]) >= 6
    archive = tmp_path / "backups" / "xf.tar.gz"

    call_command("backup", str(archive))
    assert "3 件事项" in capsys.readouterr().out
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: the owner only

    _wipe(media)
    call_command("restore", str(archive))
    assert "已恢复：3 件事项" in capsys.readouterr().out
    after = _snapshot()
    assert after == before
    assert before["files"][(after["matters"][0][0], "证据.pdf")] == PDF


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(media, tmp_path):
    _world()
    archive = tmp_path / "xf.tar.gz"
    call_command("backup", str(archive))
    Case.objects.filter(title="学校收费").delete()
    with pytest.raises(CommandError, match=r"当前数据库不是空的.*--force"):
        call_command("restore", str(archive))
    assert Case.objects.count() == 2  # untouched
    call_command("restore", str(archive), force=True)
    assert Case.objects.count() == 3


@pytest.mark.parametrize("damage", ["flip", "truncate", "not_gzip"])
def test_a_damaged_archive_is_refused_before_anything_is_touched(media, tmp_path, damage):
    _world()
    archive = tmp_path / "xf.tar.gz"
    call_command("backup", str(archive))
    data = bytearray(archive.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) * 2 // 3]
    else:
        data = bytearray(b"PK\x03\x04 this is a zip, not a backup")
    archive.write_bytes(bytes(data))
    _wipe(media)
    with pytest.raises(CommandError, match="备份文件已损坏"):
        call_command("restore", str(archive))
    with pytest.raises(CommandError, match="备份文件已损坏"):
        call_command("restore", str(archive), check=True)
    assert not Case.objects.exists()
    assert not media.exists()


def test_a_missing_archive_is_a_clear_message(media, tmp_path):
    with pytest.raises(CommandError, match="找不到备份文件"):
        call_command("restore", str(tmp_path / "nope.tar.gz"))
