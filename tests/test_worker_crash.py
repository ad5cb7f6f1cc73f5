"""Crash safety with real processes (issue 12): workers and the web server are killed with
SIGKILL at random points, restarted, and nothing is lost or doubled.

**Workers.** Two `xinfang notify_worker` processes deliver a few thousand queued SMS through the
file backend (one JSON line per hand-over to the "gateway", with the message's idempotency key)
while the test kills one of them at a random moment, again and again, and starts a fresh one.
What is guaranteed (xinfang/notify/delivery.py): every message is delivered, and marked sent
exactly once; a message is handed over a second time only when its worker died between the
gateway's acceptance and the mark, so at most one per kill, and then with the same key, so a
gateway that drops repeated keys delivers every message exactly once.

**Web.** A client submits on the portal while gunicorn (two web processes) is killed with
SIGKILL and restarted: every submission that got its success answer is in the database.
"""

from __future__ import annotations

import http.cookiejar
import random
import re
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.worker import live

pytestmark = [pytest.mark.slow, pytest.mark.crash]
MESSAGES = 2000


@pytest.fixture
def database(transactional_db, tmp_path):
    """A database real processes can share: a copy of the migrated SQLite test database in a
    file, or the PostgreSQL test database itself (the test's rows committed: transactional)."""
    if connection.vendor == "postgresql":
        return live.postgres_url()
    return live.sqlite_copy(tmp_path / "live.sqlite3")


def _kill(process) -> None:
    live.os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_workers_killed_at_random_deliver_every_message_once(database, tmp_path):
    live.queue_sms(database, MESSAGES)
    env = live.env_for(
        tmp_path,
        database,
        XINFANG_NOTIFY_LEASE_SECONDS="2",
        XINFANG_NOTIFY_BATCH="40",
        XINFANG_SMS_FILE_DELAY="0.001",  # so that kills land while messages are in flight
    )
    sms = tmp_path / "sms.jsonl"
    args = ["notify_worker", "--no-reminders", "--interval", "0.2"]
    workers = [live.xinfang(args, env) for _ in range(2)]
    rng = random.Random(12)
    kills = 0
    try:
        assert live.wait_for(lambda: live.delivered(sms), timeout=30), "no worker sent anything"
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and len(live.delivered(sms)) < MESSAGES * 0.8:
            time.sleep(rng.uniform(0.2, 1.0))
            victim = rng.randrange(len(workers))
            _kill(workers[victim])
            kills += 1
            workers[victim] = live.xinfang(args, env)
        done = live.wait_for(
            lambda: live.outbox_statuses(database) == {"sent": MESSAGES}, timeout=60, step=0.3
        )
    finally:
        for worker in workers:
            _kill(worker)
    assert kills >= 3
    assert done, f"not all sent: {live.outbox_statuses(database)}"
    lines = live.delivered(sms)
    texts = Counter(line["text"] for line in lines)
    assert set(texts) == {f"消息{i:05d}" for i in range(MESSAGES)}  # every message, at least once
    keys_of: dict[str, set[str]] = {}
    for line in lines:
        keys_of.setdefault(line["text"], set()).add(line["id"])
    assert all(len(keys) == 1 for keys in keys_of.values())  # a resend carries the same key
    assert len({line["id"] for line in lines}) == MESSAGES  # exactly once, by key
    doubled = sum(n - 1 for n in texts.values())
    assert doubled <= kills, f"{doubled} messages handed over twice in {kills} kills"


def _portal_client() -> urllib.request.OpenerDirector:
    """A browser of sorts: keeps the CSRF cookie, reports a redirect instead of following it."""
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _submit(opener, base: str, token: str, place: int, n: int) -> bool:
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "kind": "appeal",
            "title": f"崩溃测试{n:04d}",
            "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
            "place": place,
            "name": "李四",
            "phone": f"139{n:08d}",
            "consent": "on",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        f"{base}/portal/submit/", data=data, headers={"Referer": f"{base}/portal/submit/"}
    )
    try:
        with opener.open(request, timeout=10):
            return False  # a 200 is the form again (refused): not a success
    except urllib.error.HTTPError as exc:
        return exc.code == 302 and exc.headers.get("Location", "").endswith("/portal/submit/done/")
    except (urllib.error.URLError, OSError):
        return False  # the server died under the request: the client was told nothing


def test_every_portal_submission_answered_with_success_survives_a_killed_web_server(
    database, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("网页进程的崩溃测试在 SQLite 文件上运行（PostgreSQL 的事务语义相同）")
    db_path = Path(database.removeprefix("sqlite:///"))
    env = live.env_for(
        tmp_path,
        database,
        XINFANG_PORTAL_SUBMIT_LIMIT="100000",
        XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT="100000",
        XINFANG_SMS_BACKEND="memory",
    )
    port = live.free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    web_args = [
        live.sys.executable,
        "-m",
        "gunicorn",
        "xinfang.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--preload",  # the app is loaded once, then both web processes fork from it
        "--no-control-socket",
    ]

    def start():
        process = live.subprocess.Popen(
            web_args,
            env=env,
            cwd=live.ROOT,
            start_new_session=True,
            stdout=log.open("ab"),
            stderr=live.subprocess.STDOUT,
        )
        up = live.wait_for(lambda: _up(base), timeout=30)
        assert up, "gunicorn did not start: " + log.read_text(errors="replace")[-2000:]
        return process

    live.subprocess.run(
        [
            live.sys.executable,
            "-c",
            "import django; django.setup(); from tests.factories import make_county; make_county()",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "xinfang.settings"},
        cwd=live.ROOT,
        check=True,
        timeout=60,
    )
    with sqlite3.connect(db_path) as db:
        (place,) = db.execute("SELECT id FROM orgs_place WHERE code = '430102001'").fetchone()
    web = start()
    opener = _portal_client()
    with opener.open(f"{base}/portal/submit/", timeout=10) as response:
        html = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    succeeded: list[int] = []
    stop = threading.Event()

    def client() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if _submit(opener, base, token, place, n):
                succeeded.append(n)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    rng = random.Random(7)
    kills = 0
    try:
        for _ in range(3):
            time.sleep(rng.uniform(0.5, 1.5))
            _kill(web)
            kills += 1
            web = start()
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=20)
        _kill(web)
    assert kills == 3 and succeeded, "no submission succeeded"
    with sqlite3.connect(db_path) as db:
        titles = {t for (t,) in db.execute("SELECT title FROM cases_case")}
    missing = [n for n in succeeded if f"崩溃测试{n:04d}" not in titles]
    assert not missing, f"answered 成功 but not in the database: {missing}"


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/portal/", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False
