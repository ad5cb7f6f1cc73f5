"""`xinfang serve` runs the whole system (issue 12: `make run` started only the web server, so no
SMS was ever sent): gunicorn serves the pages and the static files, the worker sends what the
outbox holds and runs the daily backlog scan, a dead worker is restarted, and SIGTERM stops
everything together."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.worker import live

pytestmark = [pytest.mark.slow]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback http
            return response.status, response.read()
    except OSError:
        return 0, b""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours is dead too
        done, _status = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@pytest.mark.django_db(transaction=True)
def test_serve_runs_web_and_worker_restarts_the_worker_and_stops_them_together(tmp_path):
    database = (
        live.postgres_url()
        if connection.vendor == "postgresql"
        else live.sqlite_copy(tmp_path / "serve.sqlite3")
    )
    live.queue_sms(database, 3, prefix="启动")
    port = live.free_port()
    env = live.env_for(tmp_path, database)
    serve = live.xinfang(
        ["serve", "--port", str(port), "--workers", "2"],
        env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []

    def read() -> None:
        assert serve.stdout is not None
        for raw in serve.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        assert live.wait_for(lambda: _get(f"{base}/portal/")[0] == 200, timeout=60), lines
        # static files, from WhiteNoise inside the WSGI app (collected into var/static at start)
        css = Path(__file__).resolve().parent.parent / "xinfang" / "static"
        some = next(p for p in sorted(css.rglob("*.css")))
        status, body = _get(f"{base}/static/{some.relative_to(css).as_posix()}")
        assert (status, body) == (200, some.read_bytes())
        # the worker sends what the outbox holds, and runs the daily backlog scan
        sms = tmp_path / "sms.jsonl"
        assert live.wait_for(lambda: len(live.delivered(sms)) == 3, timeout=30), lines
        assert live.wait_for(lambda: any("积案扫描" in line for line in lines), timeout=10)
        assert any(line.startswith("[web] ") for line in lines)
        assert any(line.startswith("[worker] ") for line in lines)
        # a worker that dies is restarted
        (first,) = [
            int(m) for m in re.findall(r"\[serve\] worker 已启动（进程 (\d+)）", "\n".join(lines))
        ]
        os.kill(first, signal.SIGKILL)
        assert live.wait_for(
            lambda: len(re.findall(r"\[serve\] worker 已启动", "\n".join(lines))) == 2, timeout=30
        ), lines
        assert any("worker 意外退出" in line for line in lines)
        live.queue_sms(database, 1, prefix="重启后")
        assert live.wait_for(lambda: len(live.delivered(sms)) == 4, timeout=30), lines
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    text = "\n".join(lines)
    assert code == 0, text
    assert "[serve] 已全部停止" in text
    children = [int(p) for p in re.findall(r"已启动（进程 (\d+)）", text)]
    children += [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", text)]
    assert len(children) >= 5  # web, worker, restarted worker, two web processes
    assert not [pid for pid in children if _alive(pid)]
    assert _get(f"{base}/portal/")[0] == 0  # nothing listens any more


def test_a_bad_port_is_refused_in_chinese(tmp_path):
    env = live.env_for(tmp_path, f"sqlite:///{tmp_path / 'none.sqlite3'}")
    done = subprocess.run(  # noqa: S603 - our own command
        [live.XINFANG, "serve", "--port", "70000", "--no-collectstatic"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "端口 70000 无效" in done.stderr
