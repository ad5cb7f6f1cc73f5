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

The saved file holds only builtins and numpy arrays (vocabularies, idf, weights), so it
does not depend on pickled scikit-learn objects.

This module holds the model, training, evaluation and the saved file; the parts live beside it:
features.py (rows, text, TF-IDF blocks), scorers.py (the three members and the calibration),
predictor.py (the fast path of predict_top).
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
FORMAT_VERSION = 2
#: versions load() reads; version 1 files lack the member weights (all 1.0)
READABLE_VERSIONS = (1, 2)


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

    def _combined(self, matrices: dict[str, sp.csr_matrix]) -> np.ndarray:
        return sum(s.weight * standardize(s.scores(matrices[s.group])) for s in self.scorers)

    def probabilities(self, items: Iterable[Row | Mapping[str, Any] | Sequence[str]]) -> np.ndarray:
        """Confidence matrix (n_items, n_labels); columns follow self.labels; rows sum to 1."""
        docs = [analyze(as_row(item), self.config, self.segmenter) for item in items]
        if not docs:
            return np.zeros((0, len(self.labels)))
        return softmax(self._combined(self.featurizer.matrices(docs)), self.temperature)

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


def _out_of_fold_scores(
    docs: list[Analyzed], y: np.ndarray, n_labels: int, config: Config
) -> np.ndarray:
    """Ensemble scores of each training row from models that did not see it."""
    from sklearn.model_selection import StratifiedKFold

    folds = min(config.calibration_folds, int(np.bincount(y).min()))
    scores = np.zeros((len(docs), n_labels))
    if folds < 2:
        return scores
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(y)), y):
        fit_docs = [docs[i] for i in fit_idx]
        featurizer = Featurizer.fit(fit_docs, config.min_df)
        scorers = fit_scorers(featurizer, fit_docs, y[fit_idx], n_labels, config)
        part = Model([""] * n_labels, config, Segmenter.from_words([]), featurizer, scorers)
        scores[held_idx] = part._combined(featurizer.matrices([docs[i] for i in held_idx]))
    return scores


def train(
    rows: Iterable[Row | Mapping[str, Any] | Sequence[str]], config: Config | None = None
) -> Model:
    """Train the routing classifier on labelled rows (title, content, label)."""
    config = config or Config()
    rows = [as_row(r) for r in rows]
    labels, y = _encode(rows)
    segmenter = Segmenter.learn((normalize(r.title + r.content) for r in rows), config.min_df)
    docs = [analyze(r, config, segmenter) for r in rows]
    oof = _out_of_fold_scores(docs, y, len(labels), config)
    temperature = fit_temperature(oof, y) if oof.any() else 1.0
    featurizer = Featurizer.fit(docs, config.min_df)
    scorers = fit_scorers(featurizer, docs, y, len(labels), config)
    return Model(
        labels, config, segmenter, featurizer, scorers, temperature, {"n_train": len(rows)}
    )


# ----------------------------------------------------------------------------- evaluation


def evaluate(
    model: Model, rows: Iterable[Row | Mapping[str, Any] | Sequence[str]]
) -> dict[str, Any]:
    """Macro-F1, accuracy, n and per-class precision/recall/f1/support on labelled rows."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    rows = [as_row(r) for r in rows]
    truth, predicted = [r.label for r in rows], model.predict(rows)
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
    }


#: settings a version 1 file was trained with but does not record
_VERSION_1_CONFIG = {"title_weight": 1.0, "member_weights": (1.0, 1.0, 1.0)}


def _from_state(state: dict[str, Any], metadata: dict[str, Any], version: int) -> Model:
    stored = {k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()}
    config = Config(**({**_VERSION_1_CONFIG, **stored} if version == 1 else stored))
    featurizer = Featurizer(*[TfidfBlock(**state["blocks"][name]) for name in BLOCKS])
    scorers = [LinearScorer(**s) for s in state["scorers"]]
    segmenter = Segmenter.from_words(state["lexicon"])
    return Model(
        state["labels"], config, segmenter, featurizer, scorers, state["temperature"], metadata
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
