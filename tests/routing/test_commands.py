"""`xinfang routing train|evaluate|predict|report`: real runs on small synthetic data."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import bj, register
from tests.routing.helpers import synthetic_rows, write_csv
from xinfang.cases import services
from xinfang.routing import classifier


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("routing", *args, stdout=out)
    return out.getvalue()


def test_train_from_csv_then_evaluate_prints_one_json_line(tmp_path, db):
    rows = synthetic_rows()
    train_csv = write_csv(tmp_path / "train.csv", rows[:70])
    dev_csv = write_csv(tmp_path / "dev.csv", rows[70:])
    model = tmp_path / "m.joblib"
    trained = json.loads(run("train", "--csv", str(train_csv), "--model", str(model)))
    assert trained["n_train"] == 70 and trained["source"] == "csv:train.csv"
    assert classifier.load(model).metadata["version"] == trained["version"]

    lines = run("evaluate", str(dev_csv), "--model", str(model)).strip().splitlines()
    assert len(lines) == 1
    scores = json.loads(lines[0])
    assert scores["n"] == 20
    assert scores["macro_f1"] > 0.8 and scores["accuracy"] > 0.8
    assert set(scores["per_class"]) == {"劳动和社会保障", "教育文体", "城乡建设"}
    assert set(scores["per_class"]["教育文体"]) == {"precision", "recall", "f1", "support"}


def test_predict_reads_title_and_content_from_stdin(with_model, monkeypatch, db):
    out = json.loads(
        run("predict", stdin="反映拖欠工资问题\n工地老板拖欠工资三个月\n", monkeypatch=monkeypatch)
    )
    assert out["top"][0]["label"] == "劳动和社会保障"
    assert len(out["top"]) == 3
    assert abs(sum(t["confidence"] for t in out["top"]) - 1) < 0.01
    single = json.loads(run("predict", stdin="孩子入学报名学校收费太高", monkeypatch=monkeypatch))
    assert single["top"][0]["label"] == "教育文体"


def test_without_a_model_the_commands_say_how_to_train(no_model, db, monkeypatch):
    with pytest.raises(CommandError, match="routing train"):
        run("predict", stdin="标题\n内容", monkeypatch=monkeypatch)


def test_train_from_the_offices_decided_matters(county, tmp_path, building):
    t = bj(2026, 9, 1, 9)
    topics = {
        county.wages: ("拖欠工资", "工地老板拖欠工资"),
        county.schooling: ("入学报名", "孩子入学报名难"),
        building: ("小区物业", "小区物业乱收费业主不满"),
    }
    for i in range(12):
        for category, (title, content) in topics.items():
            case = register(
                county, None, t, category=category, title=f"{title}{i}", content=f"{content}{i}次"
            )
            services.case_route(case=case, by=None, unit=county.hr, at=t)
    register(county, None, t, category=None, title="未分类", content="没有分类的事项不用于训练")
    model = tmp_path / "db.joblib"
    out = json.loads(run("train", "--model", str(model)))
    assert out["source"] == "cases" and out["n_train"] == 36
    assert sorted(out["labels"]) == ["劳动和社会保障", "城乡建设", "教育文体"]  # top-level names
    assert classifier.load(model).predict_top("小区物业", "物业乱收费")[0][0] == "城乡建设"


def test_train_refuses_too_little_data(db, tmp_path):
    with pytest.raises(CommandError, match="训练数据不足"):
        run("train", "--model", str(tmp_path / "x.joblib"))


def test_report_prints_json_for_a_month(db):
    out = json.loads(run("report", "--month", "2026-09"))
    assert out["month"] == "2026-09" and out["decided"] == 0 and out["taken_top1_rate"] is None
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("report", "--month", "09-2026")
