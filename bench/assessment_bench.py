"""The quarterly assessment (考核) at the benchmark's size: `assessment_s`.

Reads the bench database (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3) and writes
nothing: it computes a quarter's assessment of every unit in the county supervisor's scope
(`selectors.compute_lines`: the rates table plus one GROUP BY per deduction/credit) without
saving it. The scheme is the default one (read from its data migration, so a bench database
built before the app existed works too); the rates come from the rates' rollup, which
`make bench` (bench/run.py) refreshes first. The value is the median of BENCH_REPEAT runs.
Prints one JSON line:

    {"name": "assessment_s", "value": ..., "unit": "s", "cases": N, "command": ...}

    BENCH_CASES=1000000 .venv/bin/python bench/assessment_bench.py
"""

from __future__ import annotations

import datetime as dt
import importlib
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
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
COMMAND = f"BENCH_CASES={CASES} .venv/bin/python bench/assessment_bench.py"


def default_snapshot() -> dict:
    from xinfang.assessment.items import ITEM_BY_NAME
    from xinfang.assessment.selectors import LOWER_IS_BETTER
    from xinfang.reports.rates import BY_NAME

    defaults = importlib.import_module("xinfang.assessment.migrations.0002_default_scheme")
    return {
        "name": "默认方案",
        "urge_response_days": 5,
        "indicators": [
            {
                "rate": r,
                "label": BY_NAME[r].label,
                "weight": w,
                "lower_is_better": r in LOWER_IS_BETTER,
            }
            for r, w in defaults.INDICATORS
        ],
        "items": [
            {
                "item": i,
                "label": ITEM_BY_NAME[i].label,
                "sign": ITEM_BY_NAME[i].sign,
                "points": p,
                "cap": c,
            }
            for i, p, c in defaults.ADJUSTMENTS
        ],
    }


def main() -> None:
    path = DB_URL.removeprefix("sqlite:///")
    if DB_URL.startswith("sqlite:///") and not Path(path).exists():
        print(
            f"# assessment_bench: no bench database at {DB_URL}; run `BENCH_CASES={CASES} make bench` "
            "first to build it. Skipped."
        )
        return
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    if DB_URL.startswith("sqlite:///"):
        # read-only: the bench database is shared, and this script never writes it
        settings.DATABASES["default"]["NAME"] = f"file:{path}?mode=ro"
        settings.DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    django.setup()
    from django.db import OperationalError
    from django.db.models import Max

    from xinfang.assessment import selectors
    from xinfang.cases.models import CaseEvent
    from xinfang.orgs.models import Role, Unit, User
    from xinfang.reports.selectors import Period

    last = CaseEvent.objects.aggregate(m=Max("at"))["m"]
    if last is None:
        print(f"# assessment_bench: the bench database {DB_URL} holds no events. Skipped.")
        return
    county = (
        Unit.objects.filter(level=Unit.Level.COUNTY, kind=Unit.Kind.GOVERNMENT)
        .order_by("path")
        .first()
    )
    user = User.objects.filter(role=Role.SUPERVISOR, unit=county).order_by("id").first()
    user = user or User.objects.filter(role=Role.SUPERVISOR).order_by("id").first()
    # the last full quarter of the data
    local = last.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    first_month = (local.month - 1) // 3 * 3 + 1
    end = dt.date(local.year, first_month, 1) - dt.timedelta(days=1)
    start = dt.date(end.year, end.month - 2, 1)
    period = Period(start, end)
    snapshot = default_snapshot()
    samples, lines = [], []
    for _ in range(REPEAT):
        started = time.perf_counter()
        try:
            lines = selectors.compute_lines(user, snapshot, period, root=user.unit, now=last)
        except OperationalError as exc:  # a bench database from before the rates' rollup
            print(
                f"# assessment_bench: {exc}; run `BENCH_CASES={CASES} make bench` to migrate and refresh "
                "the rollup first. Skipped."
            )
            return
        samples.append(time.perf_counter() - started)
    ranked = [x for x in lines if x.has_data]
    print(
        json.dumps(
            {
                "name": "assessment_s",
                "value": round(statistics.median(samples), 3),
                "unit": "s",
                "cases": CASES,
                "command": COMMAND,
                "runs_s": [
                    round(x, 3) for x in samples
                ],  # the first one may read a cold disk cache
                "period": f"{start}..{end}",
                "units": len(lines),
                "ranked": len(ranked),
                "deductions_total": float(sum(x.deductions for x in lines)),
                "user": f"{user.username} ({user.get_role_display()}, {user.unit})",
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
