"""Registering many matters at once (the ledger import): the same rules as `case_register`,
in batches, so that tens of thousands of rows a second go in.

Each row is checked with the form's validation (`validate`) and turned into a plain tuple by
`Preparer`, which needs no database and so runs in the import's checking process; the writer
registers a batch with `register_prepared`, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models.base import ModelState

from xinfang.cases import reactions, search
from xinfang.cases.bulkinsert import insert_rows
from xinfang.cases.clocks import LOCAL, DayKind
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent, State
from xinfang.cases.registration import (
    Petitioner,
    _validate_registration,
    case_number,
    registration_change,
    registration_details,
    reserve_numbers,
)
from xinfang.cases.selectors import clock_rules
from xinfang.cases.writer import enter_state
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


# Columns that differ from row to row (in `Prepared.values` order): those `registration_change`
# sets, in its order, then the ids a row names; then those the writer adds. Every other column
# takes the template matter's value.
_CHANGE_COLUMNS = tuple(
    registration_change(
        channel="", kind="", title="", content="", petitioner=Petitioner(), at=_EPOCH
    ).fields
)
_ROW_COLUMNS = (*_CHANGE_COLUMNS, "place_id", "category_id", "accused_unit_id")
_WRITER_COLUMNS = ("year", "seq", "number", "clock", "clock_started_at", "due_at", "warn_at")
_CHANNEL, _KIND, _TITLE, _CONTENT, _REGISTERED_AT = map(
    _ROW_COLUMNS.index, ("channel", "kind", "title", "content", "registered_at")
)


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
        at = row.registered_at
        change = registration_change(
            channel=row.channel,
            kind=row.kind,
            title=row.title,
            content=row.content,
            petitioner=row.petitioner,
            at=at,
            group_size=row.group_size,
            accused=row.accused_unit_id is not None,
            accused_person=row.accused_person,
        )
        values = [*change.fields.values(), row.place_id, row.category_id, row.accused_unit_id]
        values[_REGISTERED_AT] = self.adapt(at)
        body, count = search.prepared_document(values[_TITLE], values[_CONTENT], pg=self.pg)
        local = at.astimezone(LOCAL)
        return (
            tuple(values),
            (at - _EPOCH) // _MICROSECOND,
            local.toordinal(),
            local.year,
            body,
            count,
        )


def _sqlite_datetime(zone: dt.tzinfo, value: dt.datetime) -> str:
    """What Django's SQLite adapter makes of an aware datetime (naive, in the database's zone),
    without its per-call setting and type checks."""
    return str(value.astimezone(zone).replace(tzinfo=None))


def register_prepared(
    *, office: Unit, by: User | None, rows: list[Prepared], clocks: dict | None = None
) -> list[int]:
    """Register prepared rows in one transaction; returns the new case ids (row order).

    The same outcome as `case_register` per row (fields from `registration_change`, number,
    state, clock, event, search index, and the declared reactions to the event, run for the
    batch), written with a few multi-row statements instead of the ORM's per-object work.
    `clocks` keeps the computed registration clocks from one batch to the next of the same
    import.
    """
    if not rows:
        return []
    with transaction.atomic(), _no_cycle_collection():
        by_year: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            by_year.setdefault(row[_YEAR], []).append(i)
        seqs: list[tuple[int, int]] = [(0, 0)] * len(rows)
        for year, indexes in by_year.items():
            first = reserve_numbers(office, year, len(indexes))
            for offset, i in enumerate(indexes):
                seqs[i] = (year, first + offset)
        written = _insert_cases(office, by, rows, seqs, {} if clocks is None else clocks)
        ids = _fetch_ids(office, by_year, seqs)
        details = _insert_events(by, rows, ids)
        search.index_prepared(
            [
                (pk, row[_BODY], row[_TOKENS], own[_NUMBER])
                for pk, row, own in zip(ids, rows, written, strict=True)
            ],
            office_id=office.pk,
        )
        reactions.run_batch(_registered_events(office, by, written, ids, details))
    return ids


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a batch is written.

    A batch makes some ten objects a row and none in a cycle (reference counting frees them),
    but every 700 new objects the collector runs, and now and then it walks the whole heap:
    a fifth of the batch's time, for nothing.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _registration_clock(kind: str, row: Prepared, cache: dict) -> tuple:
    """(clock, start, due_at, warn_at, due_at and warn_at adapted for the database) of a new
    matter as `enter_state` sets them. `start` is True when the clock starts at registration,
    False when none runs, else the moment it starts.

    Day-counted clocks depend only on the local date, so each (type, date) is computed once.
    """
    key = (kind, row[_DAY])
    hit = cache.get(key)
    if hit is not None:
        return hit
    adapt = connection.ops.adapt_datetimefield_value
    at = (_EPOCH + row[_AT_US] * _MICROSECOND).astimezone(LOCAL)
    probe = Case(kind=kind, registered_at=at)
    enter_state(probe, State.REGISTERED, at)
    start = probe.clock_started_at
    rule = clock_rules().get(probe.clock)
    same_each_day = start in (None, at) and (rule is None or rule.kind is not DayKind.HOURS)
    value = (
        probe.clock,
        start is not None if same_each_day else start,
        probe.due_at,
        probe.warn_at,
        adapt(probe.due_at),
        adapt(probe.warn_at),
    )
    if same_each_day:
        cache[key] = value
    return value


_OWN_COLUMNS = _ROW_COLUMNS + _WRITER_COLUMNS
# What `_insert_cases` tells of each matter it wrote, as Python (not database) values: its
# `Prepared.values`, then the time registered and the `_WRITER_COLUMNS`.
_AT, _NUMBER = 1, 1 + 1 + _WRITER_COLUMNS.index("number")


def _insert_cases(
    office: Unit, by: User | None, rows: list[Prepared], seqs, clock_cache: dict
) -> list[tuple]:
    """Insert the matters; returns what each one was written with (see `_AT`)."""
    template = Case(office=office, created_by=by, state=State.REGISTERED, year=0, seq=0)
    by_name = {f.attname: f for f in Case._meta.concrete_fields}
    rest = [
        f for f in Case._meta.concrete_fields if not f.primary_key and f.attname not in _OWN_COLUMNS
    ]
    columns = [by_name[name].column for name in _OWN_COLUMNS]
    shared = [
        (f.column, f.get_db_prep_save(getattr(template, f.attname), connection)) for f in rest
    ]
    adapt = connection.ops.adapt_datetimefield_value
    params, written = [], []
    for row, (year, seq) in zip(rows, seqs, strict=True):
        number = case_number(office, year, seq)
        values = row[_VALUES]
        clock, start, due, warn, due_db, warn_db = clock_cache.get(
            (values[_KIND], row[_DAY])
        ) or _registration_clock(values[_KIND], row, clock_cache)
        at = _EPOCH + row[_AT_US] * _MICROSECOND
        if start is True:  # the clock starts at registration
            start, start_db = at, values[_REGISTERED_AT]
        elif start is False:
            start = start_db = None
        else:
            start_db = adapt(start)
        params.append((*values, year, seq, number, clock, start_db, due_db, warn_db))
        written.append((values, at, year, seq, number, clock, start, due, warn))
    insert_rows(Case._meta.db_table, columns, params, shared)
    return written


def _fetch_ids(office: Unit, by_year: dict[int, list[int]], seqs) -> list[int]:
    ids_by_seq: dict[tuple[int, int], int] = {}
    for year, indexes in by_year.items():
        low, high = seqs[indexes[0]][1], seqs[indexes[-1]][1]
        for pk, seq in Case.objects.filter(
            office=office, year=year, seq__range=(low, high)
        ).values_list("id", "seq"):
            ids_by_seq[(year, seq)] = pk
    return [ids_by_seq[key] for key in seqs]


def _insert_events(by: User | None, rows: list[Prepared], ids: list[int]) -> list[dict]:
    """Insert each matter's 已登记 entry; returns each entry's details."""
    fields = {f.attname: f for f in CaseEvent._meta.concrete_fields if not f.primary_key}
    details_field = fields["details"]
    cache: dict[tuple[str, str], tuple[dict, object]] = {}
    shared = [
        (fields["kind"].column, EventKind.REGISTERED.value),
        (fields["actor_id"].column, by.pk if by is not None else None),
        (fields["unit_id"].column, by.unit_id if by is not None else None),
        (fields["public"].column, True),
    ]
    params, written = [], []
    for pk, row in zip(ids, rows, strict=True):
        values = row[_VALUES]
        key = (values[_CHANNEL], values[_KIND])
        hit = cache.get(key)
        if hit is None:
            # registration's details, and where the entry came from
            details = {**registration_details(*key), "via": "import"}
            hit = cache[key] = (details, details_field.get_db_prep_save(details, connection))
        params.append((pk, values[_REGISTERED_AT], hit[1]))
        written.append(hit[0])
    columns = [fields[name].column for name in ("case_id", "at", "details")]
    insert_rows(CaseEvent._meta.db_table, columns, params, shared)
    return written


def _registered_events(
    office: Unit, by: User | None, written: list[tuple], ids: list[int], details: list[dict]
) -> list[CaseEvent]:
    """The new 已登记 entries as the reactions see them, each with its matter, built from the
    values just written (reading thousands of rows back would cost more than writing them).
    The entries carry no id: one multi-row insert does not return them."""
    case_values = _values(Case(office=office, created_by=by, state=State.REGISTERED))
    event_values = _values(
        CaseEvent(
            kind=EventKind.REGISTERED,
            actor=by,
            unit_id=by.unit_id if by is not None else None,
            public=True,
        )
    )
    db, events = connection.alias, []  # `connection` is a thread-local look-up: once
    for pk, own, entry in zip(ids, written, details, strict=True):
        values = case_values.copy()
        values.update(zip(_ROW_COLUMNS, own[0], strict=True))
        values.update(zip(_WRITER_COLUMNS, own[_AT + 1 :], strict=True))
        values["id"], values["registered_at"] = pk, own[_AT]
        case = _loaded(Case, values, db, {"office": office, "created_by": by})
        values = event_values.copy()
        values["case_id"], values["at"], values["details"] = pk, case.registered_at, entry
        events.append(_loaded(CaseEvent, values, db, {"case": case, "actor": by}))
    return events


def _values(instance) -> dict:
    """A template instance's field values (by attribute name), for `_loaded`."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _loaded(model, values: dict, db: str, related: dict):
    """An instance of `model` as if read from `db`, with every field's value in `values` and
    the related objects it holds already. What `Model.from_db` makes, without `Model.__init__`,
    which costs more per row than the import's whole writing of the row (and no receiver
    listens to these models' init)."""
    instance = model.__new__(model)
    state = values["_state"] = ModelState()
    state.adding, state.db, state.fields_cache = False, db, related
    instance.__dict__ = values
    return instance
