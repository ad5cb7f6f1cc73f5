"""台帐导出: `export_cases` streams a queryset into an .xlsx with openpyxl's write-only mode;
`export_rows` gives the same rows to the export jobs: `EXPORT_KIND` is the ledger's kind of job,
declared in `settings.EXPORT_KINDS` (xinfang/exports reads it there and imports no ledger code)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from xinfang.cases import access, clocks, deadlines, selectors
from xinfang.cases.forms import QueueFilterForm
from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, Channel, Kind, Outcome, Rating, State
from xinfang.cases.validators import mask_phone
from xinfang.exports.kinds import ExportKind, Source
from xinfang.ledger.columns import _letter
from xinfang.lib.masking import mask_personal_data
from xinfang.lib.xlsxcells import cell as xlsx_cell
from xinfang.lib.xlsxcells import safe_row
from xinfang.orgs.models import Category, Place, Unit, User

EXPORT_COLUMNS = [
    ("事项编号", 22),
    ("登记时间", 18),
    ("来源渠道", 10),
    ("事项类型", 10),
    ("标题", 30),
    ("问题属地", 14),
    ("事项分类", 20),
    ("信访人", 12),
    ("联系电话", 15),
    ("主办单位", 24),
    ("状态", 10),
    ("到期时间", 18),
    ("时限状态", 10),
    ("办理结果", 10),
    ("评价", 10),
]
CONFIDENTIAL = "（保密）"
_CHANNEL_LABELS = dict(Channel.choices)
_KIND_LABELS = dict(Kind.choices)
_STATE_LABELS = dict(State.choices)
_RATING_LABELS = dict(Rating.choices)
_OUTCOME_LABELS = dict(Outcome.choices)


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, clocks.LOCAL).strftime("%Y-%m-%d %H:%M") if moment else ""


def _export_row(case: Case, user: User, now: dt.datetime) -> list[Any]:
    if case.anonymous:
        name, phone = "", ""
    elif not access.can_see_petitioner(user, case, known_visible=True):
        name, phone = CONFIDENTIAL, CONFIDENTIAL
    else:
        name, phone = case.petitioner_name, mask_phone(case.petitioner_phone)
    category, chosen = "", case.category
    if chosen is not None:
        parent = chosen.parent
        category = f"{parent.name}/{chosen.name}" if parent else chosen.name
    return [
        case.number,
        _local(case.registered_at),
        _CHANNEL_LABELS.get(case.channel, case.channel),
        _KIND_LABELS.get(case.kind, case.kind),
        mask_personal_data(case.title),  # a number typed into the title, masked as in lists
        case.place.name if case.place_id else "",
        category,
        name,
        phone,
        case.lead_unit.name if case.lead_unit else "",
        _STATE_LABELS.get(case.state, case.state),
        deadlines.format_deadline(case.due_at, empty=""),
        clocks.DUE_STATE_LABELS[selectors.case_due_state(case, now)],
        _OUTCOME_LABELS.get(case.outcome, ""),
        _RATING_LABELS.get(case.rating, ""),
    ]


def export_rows(
    qs: QuerySet[Case], *, user: User, now: dt.datetime | None = None
) -> Iterable[list[Any]]:
    """The ledger's rows, streamed (no query per matter, no list of matters).

    `qs` holds only matters the user may see (`access.visible_cases` or `access.queue_cases`).
    Places, categories and units are small tables read once and set on each matter, instead of
    joined in SQL: with the joins SQLite sorted a million rows before the first one came out;
    without them the rows stream in index order. Columns the row never reads are not fetched,
    and the other accused units are read, per chunk, for the reports only.
    """
    now = now or timezone.now()
    places = Place.objects.in_bulk()
    categories = Category.objects.select_related("parent").in_bulk()
    units = Unit.objects.in_bulk()
    qs = qs.select_related(None).prefetch_related(None).defer(*_UNREAD)
    chunk: list[Case] = []
    for case in qs.iterator(chunk_size=EXPORT_CHUNK):
        place = places.get(case.place_id)
        if place is not None:  # a place added since the read above is fetched by Django
            case.place = place
        case.category = categories.get(case.category_id)
        case.lead_unit = units.get(case.lead_unit_id)
        case.accused_unit = units.get(case.accused_unit_id)
        chunk.append(case)
        if len(chunk) == EXPORT_CHUNK:
            yield from _chunk_rows(chunk, user, now)
            chunk = []
    yield from _chunk_rows(chunk, user, now)


EXPORT_CHUNK = 2000
# Columns an export row does not read (the free text and the other clocks' times).
_UNREAD = (
    "content",
    "report_submitted_at",
    "routed_at",
    "accepted_at",
    "replied_at",
    "closed_at",
    "clock_started_at",
    "warn_at",
    "assign_due_at",
    "object_due_at",
)


def _chunk_rows(chunk: list[Case], user: User, now: dt.datetime) -> Iterator[list[Any]]:
    reports = [c for c in chunk if c.kind in CONFIDENTIAL_KINDS]  # can_see_petitioner reads these
    if reports:
        prefetch_related_objects(reports, "other_accused_units")
    for case in chunk:
        yield _export_row(case, user, now)


def export_cases(
    qs: QuerySet[Case],
    path_or_stream: str | os.PathLike | IO[bytes] | HttpResponse,
    *,
    user: User,
) -> int:
    """台帐导出: write the matters in `qs` to an .xlsx (a path, an HttpResponse or any stream).

    Returns how many matters were written. The caller decides which matters `user` may export
    (e.g. `access.visible_cases(user)`); here the petitioner is hidden from the accused unit.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台帐")
    ws.freeze_panes = "A2"
    for index, (_name, width) in enumerate(EXPORT_COLUMNS):
        ws.column_dimensions[_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name, _width in EXPORT_COLUMNS:
        cell = xlsx_cell(ws, name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for row in export_rows(qs, user=user):
        ws.append(safe_row(ws, row))  # a citizen's "=..." title stays text
        count += 1
    if isinstance(path_or_stream, (str, os.PathLike)) or (
        not isinstance(path_or_stream, HttpResponse) and path_or_stream.seekable()
    ):
        wb.save(path_or_stream)
    else:
        # openpyxl needs a seekable target for the zip; an HttpResponse is not one, so go via a
        # temporary file for it.
        with tempfile.TemporaryFile() as tmp:
            wb.save(tmp)
            tmp.seek(0)
            for chunk in iter(lambda: tmp.read(1 << 20), b""):
                path_or_stream.write(chunk)
    return count


LEDGER_PARAMS = (
    "scope",
    "q",
    "state",
    "due",
    "kind",
    "channel",
    "category",
    "place",
    "date_from",
    "date_to",
)


def ledger_queryset(user: User, filters: Mapping[str, Any]) -> QuerySet[Case]:
    """The matters of the queue export (台帐导出): the queue's tab and filters, as the queue page
    applies them; a filter that does not parse is left out, as on the queue page."""
    form = QueueFilterForm(filters or None)
    form.is_valid()
    data = dict(getattr(form, "cleaned_data", {}))
    data.pop("after", None)
    scope = data.get("scope") or access.default_queue_scope(user)
    qs = selectors._apply_filters(access.queue_cases(user, scope), data, timezone.now())
    return qs.order_by("-registered_at", "-id")


def _job_source(user: User, filters: dict) -> Source:
    qs = ledger_queryset(user, filters)
    return qs.count, lambda: iter(export_rows(qs, user=user))  # the same rows as the page


EXPORT_KIND = ExportKind(
    "ledger", "信访事项台帐", "台帐", list(EXPORT_COLUMNS), True, _job_source, LEDGER_PARAMS
)
