"""`make loadtest`: 50 concurrent users against gunicorn on loopback, with the real settings.

Prepares a database of demo matters once (`xinfang migrate`, `xinfang demo --cases N`, into
var/loadtest-N.sqlite3 unless --database-url), gives a sample of its matters query codes (the
numbers and codes kept in var/loadtest-N-codes.json), collects the static files, and starts
gunicorn (`xinfang.wsgi`, --workers processes, DEBUG off, a free loopback port) behind what it
takes for one reverse proxy (XINFANG_PROXY_COUNT=1: each simulated person comes from their own
address in X-Forwarded-For, as they would through nginx).

Then, for --seconds, half of the users are citizens: open the portal's look-up page, send a
matter number and its query code, and read the progress page three times; the other half are
staff, each logged in once as a demo account before the window starts (the logins are
reported apart, not in the total), reading the queue (all, overdue, due soon, a
search). Each request's latency is recorded per scenario; one JSON line per scenario and one for
the total give p50/p95/p99, throughput, errors (no answer, or an unexpected status), the 5xx
count and the 429 count (a rate limit answering, counted apart). Exits 1 on any 5xx.

Standard library only (threads and http.client): nothing to pin beyond gunicorn.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
STAFF = ("clerk", "officer", "head", "supervisor", "reviewer", "rereviewer", "jy_officer")
PASSWORD = "xinfang2026"  # noqa: S105 - the demo accounts' password (README)
QUEUES = ("/cases/", "/cases/?due=overdue", "/cases/?due=due_soon", "/cases/?q=" + quote("欠薪"))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

ISSUE_CODES = """
import json, sys, django
django.setup()
from xinfang.cases.models import Case
from xinfang.cases.services import case_issue_query_code
ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
out = []
for pk in ids[:: max(1, len(ids) // int(sys.argv[1]))][: int(sys.argv[1])]:
    case = Case.objects.get(pk=pk)
    out.append([case.number, case_issue_query_code(case=case)])
print(json.dumps(out))
"""


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"失败：{' '.join(argv)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def prepare(args, env: dict[str, str]) -> list[list[str]]:
    """Migrate, load demo matters once, give --codes of them query codes (cached on disk)."""
    xinfang = str(BIN / "xinfang")
    codes_file = ROOT / "var" / f"loadtest-{args.cases}-codes.json"
    _run([xinfang, "migrate", "--no-input", "-v0"], env)
    if not codes_file.exists():
        t = time.monotonic()
        _run([xinfang, "demo", "--if-empty", "--cases", str(args.cases)], env)
        out = _run([str(BIN / "python"), "-c", ISSUE_CODES, str(args.codes)], env)
        codes_file.write_text(out)
        print(f"# prepared {args.cases} demo matters in {time.monotonic() - t:.0f} s", flush=True)
    _run([xinfang, "collectstatic", "--no-input", "-v0"], env)
    return json.loads(codes_file.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(args, env: dict[str, str], port: int) -> subprocess.Popen:
    argv = [
        str(BIN / "gunicorn"),
        "xinfang.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(argv, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            sys.exit("gunicorn 未能启动")
        time.sleep(0.5)
    server.terminate()
    sys.exit("gunicorn 60 秒内没有应答")


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, scenario: str, status: int, ms: float) -> None:
        with self.lock:
            self.samples.setdefault(scenario, []).append((status, ms))


class Client:
    """One person: their own connection, cookies and client address."""

    def __init__(self, port: int, results: Results) -> None:
        self.port, self.results = port, results
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.address = (
            f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        )

    def request(self, scenario: str, method: str, path: str, form: dict | None = None):
        headers = {
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",  # as nginx sends it (deploy/nginx/xinfang.conf)
            "User-Agent": "xinfang-loadtest",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"  # Django's CSRF check on https
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        t = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.results.add(scenario, 0, (time.perf_counter() - t) * 1000)
            self.conn.close()
            return 0, "", None
        self.results.add(scenario, response.status, (time.perf_counter() - t) * 1000)
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, text, response.getheader("Location")

    def token(self, text: str) -> str:
        found = TOKEN.search(text)
        return found.group(1) if found else self.cookies.get("csrftoken", "")


def citizen(port: int, results: Results, codes: list[list[str]], until: float) -> None:
    while time.monotonic() < until:
        c = Client(port, results)  # a new person, a new address, no cookies
        number, code = random.choice(codes)
        status, text, _ = c.request("portal_track_page", "GET", "/portal/track/")
        if status != 200:
            continue
        form = {"csrfmiddlewaretoken": c.token(text), "number": number, "code": code}
        status, _, where = c.request("portal_lookup", "POST", "/portal/track/", form)
        if status != 302:
            continue
        for _ in range(3):
            if time.monotonic() >= until:
                break
            c.request("portal_progress", "GET", where or "/portal/case/")


def staff_login(c: Client, username: str) -> bool:
    """Log in once (before the measured window: the password hash is meant to be slow)."""
    status, text, _ = c.request("staff_login", "GET", "/login/")
    form = {"csrfmiddlewaretoken": c.token(text), "username": username, "password": PASSWORD}
    status, _, _ = c.request("staff_login", "POST", "/login/", form)
    return status == 302


def staff(c: Client, until: float) -> None:
    while time.monotonic() < until:
        c.request("staff_queue", "GET", random.choice(QUEUES))


def _pct(sorted_ms: list[float], p: float) -> float:
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))], 1)


def summary(name: str, samples: list[tuple[int, float]], seconds: float) -> dict:
    ms = sorted(m for _, m in samples)
    statuses = [s for s, _ in samples]
    ok = {200, 302}
    return {
        "loadtest": name,
        "requests": len(samples),
        "rps": round(len(samples) / seconds, 1),
        "p50_ms": _pct(ms, 0.50) if ms else None,
        "p95_ms": _pct(ms, 0.95) if ms else None,
        "p99_ms": _pct(ms, 0.99) if ms else None,
        "errors": sum(1 for s in statuses if s not in ok and s != 429),
        "status_5xx": sum(1 for s in statuses if s >= 500),
        "status_429": sum(1 for s in statuses if s == 429),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000, help="demo matters in the database")
    parser.add_argument("--users", type=int, default=50, help="concurrent users (half citizens)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load lasts")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--codes", type=int, default=100, help="matters given query codes")
    parser.add_argument("--database-url", default="", help="default var/loadtest-N.sqlite3")
    args = parser.parse_args()
    if not 1 <= args.users <= 500 or not 1 <= args.seconds <= 600:
        sys.exit("--users 应在 1 到 500 之间，--seconds 应在 1 到 600 之间")

    db_url = args.database_url or f"sqlite:///{ROOT / 'var' / f'loadtest-{args.cases}.sqlite3'}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="xinfang.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        XINFANG_PROFILE="production",  # secure cookies, HTTPS redirect, HSTS, as deployed
        XINFANG_PROXY_COUNT="1",  # as behind nginx: the client is the last X-Forwarded-For
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",  # nginx ends TLS
        XINFANG_SMS_BACKEND="memory",
    )
    codes = prepare(args, env)
    port = free_port()
    server = start_gunicorn(args, env, port)
    results = Results()
    try:
        warm = Results()  # each worker imports its views on its first requests: not measured
        for _ in range(2 * args.workers):
            Client(port, warm).request("warm", "GET", "/portal/track/")
            Client(port, warm).request("warm", "GET", "/login/")
        citizens = args.users // 2
        clerks = [Client(port, results) for _ in range(args.users - citizens)]
        logins = [
            threading.Thread(target=staff_login, args=(c, STAFF[i % len(STAFF)]), daemon=True)
            for i, c in enumerate(clerks)
        ]
        for t in logins:
            t.start()
        for t in logins:
            t.join(300)
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=citizen, args=(port, results, codes, until), daemon=True)
            for _ in range(citizens)
        ] + [threading.Thread(target=staff, args=(c, until), daemon=True) for c in clerks]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 90)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    every: list[tuple[int, float]] = []
    for name in sorted(results.samples):
        if name != "staff_login":  # before the window: not in the total
            every += results.samples[name]
        print(json.dumps(summary(name, results.samples[name], elapsed), ensure_ascii=False))
    total = summary("total", every, elapsed)
    total.update(
        users=args.users,
        seconds=round(elapsed, 1),
        workers=args.workers,
        cases=args.cases,
        database=db_url.split(":", 1)[0],
        command=" ".join(["bench/loadtest.py", *sys.argv[1:]]),
    )
    print(json.dumps(total, ensure_ascii=False), flush=True)
    return 1 if total["status_5xx"] else 0


if __name__ == "__main__":
    sys.exit(main())
