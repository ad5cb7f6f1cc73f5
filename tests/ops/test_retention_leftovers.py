"""Anonymisation reaches what hangs on a matter outside the cases app (issue 12 leftovers).

Before: `anonymise_expired` left an expired matter's attachments (files on disk: ID cards,
letters), the reception records that raised it (a summary naming the petitioner) and the
bookings made for it (name, phone, description) as they were. Now the files are deleted from
storage and their rows removed, the summaries and descriptions scrubbed, the bookings'
name and phone cleared; a matter within the period keeps all of it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import services
from xinfang.cases.models import Attachment, Case
from xinfang.ops.retention import ANONYMOUS, anonymise_expired
from xinfang.reception.models import AppointmentSlot, Booking, ReceptionMatter, ReceptionRecord

NOW = bj(2026, 12, 1, 9)
SUMMARY = f"张三（电话{VALID_PHONE}，身份证{VALID_ID}）反映公司拖欠工资。"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_RETENTION_YEARS = 5
    return tmp_path / "media"


def _closed_matter(county, at: dt.datetime, n: int) -> Case:
    case = register(
        county,
        None,
        at,
        title="张三反映公司拖欠工资",
        content=f"本人张三，联系电话{VALID_PHONE}，公司拖欠工资三个月。",
        petitioner=petitioner(),
        attachments=[SimpleUploadedFile(f"身份证{n}.pdf", b"%PDF-1.4 id card")],
    )
    case = services.case_route(case=case, by=None, unit=county.hr, at=at + dt.timedelta(days=1))
    return services.case_decline(
        case=case,
        by=None,
        reason="属于劳动仲裁受理范围",
        proper_channel="向劳动人事争议仲裁委员会申请仲裁",
        at=at + dt.timedelta(days=5),
    )


def _hanging(county, case: Case, at: dt.datetime) -> tuple[ReceptionRecord, Booking]:
    record = ReceptionRecord.objects.create(
        office=county.office, held_at=at, leader_name="王局长", summary=SUMMARY
    )
    ReceptionMatter.objects.create(record=record, case=case)
    slot = AppointmentSlot.objects.create(
        office=county.office, date=at.date(), start=dt.time(9), end=dt.time(10), booked=1
    )
    booking = Booking.objects.create(
        slot=slot,
        reference=f"B{case.pk:06d}",
        name="张三",
        phone=VALID_PHONE,
        description=SUMMARY,
        case_number=case.number,
    )
    return record, booking


@pytest.fixture
def world(county, media):
    old = _closed_matter(county, bj(2019, 3, 4, 9), 1)
    recent = _closed_matter(county, bj(2026, 3, 2, 9), 2)
    return {
        "old": (old, *_hanging(county, old, bj(2019, 3, 5, 9))),
        "recent": (recent, *_hanging(county, recent, bj(2026, 3, 3, 9))),
    }


def _files(case: Case) -> list[Path]:
    return [Path(a.file.path) for a in Attachment.objects.filter(case=case)]


def test_expired_matters_lose_attachments_summaries_and_bookings(
    world, media, django_capture_on_commit_callbacks
):
    old, old_record, old_booking = world["old"]
    recent, recent_record, recent_booking = world["recent"]
    old_files = _files(old)
    assert old_files and all(f.exists() for f in old_files)

    with django_capture_on_commit_callbacks(execute=True):
        assert anonymise_expired(NOW) == 1

    assert not Attachment.objects.filter(case=old).exists()
    assert not any(f.exists() for f in old_files)  # deleted from storage, not only unlinked
    old_record.refresh_from_db()
    assert "张三" not in old_record.summary and VALID_PHONE not in old_record.summary
    assert VALID_ID not in old_record.summary and "拖欠工资" in old_record.summary
    old_booking.refresh_from_db()
    assert (old_booking.name, old_booking.phone) == (ANONYMOUS, "")
    assert VALID_PHONE not in old_booking.description and "张三" not in old_booking.description
    # the reception itself still counts: the record and its link to the matter stay
    assert ReceptionMatter.objects.filter(record=old_record, case=old).exists()

    # within the period: untouched
    assert all(f.exists() for f in _files(recent))
    recent_record.refresh_from_db()
    recent_booking.refresh_from_db()
    assert recent_record.summary == SUMMARY
    assert (recent_booking.name, recent_booking.phone) == ("张三", VALID_PHONE)


def test_a_rolled_back_anonymisation_keeps_the_files(
    world, media, monkeypatch, django_capture_on_commit_callbacks
):
    """Files go only once the database change is committed: a failure leaves both intact."""
    from xinfang.ops import retention

    old = world["old"][0]
    files = _files(old)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention.Anonymisation.objects, "create", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        anonymise_expired(NOW)
    assert Attachment.objects.filter(case=old).count() == len(files)
    assert all(f.exists() for f in files)
