"""Petition routing classifier: predicts the first-level category of a message.

Pure Python (numpy, scipy, scikit-learn, jieba); no Django. The model is an ensemble of
three linear scorers over TF-IDF features of the title and the content, kept separate:

* a linear SVM on character 1-2-grams,
* an NB-SVM (naive-Bayes log-count-ratio scaled SVM, one-vs-rest) on the same features,
* a complement naive Bayes on jieba word unigrams.

Each scorer's class scores are standardised per text and summed with a weight per member
(the word-level naive Bayes, the weakest, counts half); a softmax with a temperature
fitted on out-of-fold scores of the training data turns the sum into confidences that
sum to 1. The character title block is scaled down (title_weight) before the SVMs are fit:
with title and content each l2-normalised, an equal weight let short titles dominate.

Automatic routing (智能派单) uses its own confidence, "the top-1 label is right", fitted on
the same out-of-fold scores, and a threshold for the office's target precision chosen on
them (autoconf.py); the threshold is never chosen on data the model is evaluated on.

The saved file holds only builtins and numpy arrays (vocabularies, idf, weights), so it
does not depend on pickled scikit-learn objects.

This module holds the model, training, evaluation and the saved file; the parts live beside it:
features.py (rows, text, TF-IDF blocks), scorers.py (the three members and the calibration),
predictor.py (the fast path of predict_top), autoconf.py (the confidence of automatic routing).
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from xinfang.routing.autoconf import (
    AutoConfidence,
    auto_figures,
    choose_threshold,
    confidence_features,
    fit_confidence,
)
from xinfang.routing.features import (
    BLOCKS,
    Analyzed,
    Config,
    Featurizer,
    Row,
    Segmenter,
    TfidfBlock,
    analyze,
    as_row,
    normalize,
)
from xinfang.routing.predictor import SinglePredictor
from xinfang.routing.scorers import (
    LinearScorer,
    fit_scorers,
    fit_temperature,
    softmax,
    standardize,
)

FORMAT_NAME = "xinfang-routing-classifier"
FORMAT_VERSION = 3
#: versions load() reads; version 1 files lack the member weights (all 1.0), versions 1 and 2
#: the automatic-routing confidence (loaded with automatic routing off)
READABLE_VERSIONS = (1, 2, 3)


# ----------------------------------------------------------------------------- model


@dataclass
class Model:
    """A trained routing classifier."""

    labels: list[str]
    config: Config
    segmenter: Segmenter
    featurizer: Featurizer
    scorers: list[LinearScorer]
    temperature: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)
    #: the confidence of automatic routing and its threshold; None in files before version 3
    auto: AutoConfidence | None = None

    def _members(self, matrices: dict[str, sp.csr_matrix]) -> np.ndarray:
        """Standardised scores of each member, shape (n_items, n_members, n_labels)."""
        return np.stack([standardize(s.scores(matrices[s.group])) for s in self.scorers], axis=1)

    def _member_weights(self) -> np.ndarray:
        return np.array([s.weight for s in self.scorers], dtype=np.float64)

    def _scored_members(
        self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]]
    ) -> np.ndarray:
        docs = [analyze(as_row(item), self.config, self.segmenter) for item in items]
        if not docs:
            return np.zeros((0, len(self.scorers), len(self.labels)))
        return self._members(self.featurizer.matrices(docs))

    def probabilities(self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]]) -> np.ndarray:
        """Confidence matrix (n_items, n_labels); columns follow self.labels; rows sum to 1."""
        members = self._scored_members(items)
        if not len(members):
            return np.zeros((0, len(self.labels)))
        return self._softmax(members)

    def _softmax(self, members: np.ndarray) -> np.ndarray:
        combined = np.einsum("nml,m->nl", members, self._member_weights())
        return softmax(combined, self.temperature)

    # ------------------------------------------------------------ automatic routing (智能派单)

    @property
    def auto_threshold(self) -> float | None:
        """Confidence at/above which a message is routed without a clerk; None: off."""
        return self.auto.threshold if self.auto else None

    def _auto_from_members(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-1 label index and its automatic-routing confidence, per row."""
        if self.auto is None:  # an older file: the top-1 probability, never used to route
            probs = self._softmax(members)
            return probs.argmax(axis=1), probs.max(axis=1)
        feats, top = confidence_features(members, self._member_weights(), self.temperature)
        return top, self.auto.confidence(feats)

    def auto_confidences(
        self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]]
    ) -> tuple[list[str], np.ndarray]:
        """Top-1 labels and their automatic-routing confidences for many messages."""
        members = self._scored_members(items)
        if not len(members):
            return [], np.zeros(0)
        top, confidence = self._auto_from_members(members)
        return [self.labels[i] for i in top], confidence

    def auto_confidence(self, title: str, content: str) -> tuple[str, float]:
        """Top-1 label of one message and how sure the model is that it is right (fast path)."""
        single = self._single
        raw = single.scores(normalize(title), normalize(content))
        top, confidence = self._auto_from_members(standardize(raw)[None])
        return self.labels[int(top[0])], float(confidence[0])

    def auto_route_label(self, title: str, content: str) -> str | None:
        """The label to route to without a clerk, or None (below the threshold, or off)."""
        threshold = self.auto_threshold
        if threshold is None:
            return None
        label, confidence = self.auto_confidence(title, content)
        return label if confidence >= threshold else None

    def predict_top(self, title: str, content: str, k: int = 3) -> list[tuple[str, float]]:
        """Top-k (label, confidence) for one message, best first."""
        single = self._single
        raw = single.scores(normalize(title), normalize(content))
        combined = (standardize(raw) * single.member_weights[:, None]).sum(axis=0)
        return self._top(softmax(combined, self.temperature)[0], k)

    @cached_property
    def _single(self) -> SinglePredictor:
        return SinglePredictor(self)

    def predict_many(
        self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]], k: int = 3
    ) -> list[list[tuple[str, float]]]:
        """Top-k (label, confidence) lists for many messages (rows, dicts or (title, content) tuples)."""
        return [self._top(p, k) for p in self.probabilities(items)]

    def predict(self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]]) -> list[str]:
        """Best label for each message."""
        return [self.labels[i] for i in self.probabilities(items).argmax(axis=1)]

    def _top(self, probs: np.ndarray, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-probs, kind="stable")[: max(k, 0)]
        return [(self.labels[i], float(probs[i])) for i in order]


def _encode(rows: list[Row]) -> tuple[list[str], np.ndarray]:
    labels = sorted({r.label for r in rows})
    if len(labels) < 2:
        raise ValueError("训练数据至少需要两个不同的类别")
    index = {label: i for i, label in enumerate(labels)}
    return labels, np.array([index[r.label] for r in rows])


def _out_of_fold_members(
    docs: list[Analyzed], y: np.ndarray, n_labels: int, config: Config
) -> np.ndarray | None:
    """Standardised member scores of each training row from models that did not see it.

    Shape (n_rows, n_members, n_labels); None when a class is too small for two folds.
    """
    from sklearn.model_selection import StratifiedKFold

    folds = min(config.calibration_folds, int(np.bincount(y).min()))
    if folds < 2:
        return None
    scores = np.zeros((len(docs), len(config.member_weights), n_labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(y)), y):
        fit_docs = [docs[i] for i in fit_idx]
        featurizer = Featurizer.fit(fit_docs, config.min_df)
        scorers = fit_scorers(featurizer, fit_docs, y[fit_idx], n_labels, config)
        part = Model([""] * n_labels, config, Segmenter.from_words([]), featurizer, scorers)
        scores[held_idx] = part._members(featurizer.matrices([docs[i] for i in held_idx]))
    return scores


def _fit_auto(
    oof: np.ndarray, y: np.ndarray, config: Config, temperature: float
) -> tuple[AutoConfidence, dict[str, Any]]:
    """The automatic-routing confidence and threshold, from out-of-fold scores only."""
    from sklearn.metrics import f1_score

    weights = np.asarray(config.member_weights, dtype=np.float64)
    feats, top = confidence_features(oof, weights, temperature)
    correct = top == y
    coef, intercept, held = fit_confidence(feats, correct, config.seed)
    threshold = choose_threshold(held, correct, config.target_precision)
    cv = auto_figures(held, correct, threshold)
    auto = AutoConfidence(coef, intercept, threshold, config.target_precision)
    return auto, {
        "cv_macro_f1": float(f1_score(y, top, average="macro", zero_division=0)),
        "auto_target": config.target_precision,
        "auto_threshold": threshold,
        "auto_cv_precision": cv["auto_precision"],
        "auto_cv_coverage": cv["auto_coverage"],
    }


def train(
    rows: Iterable[Row | Mapping[str, Any] | Sequence[str]], config: Config | None = None
) -> Model:
    """Train the routing classifier on labelled rows (title, content, label)."""
    config = config or Config()
    rows = [as_row(r) for r in rows]
    labels, y = _encode(rows)
    segmenter = Segmenter.learn((normalize(r.title + r.content) for r in rows), config.min_df)
    docs = [analyze(r, config, segmenter) for r in rows]
    oof = _out_of_fold_members(docs, y, len(labels), config)
    temperature, auto, metadata = 1.0, None, {"n_train": len(rows)}
    if oof is not None:
        combined = np.einsum("nml,m->nl", oof, np.asarray(config.member_weights, dtype=float))
        temperature = fit_temperature(combined, y)
        auto, figures = _fit_auto(oof, y, config, temperature)
        metadata.update(figures)
    featurizer = Featurizer.fit(docs, config.min_df)
    scorers = fit_scorers(featurizer, docs, y, len(labels), config)
    return Model(labels, config, segmenter, featurizer, scorers, temperature, metadata, auto)


# ----------------------------------------------------------------------------- evaluation


def evaluate(
    model: Model, rows: Iterable[Row | Mapping[str, Any] | Sequence[str]]
) -> dict[str, Any]:
    """Macro-F1, accuracy, n, per-class precision/recall/f1/support and automatic routing.

    auto_threshold, auto_precision, auto_coverage (share of rows at/above the stored
    threshold) and auto_n are for the threshold stored with the model (None: off).
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    rows = [as_row(r) for r in rows]
    members = model._scored_members(rows)
    truth = [r.label for r in rows]
    top, confidence = model._auto_from_members(members) if len(rows) else ([], np.zeros(0))
    predicted = [model.labels[i] for i in top]
    labels = sorted(set(model.labels) | set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_class = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    return {
        "macro_f1": float(
            f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        ),
        "accuracy": float(accuracy_score(truth, predicted)),
        "n": len(rows),
        "per_class": per_class,
        **auto_figures(
            confidence,
            np.array([t == p for t, p in zip(truth, predicted, strict=True)], dtype=bool),
            model.auto_threshold,
        ),
    }


# ----------------------------------------------------------------------------- persistence


def library_versions() -> dict[str, str]:
    """Versions of the libraries the model depends on."""
    import jieba
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "jieba": getattr(jieba, "__version__", "unknown"),
        "joblib": joblib.__version__,
    }


def _state(model: Model) -> dict[str, Any]:
    """Model as builtins and numpy arrays only."""
    f = model.featurizer
    return {
        "labels": list(model.labels),
        "config": vars(model.config).copy(),
        "lexicon": sorted(model.segmenter.lexicon),
        "blocks": {
            name: {"vocabulary": getattr(f, name).vocabulary, "idf": getattr(f, name).idf}
            for name in BLOCKS
        },
        "scorers": [
            {"group": s.group, "weights": s.weights, "bias": s.bias, "weight": s.weight}
            for s in model.scorers
        ],
        "temperature": model.temperature,
        "auto": model.auto.state() if model.auto else None,
    }


#: settings a version 1 file was trained with but does not record
_VERSION_1_CONFIG = {"title_weight": 1.0, "member_weights": (1.0, 1.0, 1.0)}


def _from_state(state: dict[str, Any], metadata: dict[str, Any], version: int) -> Model:
    stored = {k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()}
    config = Config(**({**_VERSION_1_CONFIG, **stored} if version == 1 else stored))
    featurizer = Featurizer(*[TfidfBlock(**state["blocks"][name]) for name in BLOCKS])
    scorers = [LinearScorer(**s) for s in state["scorers"]]
    segmenter = Segmenter.from_words(state["lexicon"])
    auto = AutoConfidence(**state["auto"]) if state.get("auto") else None
    return Model(
        state["labels"],
        config,
        segmenter,
        featurizer,
        scorers,
        state["temperature"],
        metadata,
        auto,
    )


def save(
    model: Model, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Write a versioned model file; returns the metadata stored with it."""
    stored = {
        **model.metadata,
        "trained_at": model.metadata.get("trained_at")
        or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "labels": list(model.labels),
        "temperature": model.temperature,
        "libraries": library_versions(),
        **dict(metadata or {}),
    }
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata": stored,
        "state": _state(model),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(payload, path, compress=3)
    model.metadata = stored
    return stored


def load(path: str | Path) -> Model:
    """Read a model file written by save(); rejects other formats and versions."""
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} 不是分类模型文件")
    if payload.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} 的模型格式版本 {payload.get('format_version')} 不受支持（需要 {FORMAT_VERSION}）"
        )
    return _from_state(payload["state"], payload["metadata"], payload["format_version"])
