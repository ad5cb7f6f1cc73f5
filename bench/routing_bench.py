"""Benchmark of the petition routing classifier on the shared complaints data.

Reads train.csv and dev.csv from $XINFANG_SHARED/data/complaints (default: the repository's
../shared), trains, evaluates on dev, and times training and prediction on one core.
Prints a '#' line with the command, then one JSON object per line.

    .venv/bin/python bench/routing_bench.py [--save PATH] [--cv]

--cv adds routing_macro_f1_cv5_train: 5-fold cross-validated macro-F1 on train.csv, scored
on its `full` rows only (dev and the held-out set have no `tokens` rows), for choices that
should hold beyond dev.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - after the thread limits above
import contextlib  # noqa: E402 - after the thread limits above
import csv  # noqa: E402 - after the thread limits above
import json  # noqa: E402 - after the thread limits above
import random  # noqa: E402 - after the thread limits above
import shlex  # noqa: E402 - after the thread limits above
import statistics  # noqa: E402 - after the thread limits above
import subprocess  # noqa: E402 - after the thread limits above
import sys  # noqa: E402 - after the thread limits above
import time  # noqa: E402 - after the thread limits above
from pathlib import Path  # noqa: E402 - after the thread limits above

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xinfang.routing import classifier, features  # noqa: E402 - after the thread limits above


def data_dir() -> Path:
    """Folder holding train.csv and dev.csv."""
    shared = Path(os.environ.get("XINFANG_SHARED", REPO.parent / "shared"))
    return shared / "data" / "complaints"


def timed(func, *args):
    """Result, wall seconds and CPU seconds of func(*args)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


COMMAND = ".venv/bin/python bench/routing_bench.py"


def line(name: str, value: float, unit: str, **extra) -> None:
    """Print one metric as a JSON line (with the command that reproduces it)."""
    print(
        json.dumps(
            {"name": name, "value": round(value, 4), "unit": unit, "command": COMMAND, **extra},
            ensure_ascii=False,
        ),
        flush=True,
    )


def cross_validated_f1(path: Path, folds: int = 5) -> float:
    """Macro-F1 of out-of-fold predictions on the `full` rows of a labelled CSV."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    rows = features.read_csv(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        full = [r.get("text_kind", "full") != "tokens" for r in csv.DictReader(handle)]
    labels = [r.label for r in rows]
    predicted = [""] * len(rows)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fit_idx, held_idx in splitter.split(rows, labels):
        model = classifier.train([rows[i] for i in fit_idx])
        for i, label in zip(held_idx, model.predict([rows[i] for i in held_idx]), strict=True):
            predicted[i] = label
    kept = [i for i, keep in enumerate(full) if keep]
    return float(f1_score([labels[i] for i in kept], [predicted[i] for i in kept], average="macro"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--save", help="also write the trained model to this path")
    parser.add_argument("--cv", action="store_true", help="also 5-fold cross-validate on train")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])  # one core for everything
    print("# " + shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)
    train_rows = features.read_csv(data_dir() / "train.csv")
    dev_rows = features.read_csv(data_dir() / "dev.csv")
    model, train_s, _ = timed(classifier.train, train_rows)
    scores = classifier.evaluate(model, dev_rows)
    model.predict_top("热身", "预热分词与向量")
    _, single_s, single_cpu = timed(
        lambda: [model.predict_top(r.title, r.content) for r in dev_rows]
    )
    _, batch_s, batch_cpu = timed(model.predict_many, dev_rows)
    n = len(dev_rows)
    line(
        "routing_macro_f1_dev",
        scores["macro_f1"],
        "f1",
        cases=n,
        accuracy=round(scores["accuracy"], 4),
    )
    line(
        "routing_predictions_per_s",
        n / single_s,
        "1/s",
        mode="single predict_top calls, one core",
        cpu_per_s=round(n / single_cpu, 1),
        cases=n,
    )
    line(
        "routing_batch_predictions_per_s",
        n / batch_s,
        "1/s",
        mode="one predict_many call, one core",
        cpu_per_s=round(n / batch_cpu, 1),
        cases=n,
    )
    line("routing_train_s", train_s, "s", rows=len(train_rows), cores=1)
    if args.cv:
        line(
            "routing_macro_f1_cv5_train",
            cross_validated_f1(data_dir() / "train.csv"),
            "f1",
            folds=5,
            scored="text_kind=full rows",
            command=COMMAND + " --cv",
        )
    if args.save:
        classifier.save(model, args.save, {"scores": {"dev": scores}})
    auto_route_bench(model, dev_rows)


# ---------------------------------------------------------------- 智能派单 at registration


def _bench_database() -> tuple[str, int] | None:
    cases = int(os.environ.get("BENCH_CASES", "100000"))
    url = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{REPO / 'var' / f'bench-{cases}.sqlite3'}"
    )
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(
            f"# auto_route_ms: no bench database at {url}; run `BENCH_CASES={cases} make bench` "
            "first to build it. Skipped.",
            flush=True,
        )
        return None
    return url, cases


CHECKPOINTER = """
import django, time
django.setup()
from xinfang.worker.management.commands.worker import CHECKPOINT_SECONDS
from xinfang.worker.maintenance import checkpoint_wal, merge_search_index
while True:
    merge_search_index()
    checkpoint_wal()
    time.sleep(CHECKPOINT_SECONDS)
"""


@contextlib.contextmanager
def _checkpointer(url: str):
    """The worker's index merge and log checkpoint, in a process of its own, while the block runs."""
    if not url.startswith("sqlite"):
        yield
        return
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "xinfang.settings"}
    child = subprocess.Popen([sys.executable, "-c", CHECKPOINTER], env=env, cwd=REPO)
    try:
        yield
    finally:
        child.terminate()
        child.wait(timeout=10)


def auto_route_bench(model: classifier.Model, rows: list[features.Row]) -> None:
    """auto_route_ms: p95 of one registration with automatic routing (智能派单), on the bench
    database (BENCH_DATABASE_URL, or var/bench-<BENCH_CASES>.sqlite3): `case_register` of a
    dev message as the office's clerk, the automatic route included (it runs when the
    registration commits). Writes 2 x BENCH_AUTO_ROUTES matters (default 200) into that
    database: the same registrations are first timed with automatic routing off.

    On SQLite a second process merges the search index and checkpoints the write-ahead log about
    every second, as `xinfang worker` does beside the web in production (`_checkpointer`); the
    rest of the worker's duties are left out, so that they do not take the timed core.
    """
    found = _bench_database()
    if found is None:
        return
    url, cases = found
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    import tempfile

    import django

    django.setup()
    from django.test import override_settings
    from django.utils import timezone

    from xinfang.cases import services
    from xinfang.cases.models import State
    from xinfang.orgs.models import Place, Role, User
    from xinfang.routing import auto

    count = int(os.environ.get("BENCH_AUTO_ROUTES", "200"))
    clerk = User.objects.filter(role=Role.CLERK).select_related("unit").order_by("id").first()
    places = list(Place.objects.order_by("id"))
    threshold = auto.threshold_of(model)
    if threshold is None:
        print("# auto_route_ms: the model has no automatic-routing threshold. Skipped.")
        return

    first_phone = random.randrange(10**8)  # citizens differ: no one number's SMS budget fills up

    def register(i: int):
        row = rows[i % len(rows)]
        reg = services.Registration(
            office=clerk.unit,
            channel="visit",
            kind="appeal",
            title=(row.title or row.content[:20])[:120],
            content=row.content or row.title,
            place=places[i % len(places)],
            petitioner=services.Petitioner(
                name="基准", phone=f"138{(first_phone + i) % 10**8:08d}", address="测试路1号"
            ),
        )
        started, cpu = time.perf_counter(), time.process_time()
        case = services.case_register(reg, by=clerk, at=timezone.now()).case
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return wall * 1000, cpu * 1000, case.state == State.ROUTED

    def timed_run(on: bool) -> tuple[list[float], list[float], list[bool]]:
        with override_settings(XINFANG_AUTO_ROUTE=on):
            done = [register(i) for i in range(count + 5)][5:]  # the first load the model
        return [t for t, _, _ in done], [c for _, c, _ in done], [r for _, _, r in done]

    with tempfile.TemporaryDirectory() as tmp, _checkpointer(url):
        path = Path(tmp) / "model.joblib"
        classifier.save(model, path, {"version": "bench-auto"})
        with override_settings(XINFANG_ROUTING_MODEL=str(path)):
            if auto.paused_reason():  # a bench database paused by an earlier run
                auto.resume(by=None)
            # the same registrations without automatic routing, under the same load: the
            # part of the figure that is registration itself
            plain, plain_cpu, _ = timed_run(False)
            times, cpu, routed = timed_run(True)
    times_routed = [t for t, r in zip(times, routed, strict=True) if r]

    def p95(values: list[float]) -> float | None:
        return round(statistics.quantiles(values, n=20)[18], 2) if len(values) >= 20 else None

    line(
        "auto_route_ms",
        p95(times),
        "ms",
        stat="p95 of one registration with 智能派单 (route included when made)",
        routed_p95_ms=p95(times_routed),
        register_only_p95_ms=p95(plain),
        # CPU time of this process (SQLite runs in it): what a quiet core would take
        cpu_p95_ms=p95(cpu),
        register_only_cpu_p95_ms=p95(plain_cpu),
        routed_share=round(sum(routed) / len(routed), 4),
        threshold=round(threshold, 4),
        registrations=len(times),
        cases=cases,
        database="postgresql" if url.startswith("postgres") else "sqlite",
        load_1min=round(os.getloadavg()[0], 1),
        command=f"BENCH_CASES={cases} {COMMAND}",
    )


if __name__ == "__main__":
    main()
