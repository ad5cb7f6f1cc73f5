"""Database upkeep the worker does now and then (bench/run.py calls it too)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper


def refresh_statistics() -> None:
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this itself).

    Without them SQLite may walk a unit's whole index instead of the hits of a search.
    """
    if connection.vendor == "sqlite":  # analysis_limit keeps this well under a second at 1M rows
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


def checkpoint_wal(db: BaseDatabaseWrapper | None = None) -> tuple[int, int] | None:
    """Copy SQLite's write-ahead log back into the database (a PASSIVE checkpoint): the worker's
    part, so that a request's commit seldom has to (`XINFANG_SQLITE_AUTOCHECKPOINT` in settings).

    PASSIVE waits for nobody and blocks nobody: it copies the frames no reader still needs.
    Returns (frames in the log, frames copied); None on PostgreSQL, which needs nothing here.
    """
    db = db or connections[DEFAULT_DB_ALIAS]
    if not isinstance(db, SQLiteWrapper) or db.in_atomic_block or db.is_in_memory_db():
        return None  # inside a transaction (a test's) or in memory there is no log to copy
    with db.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, logged, copied = cursor.fetchone()
    return logged, copied


MERGE_PAGES = 64  # one step: short, as a registration waits for the write lock meanwhile
MERGE_STEPS = 8  # per call (about every second): up to ~2 MB of index a second, far above intake


def merge_search_index() -> None:
    """Merge the search index's segments (SQLite's FTS5 'merge'): `MERGE_STEPS` steps of about
    `MERGE_PAGES` pages, each its own short transaction; a step with nothing to merge costs
    microseconds. Inserts leave merging to this (migration cases 0011)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for _ in range(MERGE_STEPS):
            cursor.execute(
                "INSERT INTO cases_fts (cases_fts, rank) VALUES ('merge', %s)", [MERGE_PAGES]
            )
