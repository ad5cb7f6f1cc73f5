"""Similar-matter search at the benchmark's size: p95 of the candidate search + re-ranking.

Reads the bench database (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3); only reads.
For BENCH_QUERIES matters picked at random (fixed seed) it runs what the case page runs,
`xinfang.routing.selectors.similar_cases` as the office's clerk, and prints one JSON line:

    {"name": "similar_search_p95_ms", "value": ..., "unit": "ms", "cases": N, "command": ...}

and a second line, `route_suggest_history_p95_ms`: the panel's suggestion set for the same
matters (`xinfang.routing.engine.suggest`: one similar-matter search over confirmed matters,
then sub-category and unit per label from history or the catalogue). The classifier's part is
left out (a fixed top three: the matter's own first-level category and two others), so the
figure is what history and the catalogue add to a suggestion.

    BENCH_CASES=1000000 .venv/bin/python bench/similar_bench.py
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
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'bench-{CASES}.sqlite3'}"
)
QUERIES = int(os.environ.get("BENCH_QUERIES", "200"))
COMMAND = f"BENCH_CASES={CASES} .venv/bin/python bench/similar_bench.py"


def main() -> None:
    if DB_URL.startswith("sqlite:///") and not Path(DB_URL.removeprefix("sqlite:///")).exists():
        print(
            f"# similar_bench: no bench database at {DB_URL}; run `BENCH_CASES={CASES} make bench` "
            "first to build it. Skipped."
        )
        return
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Max

    from xinfang.cases.models import Case
    from xinfang.orgs.models import Role, User
    from xinfang.routing import selectors

    top = Case.objects.aggregate(top=Max("id"))["top"]
    if not top:
        print(f"# similar_bench: the bench database {DB_URL} holds no matters. Skipped.")
        return
    user = User.objects.filter(role=Role.CLERK, unit__kind="petition_office").order_by("id").first()
    user = user or User.objects.filter(is_superuser=True).first()
    rng = random.Random(1)
    picks = Case.objects.filter(id__in=[rng.randint(1, top) for _ in range(QUERIES * 2)]).only(
        "id", "title", "content", "place_id", "category_id"
    )[:QUERIES]
    picks = list(picks)

    def run(case) -> int:
        return len(
            selectors.similar_cases(
                user,
                title=case.title,
                content=case.content,
                place_id=case.place_id,
                exclude_ids=(case.pk,),
            )
        )

    for case in picks[:5]:  # warm the caches
        run(case)
    samples, found = [], []
    for case in picks:
        started = time.perf_counter()
        found.append(run(case))
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)
    print(
        json.dumps(
            {
                "name": "similar_search_p95_ms",
                "value": round(p95, 2),
                "unit": "ms",
                "cases": CASES,
                "command": COMMAND,
                "queries": len(samples),
                "median_ms": round(statistics.median(samples), 2),
                "mean_found": round(statistics.mean(found), 2),
                "user": f"{user.username} ({user.get_role_display()})" if user else None,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )

    suggest_line(picks)


class _FixedModel:
    """The classifier's part, fixed: the first-level category names given, in order."""

    metadata = {"version": "bench"}

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels

    def predict_top(self, title: str, content: str, k: int) -> list[tuple[str, float]]:
        return [(label, 1.0 / (i + 1)) for i, label in enumerate(self.labels[:k])]


def suggest_line(picks) -> None:
    """p95 of engine.suggest (history + catalogue) for the matters of the similar-search line."""
    from xinfang.orgs.models import Category
    from xinfang.routing import engine

    tops = list(Category.objects.filter(parent__isnull=True).values_list("id", "name"))
    parent_of = dict(Category.objects.values_list("id", "parent_id"))
    name_of = dict(tops)
    if not tops:
        return
    cases = [c for c in picks if c.category_id]

    def run(case) -> list:
        own = parent_of.get(case.category_id) or case.category_id
        labels = [name_of[own], *[n for pk, n in tops if pk != own][:2]]
        found = engine.suggest(
            title=case.title,
            content=case.content,
            place_id=case.place_id,
            model=_FixedModel(labels),  # type: ignore[arg-type]
        )
        return found.items if found else []

    for case in cases[:5]:  # warm the caches
        run(case)
    samples, from_history = [], 0
    for case in cases:
        started = time.perf_counter()
        items = run(case)
        samples.append((time.perf_counter() - started) * 1000)
        from_history += bool(items) and items[0].source == engine.HISTORY
    if not samples:
        return
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)
    print(
        json.dumps(
            {
                "name": "route_suggest_history_p95_ms",
                "value": round(p95, 2),
                "unit": "ms",
                "cases": CASES,
                "command": COMMAND,
                "queries": len(samples),
                "median_ms": round(statistics.median(samples), 2),
                "top_label_from_history": round(from_history / len(samples), 4),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
