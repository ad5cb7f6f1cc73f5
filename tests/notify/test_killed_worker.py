"""The outbox survives a killed worker: a real `xinfang notify_worker` process, SIGKILLed mid-pass.

The worker runs against a temporary SQLite file and the file SMS backend (one JSON line per
delivered message, with a delay per message so the kill lands mid-batch). After the kill, the
messages it had claimed are taken up by a new worker once their lease runs out; in the end every
message is delivered at least once and no message is marked sent without having been delivered.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

XINFANG = str(Path(sys.executable).with_name("xinfang"))
MESSAGES = 12


def _run(args, env):
    subprocess.run([XINFANG, *args], env=env, check=True, capture_output=True, timeout=120)  # noqa: S603 - our own command


def _delivered(path: Path) -> list[str]:
    if not path.exists():
        return []
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            texts.append(json.loads(line)["text"])
        except (ValueError, KeyError):
            continue  # a line cut short by the kill does not count as delivered
    return texts


def _rows(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT body, status, attempts FROM notify_outbox ORDER BY id"
        ).fetchall()


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path(XINFANG).exists(), reason="the xinfang command is not installed")
def test_a_killed_worker_loses_nothing(tmp_path):
    db, sms = tmp_path / "outbox.sqlite3", tmp_path / "sms.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "XINFANG_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "test-only",
        "XINFANG_SMS_BACKEND": "file",
        "XINFANG_SMS_FILE": str(sms),
        "XINFANG_SMS_FILE_DELAY": "0.2",
        "XINFANG_NOTIFY_LEASE_SECONDS": "2",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    _run(["migrate", "notify", "--noinput"], env)
    _run(
        [
            "shell",
            "-c",
            (
                "from xinfang.notify.services import outbox_queue\n"
                f"for i in range({MESSAGES}):\n"
                "    outbox_queue(channel='sms', recipient='138%08d' % i, body='消息%02d' % i, kind='test')\n"
            ),
        ],
        env,
    )
    worker_args = [XINFANG, "notify_worker", "--interval", "0.2", "--no-reminders"]

    first = subprocess.Popen(  # noqa: S603 - our own command line, nothing from outside
        worker_args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        assert _wait(lambda: len(_delivered(sms)) >= 3), "the first worker delivered nothing"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    before = _delivered(sms)
    stuck = [row for row in _rows(db) if row[1] == "sending"]
    assert len(before) < MESSAGES and stuck, "the kill should land mid-batch"
    # Nothing is marked sent that was not delivered.
    assert {body for body, status, _ in _rows(db) if status == "sent"} <= set(before)

    second = subprocess.Popen(  # noqa: S603 - our own command line, nothing from outside
        worker_args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        done = _wait(lambda: all(status == "sent" for _, status, _ in _rows(db)), timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    assert done, f"not all delivered: {_rows(db)}"
    delivered = _delivered(sms)
    expected = [f"消息{i:02d}" for i in range(MESSAGES)]
    assert set(delivered) == set(expected)  # every message, at least once
    # At most the one message in flight at the kill may have gone out twice.
    assert len(delivered) - len(set(delivered)) <= 1
    assert {body for body, status, _ in _rows(db) if status == "sent"} == set(expected)
