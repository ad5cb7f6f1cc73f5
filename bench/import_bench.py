"""Ledger import speed: rows per second of `ledger.import_ledger` (validation + write).

    .venv/bin/python bench/import_bench.py    # BENCH_IMPORT_ROWS=50000, BENCH_IMPORT_REPEAT=3

Builds an .xlsx of valid rows in a temporary folder, imports it into a fresh SQLite database
(a temporary file, migrated here) and prints one JSON line per file layout: the median of
BENCH_IMPORT_REPEAT runs, each in a fresh process and database, with every run's figure. File
generation is not timed. Two layouts:

* `import_per_s`: the file as Excel and WPS save it, text in the shared-strings table (written
  with XlsxWriter, which follows Excel's layout);
* `import_inline_strings_per_s`: the file as openpyxl saves it, every text inline in the sheet
  with each Chinese character as an XML character reference (2.7 times the XML to parse).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# BENCH_IMPORT_PG_URL=postgres://postgres@127.0.0.1:5432/postgres: import into a new PostgreSQL
# database (created under that server, dropped afterwards) instead of a new SQLite file.
PG_URL = os.environ.get("BENCH_IMPORT_PG_URL", "")
# BENCH_IMPORT_BASE=var/bench-1000000.sqlite3: import into a copy of that (demo) database, so the
# figure holds for an office that already has a million matters. The copy is not timed.
BASE = os.environ.get("BENCH_IMPORT_BASE", "")
PG_DB = f"xinfang_import_bench_{os.getpid()}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def _fresh_postgres() -> str:
    _admin(f"CREATE DATABASE {PG_DB}")
    return PG_URL.rsplit("/", 1)[0] + "/" + PG_DB


def _drop_postgres() -> None:
    from django.db import connections

    connections.close_all()
    _admin(f"DROP DATABASE IF EXISTS {PG_DB}")


def _setup(folder: str) -> None:
    os.environ["DATABASE_URL"] = (
        _fresh_postgres() if PG_URL else f"sqlite:///{folder}/bench.sqlite3"
    )
    if BASE and not PG_URL:
        shutil.copyfile(BASE, f"{folder}/bench.sqlite3")
        os.sync()  # else the import's first fsync also writes out the whole fresh copy
    os.environ["XINFANG_VAR_DIR"] = folder
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinfang.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _org():
    """The importing office and the places and category the file names (new names, so that they
    are unique also in a database that already holds demo data)."""
    from xinfang.orgs.models import Category, Place, Unit

    county = Place.objects.create(code="439901", name="导入测试区")
    Place.objects.create(code="439901001", name="导入测试街道", parent=county)
    office = Unit.objects.create(
        name="导入测试区信访局",
        code="XF439901",
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.PETITION_OFFICE,
        place=county,
    )
    labour = Category.objects.create(code="DRLD", name="导入测试大类")
    Category.objects.create(code="DRLD01", name="导入测试小类", parent=labour)
    return office


def _ids(count: int) -> list[str]:
    from stdnum.cn import ric

    out = []
    for i in range(count):
        body = f"110105{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        out.append(body + ric.calc_check_digit(body + "0"))
    return out


def _when(i: int, rows: int) -> dt.datetime:
    """Row i's registration time: through 2025 in order, as a register (台帐) is kept, or with
    BENCH_IMPORT_ORDER=shuffled jumping between months from row to row."""
    if os.environ.get("BENCH_IMPORT_ORDER") == "shuffled":
        return dt.datetime(2025, 1 + i % 12, 1 + i % 28, 8 + i % 9, i % 60)
    return dt.datetime(2025, 1, 1, 8) + dt.timedelta(seconds=i * (364 * 86400 // rows))


def _rows(rows: int):
    ids = _ids(997)
    places = ["导入测试街道", "439901"]
    for i in range(rows):
        yield [
            _when(i, rows),
            ["来访", "来信", "网上", "来电"][i % 4],
            "申诉求决" if i % 5 else "建议意见",
            f"某小区物业拖欠维修基金第{i}号",
            f"本人反映某小区物业公司长期拖欠维修基金，电梯损坏{i % 30}天无人维修，请求督促处理。",
            places[i % 2],
            "导入测试大类/导入测试小类" if i % 3 else "DRLD01",
            f"王{i % 500}",
            ids[i % len(ids)],
            f"139{i:08d}",
            f"A1区东湖街道{i % 300}号",
            "否",
            1 + i % 3,
            None,
            None,
        ]


def _write_openpyxl(path: str, rows: int) -> None:
    from openpyxl import Workbook

    from xinfang.ledger.columns import COLUMNS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台帐")
    ws.append(COLUMNS)
    for row in _rows(rows):
        ws.append(row)
    wb.save(path)


def _write_excel(path: str, rows: int) -> None:
    import xlsxwriter

    from xinfang.ledger.columns import COLUMNS

    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("台帐")
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row(0, 0, COLUMNS)
    for r, row in enumerate(_rows(rows), 1):
        ws.write_datetime(r, 0, row[0], when)
        ws.write_row(r, 1, row[1:])
    wb.close()


LAYOUTS = {
    "excel": ("import_per_s", _write_excel),
    "openpyxl": ("import_inline_strings_per_s", _write_openpyxl),
}


def measure(layout: str, rows: int) -> None:
    name, write = LAYOUTS[layout]
    with tempfile.TemporaryDirectory() as folder:
        _setup(folder)
        office = _org()
        path = os.path.join(folder, "ledger.xlsx")
        write(path, rows)
        from xinfang.cases.models import Case
        from xinfang.ledger.importing import import_ledger

        before = Case.objects.count()
        started = time.perf_counter()
        result = import_ledger(path, office=office)
        seconds = time.perf_counter() - started
        if not result.ok or Case.objects.count() != before + rows:
            raise SystemExit(f"import failed: {result.messages[:5]}")
        database = "postgresql" if PG_URL else "sqlite"
        prefix = (
            f"BENCH_IMPORT_PG_URL={PG_URL} "
            if PG_URL
            else (f"BENCH_IMPORT_BASE={BASE} " if BASE else "")
        )
        print(
            json.dumps(
                {
                    "name": name,
                    "value": round(rows / seconds),
                    "unit": "1/s",
                    "cases": rows,
                    "database": database,
                    "already_in_database": before,
                    "seconds": round(seconds, 2),
                    "command": f"{prefix}BENCH_IMPORT_ROWS={rows} .venv/bin/python bench/import_bench.py",
                }
            ),
            flush=True,
        )
    if PG_URL:
        _drop_postgres()


def main() -> None:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
    if len(sys.argv) > 1:
        measure(sys.argv[1], rows)
        return
    repeat = int(os.environ.get("BENCH_IMPORT_REPEAT", "3"))
    for layout in LAYOUTS:  # each run in a fresh process and database; the median is reported
        runs = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, __file__, layout], check=True, capture_output=True, text=True
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        line = sorted(runs, key=lambda r: r["value"])[len(runs) // 2]
        line["runs"] = [r["value"] for r in runs]
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
