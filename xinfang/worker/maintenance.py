"""Database upkeep the worker does now and then (bench/run.py calls it too)."""

from __future__ import annotations

from django.db import connection


def refresh_statistics() -> None:
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this itself).

    Without them SQLite may walk a unit's whole index instead of the hits of a search.
    """
    if connection.vendor == "sqlite":  # analysis_limit keeps this well under a second at 1M rows
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
