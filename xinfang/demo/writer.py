"""The bulk path's writer: matters prepared as database values, inserted in large batches."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction

from xinfang.cases import clocks, search
from xinfang.cases.models import Case, CaseEvent, CoHandler, Representative
from xinfang.demo.builder import _CASE_FIELDS, Builder, _Row

LOCAL = clocks.LOCAL


@dataclass
class Prepared:
    """A matter ready to insert: every value already adapted for the database."""

    index: int
    prior: int | None
    year: int
    seq: int
    number: str
    values: list
    events: list[tuple]
    co_units: list[int]
    representatives: list[dict[str, str]]
    tokens: list[str]
    linked_to_id: int | None = None


def _fast_sqlite() -> None:
    """For the demo load only: no fsync per transaction, a larger page cache."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA temp_store=MEMORY")


_EIGHT_HOURS = dt.timedelta(hours=8)


class _Writer:
    """Multi-row inserts with the values prepared once per column type (the ORM's per-object
    work costs more than the database itself at this size)."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        self.sqlite = connection.vendor == "sqlite"
        self.attnames = [f.attname for f in _CASE_FIELDS]
        self.datetimes = frozenset(
            i for i, f in enumerate(_CASE_FIELDS) if f.get_internal_type() == "DateTimeField"
        )
        # Names come from the models' metadata; every value is a parameter.
        self.case_sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(Case._meta.db_table),
            ", ".join(quote(f.column) for f in _CASE_FIELDS),
            ", ".join(["%s"] * len(_CASE_FIELDS)),
        )
        event_columns = ["case_id", "kind", "at", "actor_id", "unit_id", "public", "details"]
        details = "%s" if self.sqlite else "%s::jsonb"
        self.event_sql = "INSERT INTO {} ({}) VALUES (%s, %s, %s, %s, %s, %s, {})".format(  # noqa: S608
            quote(CaseEvent._meta.db_table),
            ", ".join(quote(c) for c in event_columns),
            details,
        )
        self.ids_sql = (
            f"SELECT seq, id FROM {quote(Case._meta.db_table)} "  # noqa: S608
            "WHERE office_id = %s AND year = %s AND seq BETWEEN %s AND %s"
        )
        table = quote(Case._meta.db_table)
        self.link_sql = f"UPDATE {table} SET linked_to_id = %s WHERE id = %s"  # noqa: S608

    def when(self, value: dt.datetime | None):
        """As `adapt_datetimefield_value`: UTC text on SQLite, the aware value elsewhere."""
        if value is None or not self.sqlite:
            return value
        if (
            value.tzinfo is LOCAL and value.year > 1991
        ):  # Beijing time: UTC+8, no summer time since 1991
            return str(value.replace(tzinfo=None) - _EIGHT_HOURS)
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))

    def case_values(self, case: _Row) -> list:
        data = case.__dict__
        values = [data[name] for name in self.attnames]
        for i, value in enumerate(values):
            if i in self.datetimes:
                values[i] = self.when(value)
            elif isinstance(value, str) and type(value) is not str:
                values[i] = str(value)  # TextChoices members
        return values

    def event_values(self, events: list[tuple]) -> list[tuple]:
        """(kind, at, actor, unit, public, details as JSON text) as `JSONField` stores them."""
        when, dumps = self.when, json.dumps
        return [
            (kind, when(at), actor, unit, public, dumps(details))
            for kind, at, actor, unit, public, details in events
        ]

    def write(self, builder: Builder, batch: list[Prepared]) -> None:
        """One transaction: the matters, their timelines, co-handlers, representatives, index."""
        with transaction.atomic(), connection.cursor() as cursor:
            ids = self._cases(cursor, builder, batch)
            cursor.executemany(
                self.event_sql,
                [(pk, *event) for pk, p in zip(ids, batch, strict=True) for event in p.events],
            )
            CoHandler.objects.bulk_create(
                [
                    CoHandler(case_id=pk, unit_id=u)
                    for pk, p in zip(ids, batch, strict=True)
                    for u in p.co_units
                ]
            )
            Representative.objects.bulk_create(
                [
                    Representative(
                        case_id=pk, name=r["name"], id_number=r["id_number"], phone=r["phone"]
                    )
                    for pk, p in zip(ids, batch, strict=True)
                    for r in p.representatives
                ]
            )
            search.index_many([(pk, p.tokens) for pk, p in zip(ids, batch, strict=True)])

    def _cases(self, cursor, builder: Builder, batch: list[Prepared]) -> list[int]:
        """Insert the rows, then read their ids back by (office, year, seq), which is unique."""
        linked = self.attnames.index("linked_to_id")
        for p in batch:
            if p.prior is not None:
                p.values[linked] = builder.numbers[p.prior][1]
        cursor.executemany(self.case_sql, [p.values for p in batch])
        seqs: dict[int, list[int]] = {}
        for p in batch:
            seqs.setdefault(p.year, []).append(p.seq)
        found: dict[tuple[int, int], int] = {}
        for year, numbers in seqs.items():
            cursor.execute(self.ids_sql, [builder.org.office.pk, year, min(numbers), max(numbers)])
            found.update(((year, seq), pk) for seq, pk in cursor.fetchall())
        ids, links = [], []
        for p in batch:
            pk = found[(p.year, p.seq)]
            ids.append(pk)
            if p.index in builder.numbers:
                builder.numbers[p.index] = (p.number, pk)
            if p.prior is not None and p.values[linked] is None:
                links.append((builder.numbers[p.prior][1], pk))
        if links:  # 不再受理 of a matter in the same batch
            cursor.executemany(self.link_sql, links)
        return ids
