"""Benchmark of the petition routing classifier on the shared complaints data.

Reads train.csv and dev.csv from $XINFANG_SHARED/data/complaints (default: the repository's
../shared), trains, evaluates on dev, and times training and prediction on one core.
Prints a '#' line with the command, then one JSON object per line.

    .venv/bin/python bench/routing_bench.py [--save PATH]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xinfang.routing import classifier  # noqa: E402


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
            {"name": name, "value": round(value, 4), "unit": unit, **extra, "command": COMMAND},
            ensure_ascii=False,
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--save", help="also write the trained model to this path")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])  # one core for everything
    print("# " + shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)
    train_rows = classifier.read_csv(data_dir() / "train.csv")
    dev_rows = classifier.read_csv(data_dir() / "dev.csv")
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
    if args.save:
        classifier.save(model, args.save, {"scores": {"dev": scores}})


if __name__ == "__main__":
    main()
