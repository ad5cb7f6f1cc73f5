"""`make bench`: build BENCH_CASES matters (default 100,000) and time what a browser gets.

Prints one JSON object per line: {"name", "value", "unit", "cases", "command"}.
Pages are timed as full requests of a logged-in user through Django's test client (view,
queries, template), not bare queries. The database is a separate SQLite file under var/
(or BENCH_DATABASE_URL), built once per size and reused.

PostgreSQL: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench1m` runs the same benches
on that database (created when missing, filled once with the demo's bulk path, kept between runs);
every line then carries "database": "postgresql" (else "sqlite").
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_CASES", "100000"))
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'bench-{CASES}.sqlite3'}"
)
DATABASE = "postgresql" if DB_URL.startswith(("postgres://", "postgresql://")) else "sqlite"


def _shown_url(url: str) -> str:
    """The URL as printed: without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


_URL_SHOWN = (
    f" BENCH_DATABASE_URL={_shown_url(DB_URL)}" if "BENCH_DATABASE_URL" in os.environ else ""
)
COMMAND = f"BENCH_CASES={CASES}{_URL_SHOWN} make bench"
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))

os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
sys.path.insert(0, str(ROOT))


def emit(name: str, value: float, unit: str, **extra) -> None:
    line = {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "cases": CASES,
        "command": COMMAND,
        "database": DATABASE,
    }
    line.update(extra)
    print(json.dumps(line, ensure_ascii=False), flush=True)


def create_postgresql_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet (connecting to
    the server's `postgres` database, as createdb does)."""
    from urllib.parse import unquote, urlsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        sys.exit(f"BENCH_DATABASE_URL 缺少数据库名：{_shown_url(url)}")
    server = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"# created PostgreSQL database {name}", flush=True)


def build_database() -> None:
    """Create and fill the bench database unless it already holds CASES matters."""
    if DATABASE == "postgresql":
        create_postgresql_database(DB_URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from xinfang.cases.models import Case
    from xinfang.worker.maintenance import refresh_statistics

    have = Case.objects.count()
    if have >= CASES:
        refresh_statistics()  # as the worker does hourly in production
        _analyze_postgresql()
        _count_rates()
        return
    if have:
        sys.exit(
            f"bench database {DB_URL} holds {have} matters, fewer than {CASES}: remove it first"
        )
    started = time.perf_counter()
    call_command("demo", cases=CASES, bulk=True, seed=1, fill=False)  # matters only: timed
    elapsed = time.perf_counter() - started
    emit("demo_build_per_s", CASES / elapsed, "1/s")
    refresh_statistics()
    _analyze_postgresql(always=True)


def _analyze_postgresql(always: bool = False) -> None:
    """Planner statistics after the bulk load: autovacuum may be off or not yet round (it is off
    on the local server here), and without them every page plans as if the tables were empty
    (about 1 s a page at a million matters instead of about 0.1 s)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not always:
            cursor.execute(
                "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'cases_case' "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL"
            )
            if cursor.fetchone() is None:
                return
        started = time.perf_counter()
        cursor.execute("ANALYZE")
    print(f"# ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)


def _count_rates() -> None:
    """The rates' rollup, as the worker keeps it (a database built before it existed is counted
    once, here, and the time printed)."""
    from xinfang.reports import rollup

    started = time.perf_counter()
    fresh = rollup.refresh()
    print(
        f"# rates rollup refreshed in {time.perf_counter() - started:.1f} s (as of {fresh.refreshed_at})",
        flush=True,
    )


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def time_get(client, url: str, params=None, repeat: int = REPEAT) -> float:
    for _ in range(3):
        assert client.get(url, params).status_code == 200, url
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return p95(samples)


def busiest_officer():
    from django.db.models import Count

    from xinfang.cases.models import Case
    from xinfang.orgs.models import Role, User

    top = (
        Case.objects.exclude(lead_unit=None)
        .values("lead_unit")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return User.objects.filter(role=Role.OFFICER, unit_id=top["lead_unit"]).first()


def quietest_officer():
    """The officer of the unit that leads the fewest matters (a school, a small office): their
    searches for words common elsewhere are the hard case for a text index."""
    from django.db.models import Count

    from xinfang.cases.models import Case
    from xinfang.orgs.models import Role, User

    led = (
        Case.objects.exclude(lead_unit=None)
        .values("lead_unit")
        .annotate(n=Count("id"))
        .order_by("n")
    )
    for row in led[:20]:
        officer = User.objects.filter(role=Role.OFFICER, unit_id=row["lead_unit"]).first()
        if officer is not None:
            return officer, row["n"]
    return busiest_officer(), 0


def deep_cursor(officer, state: str, depth: int) -> str:
    """The cursor a user reaches after paging `depth` rows into the unit's matters in `state`."""
    from xinfang.cases.models import Case
    from xinfang.cases.selectors import _encode_cursor

    row = (
        Case.objects.filter(lead_unit=officer.unit, state=state)
        .order_by("-registered_at", "-id")
        .values("registered_at", "id")[depth : depth + 1]
    )
    row = list(row)
    return _encode_cursor(row[0]["registered_at"], row[0]["id"]) if row else ""


def bench_pages() -> None:
    from django.test import Client
    from django.urls import reverse

    from xinfang.cases.models import Case, State
    from xinfang.orgs.models import Role, User

    officer = busiest_officer()
    clerk = User.objects.filter(role=Role.CLERK).first()
    officer_client, clerk_client = Client(), Client()
    officer_client.force_login(officer)
    clerk_client.force_login(clerk)
    queue = reverse("cases:queue")
    unit_cases = Case.objects.filter(lead_unit=officer.unit)
    accepted = unit_cases.filter(state=State.ACCEPTED).count()

    emit("queue_first_page_p95_ms", time_get(officer_client, queue), "ms")
    cursor = deep_cursor(officer, State.ACCEPTED, max(accepted // 2, 0))
    emit(
        "queue_deep_page_p95_ms",
        time_get(officer_client, queue, {"state": State.ACCEPTED, "after": cursor}),
        "ms",
        depth_rows=accepted // 2,
    )
    emit("overdue_list_p95_ms", time_get(officer_client, queue, {"due": "overdue"}), "ms")
    emit("search_2char_p95_ms", time_get(clerk_client, queue, {"q": "欠薪"}), "ms")
    emit("search_4char_p95_ms", time_get(clerk_client, queue, {"q": "拖欠工资"}), "ms")
    small, led = quietest_officer()
    small_client = Client()
    small_client.force_login(small)
    emit(
        "search_narrow_scope_p95_ms",
        time_get(small_client, queue, {"q": "欠薪", "scope": "lead"}),
        "ms",
        officer_unit_matters=led,
    )

    ids = list(unit_cases.values_list("id", flat=True)[:5000])
    rng = random.Random(7)
    for pk in ids[:3]:
        officer_client.get(reverse("cases:detail", args=[pk]))
    samples = []
    for _ in range(REPEAT):
        url = reverse("cases:detail", args=[rng.choice(ids)])
        started = time.perf_counter()
        response = officer_client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    emit("case_detail_p95_ms", p95(samples), "ms")


def last_quarter(today):
    """The last whole quarter before `today`'s (a full three months of counted matters)."""
    import datetime as dt

    from xinfang.reports.selectors import current_quarter

    return current_quarter(current_quarter(today).start - dt.timedelta(days=1))


def bench_rates() -> None:
    """统计指标: the rates table of a whole quarter by unit, as the county's supervisor (every
    unit), the JSON twin too; the rollup is fresh, as the worker keeps it."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from xinfang.orgs.models import Role, Unit, User

    root = Unit.objects.filter(parent=None).order_by("path").first()
    user = User.objects.filter(role=Role.SUPERVISOR, is_active=True, unit=root).first() or (
        User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("unit__path").first()
    )
    client = Client()
    client.force_login(user)
    quarter = last_quarter(timezone.localdate())
    params = {"by": "unit", "from": quarter.start.isoformat(), "to": quarter.end.isoformat()}
    url = reverse("reports:rates")
    emit(
        "rates_p95_ms",
        time_get(client, url, params),
        "ms",
        period=f"{quarter.start}..{quarter.end}",
        user=f"{user.username} ({user.unit})",
    )
    emit("rates_json_p95_ms", time_get(client, url, {**params, "format": "json"}), "ms")


def bench_register(count: int = 300) -> None:
    from django.utils import timezone

    from xinfang.cases import services
    from xinfang.cases.models import Case
    from xinfang.orgs.models import Place, Role, User

    clerk = User.objects.filter(role=Role.CLERK).select_related("unit").first()
    place = Place.objects.order_by("id").last()
    template = Case.objects.exclude(category=None).order_by("-id").first()
    started = time.perf_counter()
    for i in range(count):
        services.case_register(
            services.Registration(
                office=clerk.unit,
                channel="visit",
                kind="appeal",
                title=f"基准测试登记{i}：拖欠工资",
                content=template.content,
                place=place,
                category=template.category,
                petitioner=services.Petitioner(
                    name="基准", phone="13800138000", address="测试路1号"
                ),
            ),
            by=clerk,
            at=timezone.now(),
        )
    emit("register_per_s", count / (time.perf_counter() - started), "1/s", registered=count)


def forward(script: str) -> None:
    """Run another bench script and pass its JSON lines through."""
    path = ROOT / "bench" / script
    if not path.exists():
        return
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            data = json.loads(line)
            data.setdefault("command", COMMAND)
            data.setdefault("database", DATABASE)
            print(json.dumps(data, ensure_ascii=False), flush=True)
    if result.returncode:
        print(f"# {script} failed: {result.stderr.strip()[-500:]}", file=sys.stderr)


def main() -> None:
    print(f"# {COMMAND}  (database {DB_URL})", flush=True)
    build_database()
    bench_pages()
    bench_rates()
    bench_register()
    _count_rates()  # the worker's next pass counts the new matters; the read-only benches need it
    for script in (
        "import_bench.py",
        "routing_bench.py",
        "similar_bench.py",
        "answers_bench.py",
        "backlog_bench.py",
        "assessment_bench.py",
        "dashboard_bench.py",
        "export_bench.py",
        "worker_bench.py",
    ):
        forward(script)


if __name__ == "__main__":
    main()
