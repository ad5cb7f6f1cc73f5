"""统计看板 at the benchmark's size: p95 of the whole-county dashboard page, as its supervisor.

Reads the bench database (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3) and never
writes to it: SQLite is opened read-only, the login lives in a signed cookie, and the hot-issue
cache is this process's memory. Each request is a full page through Django's test client (view,
queries, template), as bench/run.py's `time_get` does: three warm-up requests (the first computes
the hot issues, as `xinfang worker` does for the supervisor's scope in production), then
BENCH_REPEAT timed ones. Prints JSON lines:

    {"name": "dashboard_p95_ms", "value": ..., "unit": "ms", "cases": N, "command": ...}
    {"name": "dashboard_panel_<name>_cold_ms", ...}   (one selector alone, counted afresh)

    BENCH_CASES=1000000 .venv/bin/python bench/dashboard_bench.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_CASES", "100000"))
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'bench-{CASES}.sqlite3'}"
)
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
COMMAND = f"BENCH_CASES={CASES} .venv/bin/python bench/dashboard_bench.py"
DATABASE = "postgresql" if DB_URL.startswith(("postgres://", "postgresql://")) else "sqlite"


def emit(name: str, value: float, unit: str, **extra) -> None:
    line = {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "cases": CASES,
        "command": COMMAND,
        "database": DATABASE,
        **extra,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def setup() -> bool:
    path = DB_URL.removeprefix("sqlite:///") if DB_URL.startswith("sqlite:///") else ""
    if path and not Path(path).exists():
        print(
            f"# dashboard_bench: no bench database at {path}; run `BENCH_CASES={CASES} make bench` first. Skipped."
        )
        return False
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    sys.path.insert(0, str(ROOT))
    from django.conf import settings

    if path:  # read-only: the bench database belongs to `make bench`
        db = settings.DATABASES["default"]
        db["NAME"] = f"file:{path}?mode=ro"
        db["OPTIONS"] = {"uri": True, "timeout": 20}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    import django

    django.setup()
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:  # this script may not migrate a database it only reads
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in pending[:5])
        print(
            f"# dashboard_bench: the bench database lacks migrations ({names}); run "
            f"`BENCH_CASES={CASES} make bench` first, which migrates it. Skipped."
        )
        return False
    return True


def main() -> None:
    if not setup():
        return
    from django.test import Client
    from django.urls import reverse

    from xinfang.cases import access
    from xinfang.orgs.models import Role, Unit, User
    from xinfang.reports import dashboard as dash
    from xinfang.reports import panels

    root = Unit.objects.filter(parent=None).order_by("path").first()
    user = (
        User.objects.filter(role=Role.SUPERVISOR, is_active=True, unit=root).first()
        or User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("unit__path").first()
    )
    if user is None:
        print("# dashboard_bench: no supervisor in the bench database. Skipped.")
        return
    scope = access.scope_unit_ids(user)
    client = Client()
    client.force_login(user)
    url = reverse("reports:dashboard")
    started = time.perf_counter()
    assert client.get(url).status_code == 200
    first = (time.perf_counter() - started) * 1000
    for _ in range(2):
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    emit(
        "dashboard_p95_ms",
        p95(samples),
        "ms",
        median_ms=round(statistics.median(samples), 2),
        first_request_ms=round(first, 2),
        requests=len(samples),
        user=f"{user.username} ({user.get_role_display()}, {user.unit}, {len(scope or [])} units)",
    )
    filters = dash.Filters(dash.last_12_months())
    for name in panels.PANELS:  # each selector alone, counted afresh (what the worker pays)
        started = time.perf_counter()
        panels.panel(user, name, filters, fresh=True)
        emit(f"dashboard_panel_{name}_cold_ms", (time.perf_counter() - started) * 1000, "ms")


if __name__ == "__main__":
    main()
