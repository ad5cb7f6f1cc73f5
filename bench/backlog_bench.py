"""Time the backlog board (积案台帐) as a logged-in supervisor sees it.

Prints one JSON line: {"name": "backlog_board_p95_ms", "value", "unit": "ms", "cases", "command", ...}.
Uses the bench database of `bench/run.py` (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3).
When that file does not exist it says so and builds a small one (20,000 matters) instead.
About 2% of the matters are made backlog cases for the measure (the same rows the scan writes).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_CASES", "100000"))
SMALL = 20000
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
SHARE = 0.02


def _database_url() -> tuple[str, int]:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url, CASES
    path = ROOT / "var" / f"bench-{CASES}.sqlite3"
    if path.exists():
        return f"sqlite:///{path}", CASES
    small = ROOT / "var" / f"bench-{SMALL}.sqlite3"
    print(
        f"{path} does not exist (run `BENCH_CASES={CASES} make bench` to build it); "
        f"using a small database of {SMALL} matters at {small}",
        file=sys.stderr,
    )
    return f"sqlite:///{small}", SMALL


DB_URL, SIZE = _database_url()
COMMAND = f"BENCH_CASES={SIZE} .venv/bin/python bench/backlog_bench.py"
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
sys.path.insert(0, str(ROOT))


def prepare() -> int:
    """Migrate, build the matters if there are none, flag about 2% as backlog. Returns the matters."""
    import django

    django.setup()
    from django.core.management import call_command

    from xinfang.backlog.flagging import backlog_scan, flag_many
    from xinfang.backlog.models import BacklogCase
    from xinfang.cases.models import Case
    from xinfang.orgs.models import Role, User

    call_command("migrate", verbosity=0)
    total = Case.objects.count()
    if total == 0:
        print(f"building {SIZE} demo matters ...", file=sys.stderr)
        with open(os.devnull, "w") as quiet:  # the matters only: the bench scans them itself
            call_command("demo", cases=SIZE, bulk=True, seed=1, fill=False, stdout=quiet)
        backlog_scan()
        total = Case.objects.count()
    want = int(total * SHARE)
    have = BacklogCase.objects.count()
    if have < want:
        from django.utils import timezone

        free = list(Case.objects.filter(backlog__isnull=True).values_list("id", flat=True))
        picked = sorted(random.Random(1).sample(free, min(want - have, len(free))))
        owners = list(User.objects.filter(role__in=[Role.HEAD, Role.SUPERVISOR]).order_by("id"))
        flag_many(picked, rule="manual", reason="基准测试抽样", at=timezone.now(), owners=owners)
    return total


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def main() -> None:
    total = prepare()
    from django.test import Client

    from xinfang.backlog.models import BacklogCase
    from xinfang.orgs.models import Role, User

    supervisor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("id").first()
    client = Client()
    client.force_login(supervisor)
    for _ in range(3):
        assert client.get("/backlog/").status_code == 200
    samples, cpu = [], []
    for _ in range(REPEAT):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get("/backlog/")
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    line = {
        "name": "backlog_board_p95_ms",
        "value": round(p95(samples), 2),
        "unit": "ms",
        "cases": total,
        "command": COMMAND,
        "backlog_cases": BacklogCase.objects.count(),
        "median_ms": round(statistics.median(samples), 2),
        # CPU time of this process: what the page costs when the machine is busy with others.
        "cpu_p95_ms": round(p95(cpu), 2),
        "load_1min": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
