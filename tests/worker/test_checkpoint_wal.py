"""SQLite's write-ahead log is copied back by the worker, not by a request's commit."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from xinfang.worker.maintenance import checkpoint_wal


def _file_database(path) -> DatabaseWrapper:
    """A connection to a file database with the project's SQLite options (the test database
    lives in memory, which has no write-ahead log)."""
    settings = copy.deepcopy(connection.settings_dict)
    settings["NAME"] = str(path)
    return DatabaseWrapper(settings, alias="checkpoint_test")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's log only")
def test_commits_leave_the_log_to_the_worker_which_copies_it_back(db, tmp_path):
    wal_db = _file_database(tmp_path / "wal.sqlite3")
    try:
        with wal_db.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == 10000  # XINFANG_SQLITE_AUTOCHECKPOINT's default
            cursor.execute("CREATE TABLE t (x BLOB)")
            for _ in range(40):  # ~2,000 pages: past SQLite's default bound of 1,000
                cursor.execute("INSERT INTO t VALUES (randomblob(200000))")
        wal = tmp_path / "wal.sqlite3-wal"
        assert wal.stat().st_size > 1000 * 4096  # no commit copied the log back

        logged, copied = checkpoint_wal(wal_db)
        assert logged > 1000 and copied == logged
        with wal_db.cursor() as cursor:  # the next writer starts the log afresh
            cursor.execute("INSERT INTO t VALUES (1)")
        assert checkpoint_wal(wal_db)[0] < 10
    finally:
        wal_db.close()


@pytest.mark.skipif(connection.vendor == "sqlite", reason="PostgreSQL")
def test_postgresql_needs_no_checkpoint(db):
    assert checkpoint_wal() is None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
def test_inserts_leave_merging_to_the_worker_and_search_still_finds_everything(
    transactional_db,
):
    from xinfang.cases import search
    from xinfang.worker.maintenance import merge_search_index

    with connection.cursor() as cursor:
        cursor.execute("SELECT v FROM cases_fts_config WHERE k = 'automerge'")
        assert cursor.fetchone()[0] == 0  # migration cases 0011
        # the index from a known start: earlier tests' documents outlive their flushed rows
        cursor.execute("INSERT INTO cases_fts (cases_fts) VALUES ('delete-all')")
    try:
        search.index_many([(i, search.tokens(f"小区物业乱收费 第{i}号")) for i in range(1, 41)])
        for i in range(41, 81):  # one insert at a time, as registrations come: a segment each
            search.index_many([(i, search.tokens(f"小区物业乱收费 第{i}号"))])
        with connection.cursor() as cursor:
            segments = "SELECT count(*) FROM cases_fts_data"
            before = cursor.execute(segments).fetchone()[0]
            merge_search_index()  # the worker, outside any transaction
            merge_search_index()
            assert cursor.execute(segments).fetchone()[0] < before  # merged
        assert sorted(search.hit_ids("物业乱收费", limit=500)) == list(range(1, 81))
    finally:  # these documents' ids would match later tests' matters
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO cases_fts (cases_fts) VALUES ('delete-all')")
