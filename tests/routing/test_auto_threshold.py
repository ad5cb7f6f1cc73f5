"""Automatic routing (智能派单): the threshold for the office's target precision, chosen on
cross-validated training data, stored with the model and printed by `routing evaluate`."""

from __future__ import annotations

import io
import json
import random

import joblib
import numpy as np
import pytest
from django.core.management import call_command

from tests.routing.helpers import write_csv
from tests.routing.test_classifier import TOPICS, make_rows
from xinfang.routing import autoconf, classifier, features

AUTO_KEYS = {"auto_threshold", "auto_precision", "auto_coverage", "auto_n"}


def noisy_rows(n_per_label: int, seed: int, flip: float = 0.1) -> list[features.Row]:
    """make_rows with a share of labels swapped at random, so cross-validation makes errors."""
    rng = random.Random(seed)
    labels = list(TOPICS)
    return [
        features.Row(r.title, r.content, rng.choice(labels)) if rng.random() < flip else r
        for r in make_rows(n_per_label, seed)
    ]


@pytest.fixture(scope="module")
def recorded(request):
    """A model trained on noisy rows, with what train() passed to choose_threshold."""
    calls = []
    original = classifier.choose_threshold

    def spy(confidence, correct, target, *args, **kwargs):
        calls.append((np.array(confidence), np.array(correct), target))
        return original(confidence, correct, target, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(classifier, "choose_threshold", spy)
    rows = noisy_rows(30, seed=11)
    try:
        model = classifier.train(rows, features.Config(target_precision=0.85))
    finally:
        mp.undo()
    return model, rows, calls


@pytest.fixture(scope="module")
def model(recorded):
    return recorded[0]


# ----------------------------------------------------------------------------- the choice


def test_threshold_is_the_lowest_whose_every_higher_cut_meets_the_target():
    # ranked: 10 right, 1 wrong (10/11 = 0.909), 9 right (19/20), 2 wrong (19/21, 19/22 = 0.864)
    confidence = np.linspace(1.0, 0.5, 22)
    correct = np.array([1] * 10 + [0] + [1] * 9 + [0, 0], dtype=bool)

    def choose(target, correct=correct, min_rows=1):
        return autoconf.choose_threshold(confidence, correct, target, min_rows=min_rows, z=0)

    assert choose(0.9) == confidence[20]
    # 0.95 fails at the 11th row already: only the first ten qualify
    assert choose(0.95) == confidence[9]
    # counted from 20 rows on, the dip before is ignored: 19/20 = 0.95 holds, 19/21 fails
    assert choose(0.95, min_rows=20) == confidence[19]
    assert choose(0.5, correct=~correct) is None
    assert autoconf.choose_threshold(np.zeros(0), np.zeros(0, bool), 0.9) is None


def test_a_count_too_small_to_vouch_for_the_target_routes_nothing():
    """The chosen cut's precision must hold as a lower bound: 20 right of 20 does not show 90 %."""
    confidence = np.linspace(1.0, 0.5, 30)
    correct = np.ones(30, dtype=bool)
    assert autoconf.choose_threshold(confidence[:20], correct[:20], 0.9, z=0) == confidence[19]
    assert autoconf.choose_threshold(confidence[:20], correct[:20], 0.9) is None
    # 30 of 30: the Wilson bound 30 / (30 + 1.645²) = 0.917 clears 0.9
    assert autoconf.choose_threshold(confidence, correct, 0.9) == confidence[29]
    bound = autoconf.wilson_lower_bound(np.array([1.0, 0.98]), np.array([30, 5000]), 1.645)
    assert bound == pytest.approx([30 / (30 + 1.645**2), 0.97647], abs=1e-4)


def test_a_cut_never_splits_equal_confidences():
    confidence = np.array([0.9, 0.8, 0.8, 0.8, 0.1])
    correct = np.array([1, 1, 0, 1, 0], dtype=bool)  # 3/4 at 0.8
    assert autoconf.choose_threshold(confidence, correct, 0.75, min_rows=1, z=0) == 0.8
    assert autoconf.choose_threshold(confidence, correct, 0.8, min_rows=1, z=0) == 0.9


def test_threshold_is_chosen_on_out_of_fold_predictions(recorded):
    model, rows, calls = recorded
    assert len(calls) == 1
    confidence, correct, target = calls[0]
    assert target == 0.85 and len(correct) == len(rows)
    # the rows judged are the out-of-fold predictions (each from a model that did not see
    # the row), not the final model's predictions of its own training rows
    config = model.config
    docs = [features.analyze(r, config, model.segmenter) for r in rows]
    y = np.array([model.labels.index(r.label) for r in rows])
    oof = classifier._out_of_fold_members(docs, y, len(model.labels), config)
    weights = np.array(config.member_weights)
    _, oof_top = autoconf.confidence_features(oof, weights, model.temperature)
    assert np.array_equal(correct, oof_top == y)
    in_sample = classifier.evaluate(model, rows)
    assert correct.mean() < in_sample["accuracy"]
    threshold = model.auto_threshold
    assert threshold == autoconf.choose_threshold(confidence, correct, 0.85)
    assert correct[confidence >= threshold].mean() >= 0.85
    meta = model.metadata
    assert meta["auto_threshold"] == threshold and meta["auto_target"] == 0.85
    assert meta["auto_cv_precision"] == pytest.approx(correct[confidence >= threshold].mean())
    assert meta["auto_cv_coverage"] == pytest.approx((confidence >= threshold).mean())
    assert 0 < meta["auto_cv_coverage"] < 1
    assert meta["cv_macro_f1"] < in_sample["macro_f1"]
    assert meta["cv_macro_f1"] == pytest.approx(correct.mean(), abs=0.1)


def test_clean_data_routes_on_the_top1_probability():
    """No out-of-fold error to learn from: the confidence is the top-1 probability itself."""
    model = classifier.train(make_rows(12, seed=21), features.Config(target_precision=0.9))
    title, content = "A市小区物业违规施工", "物业在小区里施工，房屋拆迁。"
    label, confidence = model.auto_confidence(title, content)
    assert (label, confidence) == pytest.approx(model.predict_top(title, content, k=1)[0])
    assert model.auto_threshold is not None


# ----------------------------------------------------------------------------- the model


def test_fast_single_path_equals_the_batch_path(model):
    cases = [(r.title, r.content) for r in make_rows(2, seed=31)] + [
        ("", ""),
        ("未知字符𠀀😀", "xyz 123\n物业\t施工"),
    ]
    labels, confidences = model.auto_confidences(cases)
    for (title, content), label, confidence in zip(cases, labels, confidences, strict=True):
        fast_label, fast = model.auto_confidence(title, content)
        assert fast_label == label == model.predict_top(title, content, k=1)[0][0]
        assert fast == pytest.approx(confidence, abs=1e-12, rel=0)
        assert 0.0 <= fast <= 1.0


def test_auto_route_label_only_at_or_above_the_threshold(model):
    title, content = "A市小区物业违规施工", "物业在小区里施工，房屋拆迁。"
    label, confidence = model.auto_confidence(title, content)
    saved = model.auto.threshold
    try:
        model.auto.threshold = confidence
        assert model.auto_route_label(title, content) == label
        model.auto.threshold = np.nextafter(confidence, 2.0)
        assert model.auto_route_label(title, content) is None
    finally:
        model.auto.threshold = saved


def test_threshold_is_saved_and_reloaded(model, tmp_path):
    path = tmp_path / "auto.joblib"
    classifier.save(model, path)
    assert joblib.load(path)["format_version"] == classifier.FORMAT_VERSION == 3
    loaded = classifier.load(path)
    assert loaded.auto_threshold == model.auto_threshold is not None
    assert loaded.auto.target == 0.85
    for key in ("auto_threshold", "auto_target", "auto_cv_precision", "cv_macro_f1"):
        assert loaded.metadata[key] == model.metadata[key]
    title, content = "B县医院药品太贵", "医院的药品价格很高"
    assert loaded.auto_confidence(title, content) == model.auto_confidence(title, content)


def test_version_2_file_loads_with_automatic_routing_off(model, tmp_path):
    path = tmp_path / "v2.joblib"
    classifier.save(model, path)
    payload = joblib.load(path)
    payload["format_version"] = 2
    del payload["state"]["auto"]
    del payload["state"]["config"]["target_precision"]
    for key in ("auto_threshold", "auto_target", "auto_cv_precision", "auto_cv_coverage"):
        del payload["metadata"][key]
    joblib.dump(payload, path)
    old = classifier.load(path)
    assert old.auto is None and old.auto_threshold is None
    assert old.auto_route_label("A市小区物业违规施工", "物业在小区里施工。") is None
    label, confidence = old.auto_confidence("A市小区物业违规施工", "物业在小区里施工。")
    assert (label, confidence) == pytest.approx(
        old.predict_top("A市小区物业违规施工", "物业在小区里施工。", k=1)[0]
    )
    scores = classifier.evaluate(old, make_rows(2, seed=41))
    assert scores["auto_threshold"] is None and scores["auto_n"] == 0
    assert scores["auto_coverage"] == 0.0 and scores["auto_precision"] is None


# ----------------------------------------------------------------------------- the command


def run(*args) -> str:
    out = io.StringIO()
    call_command("routing", *args, stdout=out)
    return out.getvalue()


def test_train_takes_the_target_and_evaluate_prints_the_auto_figures(tmp_path):
    train_csv = write_csv(tmp_path / "train.csv", noisy_rows(20, seed=51))
    dev_rows = make_rows(6, seed=52)
    dev_csv = write_csv(tmp_path / "dev.csv", dev_rows)
    path = tmp_path / "m.joblib"
    run("train", "--csv", str(train_csv), "--model", str(path), "--target-precision", "0.85")
    model = classifier.load(path)
    assert model.metadata["auto_target"] == model.auto.target == 0.85

    lines = run("evaluate", str(dev_csv), "--model", str(path)).strip().splitlines()
    assert len(lines) == 1
    scores = json.loads(lines[0])
    assert set(scores) >= AUTO_KEYS and "macro_f1" in scores
    assert scores["auto_threshold"] == model.auto_threshold
    labels, confidence = model.auto_confidences(dev_rows)
    routed = confidence >= model.auto_threshold
    assert scores["auto_n"] == int(routed.sum())
    assert scores["auto_coverage"] == pytest.approx(routed.mean())
    right = np.array([p == r.label for p, r in zip(labels, dev_rows, strict=True)])
    assert scores["auto_precision"] == pytest.approx(right[routed].mean())


def test_train_refuses_a_target_outside_0_1(tmp_path):
    from django.core.management import CommandError

    train_csv = write_csv(tmp_path / "train.csv", make_rows(5, seed=61))
    with pytest.raises(CommandError, match="目标准确率"):
        run("train", "--csv", str(train_csv), "--model", str(tmp_path / "m.joblib"),
            "--target-precision", "1.5")  # fmt: skip
