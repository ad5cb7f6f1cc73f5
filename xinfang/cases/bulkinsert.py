"""Many rows into one table in one statement stream: SQLite's executemany, PostgreSQL's COPY.

Both take the same Python values; columns every row shares are given once, as (column, value).
On SQLite they go into the statement as literals (binding ~20 shared parameters per row costs
more than the rest of a row); on PostgreSQL COPY needs them in every row, which it encodes in C.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

CHUNK = 2000


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    shared: Sequence[tuple[str, object]] = (),
) -> None:
    """INSERT `rows` (values in `columns` order) into `table`, each with the `shared` values."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = [quote(c) for c in columns] + [quote(c) for c, _v in shared]
    if connection.vendor == "postgresql":
        tail = tuple(v for _c, v in shared)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(table)} ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, *tail) if tail else row)
        return
    values = ["%s"] * len(columns) + [_literal(v).replace("%", "%%") for _c, v in shared]
    sql = f"INSERT INTO {quote(table)} ({', '.join(names)}) VALUES ({', '.join(values)})"  # noqa: S608 - names are quoted model columns, values are parameters or _literal()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


def _literal(value: object) -> str:
    """SQL for a shared value (None, a boolean, a number or a text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {value!r}")
