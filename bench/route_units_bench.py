"""Sub-category and unit from history (相似事项) against the dispatch catalogue (派单目录) alone.

Builds (once) a demo county with ROUTE_DEMO_CASES matters (default 3,000, `xinfang demo --no-fill`,
seed 2026) in var/route-units-<N>.sqlite3, or reads ROUTE_DEMO_DATABASE_URL, then measures on
its confirmed matters (category set, routed, accepted by the lead unit):

- loo: leave-one-out. Each matter is hidden and its sub-category and unit predicted from the others.
- month: a held-out month. The last complete calendar month (Beijing time) is predicted from the
  matters registered and accepted before it.

The first-level category given is the matter's own (the classifier's part is measured elsewhere),
so the figures are those of the mapping label → sub-category and unit. "history" is what the
panel shows: history where there are enough precedents, the catalogue elsewhere.
`unit_acc_catalogue_of_true_subcategory` is a reference, not a method: the catalogue's line for
the matter's own sub-category. The demo routes every matter by exactly that line (20 % of the
education bureau's matters go to a school at random instead), so on the demo history can gain
only by choosing the sub-category; it cannot show an office whose practice departs from its
catalogue (the tests do). Prints one JSON line per figure:
{"name", "value", "unit", "n", "cases", "command"}.

    .venv/bin/python bench/route_units_bench.py
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("ROUTE_DEMO_CASES", "3000"))
DB_URL = os.environ.get(
    "ROUTE_DEMO_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'route-units-{CASES}.sqlite3'}"
)
COMMAND = f"ROUTE_DEMO_CASES={CASES} .venv/bin/python bench/route_units_bench.py"

os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
sys.path.insert(0, str(ROOT))


def emit(name: str, value: float, unit: str, **extra) -> None:
    line = {"name": name, "value": round(value, 4), "unit": unit, "cases": CASES}
    line.update(extra)
    line["command"] = COMMAND
    print(json.dumps(line, ensure_ascii=False), flush=True)


def build() -> None:
    from django.core.management import call_command

    from xinfang.cases.models import Case

    call_command("migrate", verbosity=0)
    if not Case.objects.exists():
        print(f"# building the demo county ({CASES} matters) in {DB_URL}", flush=True)
        call_command("demo", cases=CASES, seed=2026, fill=False, stdout=io.StringIO())


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


def evaluate(targets, *, before: dt.datetime | None) -> dict:
    """Accuracy of history (with the catalogue where it has too little) and of the catalogue."""
    from xinfang.routing import engine, history

    tally = dict.fromkeys(
        (
            "n",
            "covered",
            "sub_h",
            "sub_c",
            "unit_h",
            "unit_c",
            "unit_ref",
            "cov_unit_h",
            "cov_unit_c",
        ),
        0,
    )
    for case in targets:
        top = case.category.parent or case.category
        cat_sub, cat_unit = engine.catalogue_pick(top, case.place_id)
        pick = history.history_pick(
            title=case.title,
            content=case.content,
            place_id=case.place_id,
            tops=[top],
            exclude_ids=(case.pk,),
            before=before,
        ).get(top.pk)
        sub, unit = cat_sub, cat_unit
        if pick is not None and pick.unit is not None:
            sub, unit = pick.subcategory or cat_sub, pick.unit
            tally["covered"] += 1
            tally["cov_unit_h"] += _pk(unit) == case.lead_unit_id
            tally["cov_unit_c"] += _pk(cat_unit) == case.lead_unit_id
        # reference: the catalogue's line for the matter's true sub-category (the demo's routes)
        tally["unit_ref"] += _pk(engine.catalogue_pick(case.category, case.place_id)[1]) == (
            case.lead_unit_id
        )
        tally["n"] += 1
        tally["sub_h"] += _pk(sub) == case.category_id
        tally["sub_c"] += _pk(cat_sub) == case.category_id
        tally["unit_h"] += _pk(unit) == case.lead_unit_id
        tally["unit_c"] += _pk(cat_unit) == case.lead_unit_id
    return tally


def report(kind: str, tally: dict, seconds: float, **extra) -> None:
    n = tally["n"] or 1
    covered = tally["covered"] or 1
    for name, key in (
        ("sub_acc_history", "sub_h"),
        ("sub_acc_catalogue", "sub_c"),
        ("unit_acc_history", "unit_h"),
        ("unit_acc_catalogue", "unit_c"),
        ("unit_acc_catalogue_of_true_subcategory", "unit_ref"),
    ):
        emit(f"route_units_{kind}_{name}", tally[key] / n, "ratio", n=tally["n"], **extra)
    emit(
        f"route_units_{kind}_history_coverage",
        tally["covered"] / n,
        "ratio",
        n=tally["n"],
        unit_acc_history_where_covered=round(tally["cov_unit_h"] / covered, 4),
        unit_acc_catalogue_where_covered=round(tally["cov_unit_c"] / covered, 4),
        ms_per_matter=round(seconds * 1000 / n, 2),
        **extra,
    )


def main() -> None:
    import django

    django.setup()
    build()
    from django.db.models import Max

    from xinfang.cases.clocks import LOCAL
    from xinfang.cases.models import Case

    # every routed matter the lead unit accepted (of every kind, though reports never vote)
    confirmed = (
        Case.objects.filter(
            category__isnull=False, lead_unit__isnull=False, accepted_at__isnull=False
        )
        .select_related("category__parent")
        .order_by("id")
    )
    targets = list(confirmed)
    started = time.perf_counter()
    report("loo", evaluate(targets, before=None), time.perf_counter() - started)

    newest = confirmed.aggregate(at=Max("registered_at"))["at"].astimezone(LOCAL)
    month_end = dt.datetime(newest.year, newest.month, 1, tzinfo=LOCAL)  # last complete month
    month_start = (month_end - dt.timedelta(days=1)).replace(day=1)
    held_out = [c for c in targets if month_start <= c.registered_at < month_end]
    started = time.perf_counter()
    tally = evaluate(held_out, before=month_start)
    report("month", tally, time.perf_counter() - started, month=f"{month_start:%Y-%m}")


if __name__ == "__main__":
    main()
