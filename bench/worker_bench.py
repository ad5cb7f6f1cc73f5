"""Worker throughput: how many messages a minute `xinfang notify_worker` sends from a backlog.

BENCH_WORKER_MESSAGES (default 10,000) SMS are queued in a fresh database, due a few seconds
later; then 1 and 2 real worker processes (the file SMS backend: one JSON line per message)
deliver them, and the time from the first message marked sent to the last gives messages per
minute (the workers' start-up, a few seconds of Django imports, is left out). Each run checks that every message was handed over exactly once.
Databases: a fresh SQLite file always; PostgreSQL too when BENCH_DATABASE_URL is a postgres://
URL (a scratch database `xinfang_worker_bench` is created on that server and dropped after).

Prints one JSON line per figure: {"name", "value", "unit", "messages", "workers", "database",
"command"}.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XINFANG = str(Path(sys.executable).with_name("xinfang"))
MESSAGES = int(os.environ.get("BENCH_WORKER_MESSAGES", "10000"))
PG_URL = os.environ.get("BENCH_DATABASE_URL", "")
COMMAND = f"BENCH_WORKER_MESSAGES={MESSAGES} .venv/bin/python bench/worker_bench.py"
LEAD = 8.0  # seconds between queueing and the messages falling due: the workers start meanwhile
SCRATCH = "xinfang_worker_bench"


def emit(name: str, value: float, unit: str, **extra) -> None:
    line = {"name": name, "value": round(value, 1), "unit": unit, "command": COMMAND, **extra}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def _env(url: str, folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "XINFANG_PROFILE": "development",
        "XINFANG_VAR_DIR": str(folder / "var"),
        "XINFANG_CACHE_DIR": "",
        "XINFANG_SMS_BACKEND": "file",
        "XINFANG_SMS_FILE": str(folder / "sms.jsonl"),
        "XINFANG_SMS_DAILY_LIMIT": "1000000",  # the per-phone budget is not what is measured
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


class Db:
    """The outbox table of the bench database, reached without Django."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite:///")

    def connect(self):
        if self.sqlite:
            return sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
        import psycopg

        return psycopg.connect(self.url.replace("postgres://", "postgresql://", 1), autocommit=True)

    def fill(self, count: int, due: dt.datetime) -> None:
        mark = "?" if self.sqlite else "%s"
        columns = (
            "channel, recipient, subject, body, kind, sensitive, status, attempts,"
            " next_attempt_at, last_error, created_at, claimed_by, priority"
        )
        when: object = due.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else due
        head = ("sms", "", "", "bench", False, "pending", 0)  # all but recipient and body
        rows = [
            (head[0], f"138{i:08d}", head[2], f"基准消息{i}", *head[3:], when, "", when, "", 20)
            for i in range(count)
        ]
        sql = f"INSERT INTO notify_outbox ({columns}) VALUES ({', '.join([mark] * 13)})"  # noqa: S608 - fixed text
        db = self.connect()
        try:
            db.execute("DELETE FROM notify_outbox")
            db.cursor().executemany(sql, rows)
            db.commit()
        finally:
            db.close()

    def unsent(self) -> int:
        db = self.connect()
        try:
            return db.execute(
                "SELECT COUNT(*) FROM notify_outbox WHERE status <> 'sent'"
            ).fetchone()[0]
        finally:
            db.close()

    def sending_time(self) -> float:
        """Seconds from the first message marked sent to the last."""
        db = self.connect()
        try:
            first, last = db.execute(
                "SELECT MIN(sent_at), MAX(sent_at) FROM notify_outbox"
            ).fetchone()
        finally:
            db.close()
        if isinstance(first, str):
            first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
        return (last - first).total_seconds()


def run(url: str, label: str, folder: Path) -> None:
    env = _env(url, folder)
    subprocess.run(
        [XINFANG, "migrate", "notify", "--no-input"], env=env, check=True, capture_output=True
    )
    db = Db(url)
    sms = folder / "sms.jsonl"
    for workers in (1, 2):
        sms.unlink(missing_ok=True)
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD)
        db.fill(MESSAGES, due)
        procs = [
            subprocess.Popen(
                [XINFANG, "notify_worker", "--no-reminders", "--interval", "0.2"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            while db.unsent():
                time.sleep(0.5)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
        seconds = db.sending_time()
        lines = [json.loads(x) for x in sms.read_text(encoding="utf-8").splitlines()]
        assert len(lines) == len({x["id"] for x in lines}) == MESSAGES, "sent twice or lost"
        emit(
            f"worker_{label}_{workers}w_per_min",
            MESSAGES / seconds * 60,
            "1/min",
            messages=MESSAGES,
            workers=workers,
            database=label,
            seconds=round(seconds, 2),
        )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="xinfang-worker-bench-"))
    try:
        run(f"sqlite:///{folder / 'worker.sqlite3'}", "sqlite", folder)
        if PG_URL.startswith(("postgres://", "postgresql://")):
            import psycopg

            admin = PG_URL.replace("postgres://", "postgresql://", 1)
            with psycopg.connect(admin, autocommit=True) as db:
                db.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
                db.execute(f"CREATE DATABASE {SCRATCH}")
            try:
                scratch = PG_URL.rsplit("/", 1)[0] + f"/{SCRATCH}"
                run(scratch, "postgresql", folder)
            finally:
                with psycopg.connect(admin, autocommit=True) as db:
                    db.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
