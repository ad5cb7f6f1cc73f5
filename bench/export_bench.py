"""The streamed ledger export at the benchmark's size: rows per second and peak memory.

Reads the bench database (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3, opened
read-only) and writes every matter (or BENCH_EXPORT_ROWS of them) as an administrator sees
them into a temporary .xlsx with the export jobs' writer (`xinfang.exports.writer.write_xlsx`
fed by the `ledger` kind's rows: `QuerySet.iterator`, the page's `_export_row`), then deletes it.
The export runs in a child process so that its peak resident memory (ru_maxrss, Django and
the loaded models included) is its own. Prints two JSON lines:

    {"name": "export_rows_per_s", "value": ..., "unit": "1/s", "cases": N, "rows": R, ...}
    {"name": "export_peak_mb", "value": ..., "unit": "MB", "baseline_mb": ..., ...}

    BENCH_CASES=1000000 .venv/bin/python bench/export_bench.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_CASES", "100000"))
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'bench-{CASES}.sqlite3'}"
)
LIMIT = int(os.environ.get("BENCH_EXPORT_ROWS", "0"))  # 0: every matter
COMMAND = f"BENCH_CASES={CASES} .venv/bin/python bench/export_bench.py"
TARGET_MB = 300


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child() -> None:
    """Run the export and print its figures as one JSON object (read by the parent)."""
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    db = connections.databases["default"]
    if db["ENGINE"].endswith("sqlite3"):  # read only: the bench database is shared
        db["NAME"] = f"file:{db['NAME']}?mode=ro"
        db["OPTIONS"] = {"timeout": 20}
    from xinfang.exports import writer
    from xinfang.ledger import exporting as ledger
    from xinfang.orgs.models import User

    user = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    kind = ledger.EXPORT_KIND
    qs = ledger.ledger_queryset(user, {})
    if LIMIT:
        qs = qs[:LIMIT]
    baseline = _rss_mb()
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xlsx"
        started = time.perf_counter()
        with writer.private_file(path) as out:
            rows = writer.write_xlsx(
                out,
                sheet=kind.sheet,
                columns=kind.columns,
                rows=ledger.export_rows(qs, user=user),
                progress=reports.append,
            )
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "baseline_mb": baseline,
                "peak_mb": _rss_mb(),
                "file_mb": size / 1e6,
                "progress_reports": len(reports),
            }
        )
    )


def main() -> None:
    if DB_URL.startswith("sqlite:///") and not Path(DB_URL.removeprefix("sqlite:///")).exists():
        print(
            f"# export_bench: no bench database at {DB_URL}; run `BENCH_CASES={CASES} make bench` "
            "first to build it. Skipped."
        )
        return
    done = subprocess.run(
        [sys.executable, __file__, "--child"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"# export_bench: the export failed:\n{done.stderr[-2000:]}")
        sys.exit(1)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # the machine may be shared: rows per CPU second too
    common = {"cases": CASES, "rows": figures["rows"], "command": COMMAND}
    print(
        json.dumps(
            {
                "name": "export_rows_per_s",
                "value": round(figures["rows"] / figures["seconds"], 1),
                "unit": "1/s",
                **common,
                "seconds": round(figures["seconds"], 1),
                "cpu_s": round(cpu, 1),
                "rows_per_cpu_s": round(figures["rows"] / cpu, 1),
                "file_mb": round(figures["file_mb"], 1),
            }
        )
    )
    print(
        json.dumps(
            {
                "name": "export_peak_mb",
                "value": round(peak, 1),
                "unit": "MB",
                **common,
                "baseline_mb": round(figures["baseline_mb"], 1),
                "target_mb": TARGET_MB,
                "ok": peak < TARGET_MB,
            }
        )
    )


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
