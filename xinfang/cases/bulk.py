"""Registering many matters at once (the ledger import): the same rules as `case_register`,
in batches, so that tens of thousands of rows a second go in.

Each row is checked with the form's validation (`validate`) and turned into a plain tuple by
`Preparer`, which needs no database and so runs in the import's checking process; the writer
registers a batch with `register_prepared`, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import connection, transaction

from xinfang.cases import search, services
from xinfang.cases.bulkinsert import insert_rows
from xinfang.cases.clocks import LOCAL, DayKind
from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, CaseEvent, State
from xinfang.cases.selectors import clock_rules
from xinfang.cases.services import Petitioner, _enter_state, _validate_registration
from xinfang.orgs.models import Unit, User


@dataclass
class Row:
    """One matter to register, with ids instead of objects so that a batch needs no look-ups."""

    channel: str
    kind: str
    title: str
    content: str
    place_id: int
    registered_at: dt.datetime
    petitioner: Petitioner = field(default_factory=Petitioner)
    category_id: int | None = None
    group_size: int = 1
    accused_unit_id: int | None = None
    accused_person: str = ""


def validate(row: Row, *, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """The form's checks for one row; cleans the petitioner's ID and phone in place."""
    return _validate_registration(
        kind=row.kind,
        channel=row.channel,
        title=row.title,
        content=row.content,
        petitioner=row.petitioner,
        group_size=row.group_size,
        representatives=[],
        accused_unit=row.accused_unit_id,
        accused_person=row.accused_person,
        at=row.registered_at,
        attachments=[],
        now=now,
    )


# A checked row in the form the writer needs, built where the row is checked, as a plain tuple
# (it crosses a pipe between processes, and plain tuples pickle several times faster):
#   (values, registered at in µs since the epoch, local date's ordinal, local year, search text,
#    its token count)
# `values` follow `_ROW_COLUMNS`, already adapted for the database; the number, the clock and
# the number's search tokens are added when the row is written.
Prepared = tuple
_VALUES, _AT_US, _DAY, _YEAR, _BODY, _TOKENS = range(6)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


# Columns that differ from row to row (in `Prepared.values` order), then those the writer
# adds; every other column takes the template matter's value.
_ROW_COLUMNS = (
    "channel",
    "kind",
    "title",
    "content",
    "place_id",
    "category_id",
    "anonymous",
    "petitioner_name",
    "petitioner_id_number",
    "petitioner_phone",
    "petitioner_address",
    "group_size",
    "accused_unit_id",
    "accused_person",
    "accused_pending",
    "registered_at",
)
_WRITER_COLUMNS = ("year", "seq", "number", "clock", "clock_started_at", "due_at", "warn_at")
_CHANNEL, _KIND, _REGISTERED_AT = 0, 1, len(_ROW_COLUMNS) - 1


class Preparer:
    """Builds `Prepared` rows without touching the database (it runs in the checking process).

    The backend's date adapter and kind are looked up once: per row they cost more than the rest.
    """

    def __init__(self) -> None:
        self.adapt = connection.ops.adapt_datetimefield_value
        self.pg = connection.vendor == "postgresql"
        if connection.vendor == "sqlite" and settings.USE_TZ:
            self.adapt = partial(_sqlite_datetime, connection.timezone)

    def __call__(self, row: Row) -> Prepared:
        p = row.petitioner
        title, content = row.title.strip()[:120], row.content.strip()
        body, count = search.prepared_document(title, content, pg=self.pg)
        at = row.registered_at
        values = (
            row.channel,
            row.kind,
            title,
            content,
            row.place_id,
            row.category_id,
            p.anonymous,
            "" if p.anonymous else p.name.strip(),
            p.id_number,
            p.phone,
            p.address.strip(),
            row.group_size,
            row.accused_unit_id,
            row.accused_person.strip(),
            # a report imported without its accused unit waits for a clerk, as from the portal
            row.kind in CONFIDENTIAL_KINDS and row.accused_unit_id is None,
            self.adapt(at),
        )
        local = at.astimezone(LOCAL)
        return (values, (at - _EPOCH) // _MICROSECOND, local.toordinal(), local.year, body, count)


def _sqlite_datetime(zone: dt.tzinfo, value: dt.datetime) -> str:
    """What Django's SQLite adapter makes of an aware datetime (naive, in the database's zone),
    without its per-call setting and type checks."""
    return str(value.astimezone(zone).replace(tzinfo=None))


def register_prepared(
    *, office: Unit, by: User | None, rows: list[Prepared], clocks: dict | None = None
) -> list[int]:
    """Register prepared rows in one transaction; returns the new case ids (row order).

    The same outcome as `case_register` per row (number, state, clock, event, search index),
    written with a few multi-row statements instead of the ORM's per-object work. `clocks`
    keeps the computed registration clocks from one batch to the next of the same import.
    """
    if not rows:
        return []
    with transaction.atomic():
        by_year: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            by_year.setdefault(row[_YEAR], []).append(i)
        seqs: list[tuple[int, int]] = [(0, 0)] * len(rows)
        for year, indexes in by_year.items():
            first = services.reserve_numbers(office, year, len(indexes))
            for offset, i in enumerate(indexes):
                seqs[i] = (year, first + offset)
        numbers = _insert_cases(office, by, rows, seqs, {} if clocks is None else clocks)
        ids = _fetch_ids(office, by_year, seqs)
        _insert_events(by, rows, ids)
        search.index_prepared(
            [
                (pk, row[_BODY], row[_TOKENS], number)
                for pk, row, number in zip(ids, rows, numbers, strict=True)
            ],
            office_id=office.pk,
        )
    return ids


def _registration_clock(kind: str, row: Prepared, cache: dict) -> tuple:
    """(clock, clock_started_at, due_at, warn_at) of a new matter as `_enter_state` sets them,
    with the times already adapted for the database.

    Day-counted clocks depend only on the local date, so each (type, date) is computed once.
    """
    key = (kind, row[_DAY])
    hit = cache.get(key)
    if hit is not None:
        return hit
    adapt = connection.ops.adapt_datetimefield_value
    at = (_EPOCH + row[_AT_US] * _MICROSECOND).astimezone(LOCAL)
    probe = Case(kind=kind, registered_at=at)
    _enter_state(probe, State.REGISTERED, at)
    value = (probe.clock, adapt(probe.clock_started_at), adapt(probe.due_at), adapt(probe.warn_at))
    rule = clock_rules().get(probe.clock)
    if probe.clock_started_at in (None, at) and (rule is None or rule.kind is not DayKind.HOURS):
        cache[key] = (probe.clock, probe.clock_started_at is not None, value[2], value[3])
        return cache[key]
    return value


def _insert_cases(
    office: Unit, by: User | None, rows: list[Prepared], seqs, clock_cache: dict
) -> list[str]:
    template = Case(office=office, created_by=by, state=State.REGISTERED, year=0, seq=0)
    by_name = {f.attname: f for f in Case._meta.concrete_fields}
    own = _ROW_COLUMNS + _WRITER_COLUMNS
    rest = [f for f in Case._meta.concrete_fields if not f.primary_key and f.attname not in own]
    columns = [by_name[name].column for name in own]
    shared = [
        (f.column, f.get_db_prep_save(getattr(template, f.attname), connection)) for f in rest
    ]
    numbers: list[str] = []
    params = []
    for row, (year, seq) in zip(rows, seqs, strict=True):
        number = services.case_number(office, year, seq)
        numbers.append(number)
        values = row[_VALUES]
        clock, started, due, warn = clock_cache.get(
            (values[_KIND], row[_DAY])
        ) or _registration_clock(values[_KIND], row, clock_cache)
        if started is True:  # the clock starts at registration
            started = values[_REGISTERED_AT]
        elif started is False:
            started = None
        params.append((*values, year, seq, number, clock, started, due, warn))
    insert_rows(Case._meta.db_table, columns, params, shared)
    return numbers


def _fetch_ids(office: Unit, by_year: dict[int, list[int]], seqs) -> list[int]:
    ids_by_seq: dict[tuple[int, int], int] = {}
    for year, indexes in by_year.items():
        low, high = seqs[indexes[0]][1], seqs[indexes[-1]][1]
        for pk, seq in Case.objects.filter(
            office=office, year=year, seq__range=(low, high)
        ).values_list("id", "seq"):
            ids_by_seq[(year, seq)] = pk
    return [ids_by_seq[key] for key in seqs]


def _insert_events(by: User | None, rows: list[Prepared], ids: list[int]) -> None:
    fields = {f.attname: f for f in CaseEvent._meta.concrete_fields if not f.primary_key}
    details_field = fields["details"]
    details_cache: dict[tuple[str, str], object] = {}
    shared = [
        (fields["kind"].column, "case.registered"),
        (fields["actor_id"].column, by.pk if by is not None else None),
        (fields["unit_id"].column, by.unit_id if by is not None else None),
        (fields["public"].column, True),
    ]
    params = []
    for pk, row in zip(ids, rows, strict=True):
        values = row[_VALUES]
        key = (values[_CHANNEL], values[_KIND])
        details = details_cache.get(key)
        if details is None:
            details = details_field.get_db_prep_save(
                {"channel": key[0], "case_kind": key[1], "via": "import"}, connection
            )
            details_cache[key] = details
        params.append((pk, values[_REGISTERED_AT], details))
    columns = [fields[name].column for name in ("case_id", "at", "details")]
    insert_rows(CaseEvent._meta.db_table, columns, params, shared)
