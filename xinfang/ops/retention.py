"""保存期限与匿名化 / retention: closed matters lose their personal data after a set period.

When XINFANG_RETENTION_YEARS is set (0, the default, keeps everything), a matter closed
(不予受理、不再受理、已终结) more than that many years ago is anonymised: the petitioner's name
becomes "（已匿名）", the ID number, phone and address are emptied, representatives likewise; in
the title, the content, the timeline's details, repeat submissions and the messages sent about
it, every phone, ID number, e-mail and the known names and address are masked by the one
scrubber (`cases.scrub`); the search index is rebuilt from the masked text. What hangs on the
matter elsewhere goes too: its attachments (rows removed, files deleted from storage once the
change is committed), the summaries of the reception records that raised it (scrubbed) and the
bookings made for it (name and phone cleared, description scrubbed; a booking is tied to a
matter by its 已有事项编号). The matter keeps its
number, type, category, place, units, dates, state, outcome, rating and every event, so every
rate, the dashboard and the assessment count exactly as before.

The timeline is append-only for the work of the office; this is the one exception, by law's
retention rule, and each anonymised matter leaves an `Anonymisation` row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.api.models import Open311Request
from xinfang.cases import search
from xinfang.cases.models import (
    CLOSED_STATES,
    Attachment,
    Case,
    CaseEvent,
    RepeatSubmission,
    Representative,
)
from xinfang.cases.scrub import MASK, scrub_personal_data
from xinfang.notify.models import Outbox
from xinfang.ops.models import Anonymisation
from xinfang.reception.models import Booking, ReceptionRecord

ANONYMOUS = "（已匿名）"


def _years_before(now: dt.datetime, years: int) -> dt.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def due_for_anonymisation(now: dt.datetime | None = None) -> QuerySet[Case]:
    """Closed matters past the retention period that still hold personal data."""
    years = int(settings.XINFANG_RETENTION_YEARS)
    if years <= 0:
        return Case.objects.none()
    cutoff = _years_before(now or timezone.now(), years)
    done = Anonymisation.objects.values("case_id")
    return (
        Case.objects.filter(state__in=CLOSED_STATES, closed_at__lt=cutoff)
        .exclude(pk__in=done)
        .order_by("pk")
    )


def _scrub(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        return scrub_personal_data(value, known=known)
    if isinstance(value, list):
        return [_scrub(v, known) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, known) for k, v in value.items()}
    return value


def _reindex(case: Case, before: list[str]) -> None:
    """Replace the matter's search document (`before`: its tokens until now)."""
    after = search.document_tokens(case)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE cases_search SET doc = %s::tsvector WHERE case_id = %s",
                [search._entry(after, pg=True), case.pk],
            )
            return
        # SQLite's contentless FTS5 index forgets a document only when given its tokens again
        cursor.execute(
            "INSERT INTO cases_fts (cases_fts, rowid, body) VALUES ('delete', %s, %s)",
            [case.pk, search._entry(before, pg=False)],
        )
        cursor.execute(
            "INSERT INTO cases_fts (rowid, body) VALUES (%s, %s)",
            [case.pk, search._entry(after, pg=False)],
        )


def case_anonymise(*, case: Case) -> None:
    """Remove the petitioner's personal data from one matter and all that hangs on it."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        reps = list(Representative.objects.filter(case=case))
        known = [
            v
            for v in (
                case.petitioner_name,
                case.petitioner_address,
                case.petitioner_id_number,
                case.petitioner_phone,
                *(r.name for r in reps),
                *(r.id_number for r in reps),
                *(r.phone for r in reps),
            )
            if v and len(v.strip()) > 1
        ]
        before = search.document_tokens(case)
        case.petitioner_name = ANONYMOUS if case.petitioner_name else ""
        case.petitioner_id_number = case.petitioner_phone = case.petitioner_address = ""
        case.title = scrub_personal_data(case.title, known=known)[:120]
        case.content = scrub_personal_data(case.content, known=known)
        Case.objects.filter(pk=case.pk).update(
            petitioner_name=case.petitioner_name,
            petitioner_id_number="",
            petitioner_phone="",
            petitioner_address="",
            title=case.title,
            content=case.content,
        )
        Representative.objects.filter(case=case).update(name=ANONYMOUS, id_number="", phone="")
        events = []
        for event in CaseEvent.objects.filter(case=case).only("id", "details"):
            details = _scrub(event.details, known)
            if details != event.details:
                event.details = details
                events.append(event)
        CaseEvent.objects.bulk_update(events, ["details"], batch_size=500)
        for repeat in RepeatSubmission.objects.filter(case=case):
            RepeatSubmission.objects.filter(pk=repeat.pk).update(
                content=scrub_personal_data(repeat.content, known=known)
            )
        for message in Outbox.objects.filter(case=case):
            Outbox.objects.filter(pk=message.pk).update(
                recipient=MASK if message.recipient in known else message.recipient,
                subject=scrub_personal_data(message.subject, known=known)[:200],
                body=scrub_personal_data(message.body, known=known),
            )
        Open311Request.objects.filter(case=case).update(address_string=MASK)
        _forget_attachments(case)
        _scrub_receptions_and_bookings(case, known)
        _reindex(case, before)
        Anonymisation.objects.create(case=case)


def _forget_attachments(case: Case) -> None:
    """Remove the matter's attachments; their files leave storage only once the transaction
    commits, so a failed anonymisation keeps rows and files together."""
    stored = [(a.file.storage, a.file.name) for a in Attachment.objects.filter(case=case) if a.file]
    Attachment.objects.filter(case=case).delete()

    def delete_files() -> None:
        for storage, name in stored:
            storage.delete(name)

    transaction.on_commit(delete_files)


def _scrub_receptions_and_bookings(case: Case, known: list[str]) -> None:
    records = ReceptionRecord.objects.filter(matters__case=case).only("id", "summary")
    for record in records:
        summary = scrub_personal_data(record.summary, known=known)
        if summary != record.summary:
            ReceptionRecord.objects.filter(pk=record.pk).update(summary=summary)
    for booking in Booking.objects.filter(case_number=case.number):
        mine = [v for v in (booking.name, booking.phone) if v and len(v.strip()) > 1]
        Booking.objects.filter(pk=booking.pk).update(
            name=ANONYMOUS,
            phone="",
            description=scrub_personal_data(booking.description, known=[*known, *mine]),
        )


def anonymise_expired(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Anonymise up to `limit` matters past the retention period (daily job); how many."""
    done = 0
    for case in due_for_anonymisation(now)[:limit]:
        case_anonymise(case=case)
        done += 1
    return done
