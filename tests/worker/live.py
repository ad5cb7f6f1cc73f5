"""Helpers for the tests that run real processes (`xinfang serve`, workers, gunicorn) against a
real database: a migrated SQLite file copied from the test database in a fraction of a second
(running `migrate` takes most of a minute), or the PostgreSQL test database itself."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
XINFANG = str(Path(sys.executable).with_name("xinfang"))


def sqlite_copy(path: Path) -> str:
    """Copy the (migrated) SQLite test database into `path`; returns its DATABASE_URL.
    Call from a test with `transactional_db` (no test transaction open)."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def postgres_url() -> str:
    """The DATABASE_URL of the PostgreSQL test database this process uses."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def env_for(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XINFANG_VAR_DIR": str(tmp / "var"),
        "XINFANG_CACHE_DIR": "",
        # development profile: plain http on loopback (production redirects to https)
        "XINFANG_PROFILE": "development",
        "SECRET_KEY": "crash-test-" + "k7Qz1xVb9Lm3Np5Rt8Wy2Ac4Ef6Gh0Jd" * 2,
        "XINFANG_SMS_BACKEND": "file",
        "XINFANG_SMS_FILE": str(tmp / "sms.jsonl"),
        "XINFANG_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def delivered(path: Path) -> list[dict]:
    """The lines of the file SMS backend (one JSON object a message handed to the gateway)."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # a line cut short would not count as delivered
    return lines


def queue_sms(database_url: str, count: int, *, prefix: str = "消息") -> None:
    """Queue `count` SMS straight into the outbox table of a database other processes use."""
    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    columns = (
        "channel, recipient, subject, body, kind, sensitive, status, attempts, next_attempt_at,"
        " last_error, created_at, claimed_by, priority"
    )
    rows = [
        (
            "sms",
            f"138{i:08d}",
            "",
            f"{prefix}{i:05d}",
            "test",
            False,
            "pending",
            0,
            past,
            "",
            past,
            "",
            20,
        )
        for i in range(count)
    ]
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            db.executemany(
                f"INSERT INTO notify_outbox ({columns}) VALUES ({', '.join('?' * 13)})",  # noqa: S608 - fixed text
                [(*r[:8], "2026-01-01 00:00:00", "", "2026-01-01 00:00:00", "", 20) for r in rows],
            )
        return
    import psycopg

    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as db, db.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO notify_outbox ({columns}) VALUES ({', '.join(['%s'] * 13)})",  # noqa: S608 - fixed text
            rows,
        )


def outbox_statuses(database_url: str) -> dict[str, int]:
    sql = "SELECT status, COUNT(*) FROM notify_outbox GROUP BY status"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as db:
            return dict(db.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as db:
        return dict(db.execute(sql).fetchall())


def xinfang(args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own command with fixed arguments
        [XINFANG, *args], env=env, cwd=ROOT, start_new_session=True, **kw
    )
