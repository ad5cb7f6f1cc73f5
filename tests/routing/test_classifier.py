"""Tests of the routing classifier on synthetic Chinese messages (no shared data, no Django)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from xinfang.routing import classifier, features, scorers

TOPICS = {
    "城乡建设": ["小区", "物业", "施工", "房屋", "拆迁", "道路维修", "违章建筑"],
    "劳动和社会保障": ["工资", "社保", "养老保险", "拖欠", "劳动合同", "退休", "失业"],
    "教育文体": ["学校", "学生", "老师", "招生", "教材", "体育馆", "补课"],
    "商贸旅游": ["商家", "景区", "价格", "消费者", "超市", "门票", "促销"],
    "环境保护": ["污染", "噪音", "排放", "垃圾焚烧", "污水", "废气", "粉尘"],
    "卫生计生": ["医院", "医生", "药品", "疫苗", "计划生育", "诊所", "病人"],
    "交通运输": ["公交", "出租车", "地铁", "高速", "驾驶", "车站", "线路"],
}
FILLER = [
    "我们",
    "希望",
    "有关部门",
    "尽快",
    "处理",
    "反映",
    "问题",
    "严重",
    "请求",
    "解决",
    "附近",
    "居民",
]
PLACES = ["A市", "A1区", "B县", "C2镇", "D市"]


def make_rows(n_per_label: int, seed: int) -> list[features.Row]:
    """Messages mixing topic words with shared filler; ~15% of topic words come from another label."""
    rng = random.Random(seed)
    labels = list(TOPICS)
    rows = []
    for label in labels:
        for _ in range(n_per_label):
            words = []
            for _ in range(12):
                source = label if rng.random() > 0.15 else rng.choice(labels)
                words.append(
                    rng.choice(TOPICS[source]) if rng.random() < 0.5 else rng.choice(FILLER)
                )
            title = rng.choice(PLACES) + "".join(rng.sample(TOPICS[label], 2)) + "问题"
            rows.append(features.Row(title, "，".join(words) + "。", label))
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def model() -> classifier.Model:
    return classifier.train(make_rows(30, seed=1))


def test_learns_well_above_chance(model):
    held_out = make_rows(15, seed=2)
    result = classifier.evaluate(model, held_out)
    assert result["n"] == len(held_out)
    assert result["accuracy"] > 0.8  # chance is 1/7
    assert result["macro_f1"] > 0.8
    assert set(result["per_class"]) == set(TOPICS)
    assert all(stats["support"] == 15 for stats in result["per_class"].values())


def test_top_k_sorted_confidences(model):
    top = model.predict_top("A市小区物业违规施工", "物业在小区里施工，噪音很大，请尽快处理。", k=3)
    assert len(top) == 3
    assert top[0][0] == "城乡建设"
    confidences = [c for _, c in top]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    full = model.predict_top("A市小区物业违规施工", "物业在小区里施工。", k=len(TOPICS))
    assert sum(c for _, c in full) == pytest.approx(1.0)


def test_single_and_batch_predictions_agree(model):
    rows = make_rows(2, seed=3)
    batch = model.predict_many(rows, k=2)
    single = [model.predict_top(r.title, r.content, k=2) for r in rows]
    for b, s in zip(batch, single, strict=True):
        assert [label for label, _ in b] == [label for label, _ in s]
        assert [c for _, c in b] == pytest.approx([c for _, c in s])
    assert (
        model.predict_many([("B县医院药品太贵", "医院的药品价格很高")], k=1)[0][0][0] == "卫生计生"
    )
    assert model.predict_many([]) == []


def test_save_load_round_trip(model, tmp_path):
    path = tmp_path / "router.joblib"
    classifier.save(model, path, {"scores": {"dev_macro_f1": 0.5}})
    loaded = classifier.load(path)
    rows = make_rows(3, seed=4)
    assert loaded.predict_many(rows) == model.predict_many(rows)
    assert loaded.labels == model.labels
    meta = loaded.metadata
    assert meta["n_train"] == 30 * len(TOPICS)
    assert meta["labels"] == sorted(TOPICS)
    assert meta["scores"] == {"dev_macro_f1": 0.5}
    assert meta["trained_at"]
    assert {"python", "numpy", "scikit-learn", "jieba"} <= set(meta["libraries"])


def test_member_weights_and_title_scale_are_saved(model, tmp_path):
    assert [s.weight for s in model.scorers] == list(model.config.member_weights)
    assert model.config.member_weights == (1.0, 1.0, 0.5)
    path = tmp_path / "router.joblib"
    classifier.save(model, path)
    loaded = classifier.load(path)
    assert [s.weight for s in loaded.scorers] == [1.0, 1.0, 0.5]
    assert loaded.config.title_weight == model.config.title_weight == 0.7


def test_title_weight_changes_the_fitted_title_columns():
    rows = make_rows(10, seed=6)
    plain = classifier.train(rows, features.Config(title_weight=1.0, calibration_folds=0))
    scaled = classifier.train(rows, features.Config(title_weight=0.5, calibration_folds=0))
    n_title = len(plain.featurizer.title_chars.idf)
    assert not np.allclose(plain.scorers[0].weights[:n_title], scaled.scorers[0].weights[:n_title])
    # the word-level naive Bayes does not see the scale
    assert np.array_equal(plain.scorers[2].weights, scaled.scorers[2].weights)


def test_version_1_file_loads_with_equal_member_weights(model, tmp_path):
    import joblib

    path = tmp_path / "v1.joblib"
    classifier.save(model, path)
    payload = joblib.load(path)
    payload["format_version"] = 1
    for scorer in payload["state"]["scorers"]:
        del scorer["weight"]
    for key in ("title_weight", "member_weights"):
        del payload["state"]["config"][key]
    joblib.dump(payload, path)
    loaded = classifier.load(path)
    assert [s.weight for s in loaded.scorers] == [1.0, 1.0, 1.0]
    assert loaded.config.title_weight == 1.0
    fast = loaded.predict_top("A市小区物业违规施工", "物业在小区里施工。", k=len(TOPICS))
    slow = _reference_top(loaded, "A市小区物业违规施工", "物业在小区里施工。", len(TOPICS))
    assert [label for label, _ in fast] == [label for label, _ in slow]
    assert [c for _, c in fast] == pytest.approx([c for _, c in slow], abs=1e-12, rel=0)


def test_load_rejects_foreign_file(tmp_path):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"format": classifier.FORMAT_NAME, "format_version": 999}, path)
    with pytest.raises(ValueError, match="版本"):
        classifier.load(path)


def test_read_csv_with_bom_and_extra_columns(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,title,content,label,time\n1,标题一,内容一,城乡建设,2020/1/1\n", encoding="utf-8-sig"
    )
    assert features.read_csv(path) == [features.Row("标题一", "内容一", "城乡建设")]


def test_read_csv_missing_column_is_named_in_chinese(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,label\n标题,城乡建设\n", encoding="utf-8")
    with pytest.raises(ValueError, match="缺少必需的列：content"):
        features.read_csv(path)


def test_train_accepts_dicts_and_needs_two_labels():
    rows = [{"title": "小区物业", "content": "物业问题", "label": "城乡建设"}] * 4
    with pytest.raises(ValueError):
        classifier.train(rows)


def _reference_vectors(model: classifier.Model, doc: features.Analyzed) -> dict:
    """Sparse 'char' and 'word' vectors of one document as (indices, values), block by block."""
    result = {}
    for group, names in features.GROUPS.items():
        offset, parts = 0, []
        for name in names:
            block = getattr(model.featurizer, name)
            idx, values = block.vector(getattr(doc, name))
            parts.append((idx + offset, values))
            offset += len(block.idf)
        result[group] = (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
        )
    return result


def _reference_top(model: classifier.Model, title: str, content: str, k: int):
    """predict_top as first written: analyze + one vector per group + each scorer's weights."""
    doc = features.analyze(features.Row(title, content), model.config, model.segmenter)
    vectors = _reference_vectors(model, doc)

    def score_one(s: scorers.LinearScorer) -> np.ndarray:
        idx, values = vectors[s.group]
        return values @ s.weights[idx].astype(np.float64) + s.bias

    combined = sum(s.weight * scorers.standardize(score_one(s)) for s in model.scorers)
    return model._top(scorers.softmax(combined, model.temperature)[0], k)


def _reference_segment(segmenter: features.Segmenter, text: str) -> list[str]:
    """Greedy longest match by walking the prefixes one character at a time."""
    prefixes = {w[:i] for w in segmenter.lexicon for i in range(1, len(w) + 1)}
    out, i, n = [], 0, len(text)
    while i < n:
        best, j = i + 1, i + 1
        while j <= n and text[i:j] in prefixes:
            if text[i:j] in segmenter.lexicon:
                best = j
            j += 1
        out.append(text[i:best])
        i = best
    return out


def test_fast_single_prediction_matches_reference_path(model):
    rows = make_rows(3, seed=5)
    cases = [(r.title, r.content) for r in rows] + [
        ("", ""),
        ("问题", ""),
        ("", "物业"),
        ("未知字符𠀀😀", "xyz 123\n物业\t施工"),
        ("A市", "\ud800孤立代理"),
    ]
    for title, content in cases:
        fast = model.predict_top(title, content, k=len(TOPICS))
        slow = _reference_top(model, title, content, len(TOPICS))
        assert [label for label, _ in fast] == [label for label, _ in slow]
        assert [c for _, c in fast] == pytest.approx([c for _, c in slow], abs=1e-12, rel=0)


def test_segmenter_is_greedy_longest_match():
    segmenter = features.Segmenter.from_words(["物业", "物业费", "物业管理处", "管理", "a", "ab"])
    for text in ["物业管理处收物业费", "物业管理", "物业管", "物", "", "abab物业费用", "费物业"]:
        assert segmenter.segment(text) == _reference_segment(segmenter, text)
    assert segmenter.segment("物业管理处收物业费") == ["物业管理处", "收", "物业费"]
