"""Reply suggestions (答复参考) at the benchmark's size: p95 of the similar-reply search.

What the case page's panel runs for a matter being answered, `selectors.similar_replies(case)`:
the knowledge base's freshness check (two index look-ups), the in-memory TF-IDF search, and the
fetch of the entries found. It never reads the matters table beyond the matter itself, so its
cost follows the knowledge base (starter replies + the office's newest replies, capped by
XINFANG_ANSWERS_INDEX_MAX), not the number of matters.

With BENCH_DATABASE_URL (the PostgreSQL bench database of `make bench`) the queries are matters
picked at random from it; otherwise a SQLite file of its own (var/answers-bench.sqlite3) and the
messages of replies.csv. Either way the knowledge base is filled once: the starter file,
then BENCH_ANSWERS office replies (default 50,000, made by recombining the starter texts).
Prints JSON lines (name, value, unit, cases, command):

    reply_suggest_p95_ms   the panel's search, p95 over BENCH_QUERIES matters
    reply_first_search_ms  a new process's first search with the index file a former process
                           saved (load + catch up + search), beside index_build_ms: the same
                           first search with no file (the full build a process did before)
    reply_check_p95_ms     the four draft checks of a reply, p95
    BENCH_CASES=1000000 .venv/bin/python bench/answers_bench.py
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
BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / f'bench-{CASES}.sqlite3'}"
)
OWN_URL = f"sqlite:///{ROOT / 'var' / 'answers-bench.sqlite3'}"
QUERIES = int(os.environ.get("BENCH_QUERIES", "200"))
ANSWERS = int(os.environ.get("BENCH_ANSWERS", "50000"))
COMMAND = f"BENCH_CASES={CASES} .venv/bin/python bench/answers_bench.py"


def _database_url() -> tuple[str, bool]:
    """(the URL, whether it is the bench database of BENCH_CASES matters). The SQLite bench
    database is left alone (other benches share it, and the search never reads the matters):
    this bench fills its own file, unless BENCH_DATABASE_URL names a database to use."""
    if "BENCH_DATABASE_URL" in os.environ:
        return BENCH_URL, True
    return OWN_URL, False


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def _fill(rows: list[dict]) -> dict:
    """The starter file, then office replies up to ANSWERS (recombined starter texts)."""
    from django.utils import timezone

    from xinfang.answers import services
    from xinfang.answers.models import ReplyEntry, Source

    started = time.perf_counter()
    services.starter_load(None, rows=rows)
    have = ReplyEntry.objects.filter(source=Source.OFFICE).count()
    usable = [r for r in rows if r.get("title") and r.get("reply")]
    now = timezone.now()
    batch = []
    for i in range(have, ANSWERS):
        a, b = usable[i % len(usable)], usable[(i * 7 + 3) % len(usable)]
        batch.append(
            ReplyEntry(
                source=Source.OFFICE,
                title=a["title"][:200],
                message=(a.get("content") or "")[:300] + (b.get("content") or "")[:100],
                reply=a["reply"],
                unit_name="示范单位",
                replied_at=now - timezone.timedelta(minutes=i),
            )
        )
        if len(batch) >= 5000:
            ReplyEntry.objects.bulk_create(batch)
            batch = []
    ReplyEntry.objects.bulk_create(batch)
    return {"fill_s": round(time.perf_counter() - started, 1), "office_added": ANSWERS - have}


def _queries(is_bench: bool, rows: list[dict]) -> list:
    from django.db.models import Max

    from xinfang.cases.models import Case

    rng = random.Random(1)
    if is_bench:
        top = Case.objects.aggregate(top=Max("id"))["top"] or 0
        if top:
            ids = [rng.randint(1, top) for _ in range(QUERIES * 2)]
            picked = list(Case.objects.filter(id__in=ids).only("id", "title", "content")[:QUERIES])
            if picked:
                return picked
    picks = rng.sample(rows, min(QUERIES, len(rows)))
    # unsaved stand-ins with ids no entry refers to: the search is the same
    return [
        Case(pk=10**12 + i, title=r["title"], content=r["content"]) for i, r in enumerate(picks)
    ]


def main() -> None:
    url, is_bench = _database_url()
    os.environ["DATABASE_URL"] = url
    os.environ["XINFANG_ANSWERS_INDEX_MAX"] = str(max(ANSWERS, 1))  # the index holds them all
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from xinfang.answers import checks, conf, index, selectors, services

    path = conf.replies_csv()
    try:
        rows = list(services.read_starter(path))
    except services.StarterFileError as exc:
        print(f"# answers_bench: {exc}. Skipped.")
        return
    call_command("migrate", "answers", verbosity=0, interactive=False)  # and what it needs
    filled = _fill(rows)
    cases = _queries(is_bench, rows)
    saved = index._file()
    if saved is not None:
        saved.unlink(missing_ok=True)  # a process with no saved index: it builds (and saves) it
    index.reset()
    started = time.perf_counter()
    selectors.similar_replies(cases[0])  # the process's first search builds the index
    build_ms = (time.perf_counter() - started) * 1000
    index.reset()  # as a new process: nothing in memory, the file the build saved
    started = time.perf_counter()
    selectors.similar_replies(cases[1 % len(cases)])
    first_ms = (time.perf_counter() - started) * 1000
    for case in cases[:5]:
        selectors.similar_replies(case)
    samples, found = [], []
    for case in cases:
        started = time.perf_counter()
        found.append(len(selectors.similar_replies(case)))
        samples.append((time.perf_counter() - started) * 1000)
    counts = selectors.knowledge_counts()
    base = {
        "cases": CASES if is_bench else 0,
        "command": COMMAND,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
    }
    print(
        json.dumps(
            {
                "name": "reply_suggest_p95_ms",
                "value": round(_p95(samples), 2),
                "unit": "ms",
                **base,
                "queries": len(samples),
                "median_ms": round(statistics.median(samples), 2),
                "mean_found": round(statistics.mean(found), 2),
                "knowledge": counts,
                "index_build_ms": round(build_ms, 1),
                **filled,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "name": "reply_first_search_ms",
                "value": round(first_ms, 1),
                "unit": "ms",
                **base,
                "entries": counts["office"] + counts["starter"],
                "index_build_ms": round(build_ms, 1),
                "index_file": str(saved) if saved is not None else None,
                "index_file_mb": round(saved.stat().st_size / 2**20, 1)
                if saved is not None and saved.exists()
                else None,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    checked = []
    for r in rows[:QUERIES]:
        started = time.perf_counter()
        checks.check_draft(r["reply"], title=r["title"], content=r["content"])
        checked.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "name": "reply_check_p95_ms",
                "value": round(_p95(checked), 2),
                "unit": "ms",
                **base,
                "replies": len(checked),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
