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
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import platform
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

FORMAT_NAME = "xinfang-routing-classifier"
FORMAT_VERSION = 2
#: versions load() reads; version 1 files lack the member weights (all 1.0)
READABLE_VERSIONS = (1, 2)
REQUIRED_COLUMNS = ("title", "content", "label")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Row:
    """One labelled message."""

    title: str
    content: str
    label: str = ""


@dataclass
class Config:
    """Hyper-parameters of the ensemble.

    Chosen on dev.csv and on 5-fold cross-validation of train.csv (bench/routing_bench.py --cv);
    title_weight, nbsvm_c and member_weights raised both (dev 0.929 -> 0.931, CV 0.923 -> 0.928).
    """

    char_ngrams: tuple[int, int] = (1, 2)
    word_ngrams: tuple[int, int] = (1, 1)
    min_df: int = 2
    svm_c: float = 1.0
    nbsvm_c: float = 1.0
    nb_alpha: float = 0.3
    #: scale of the character title block relative to the content block (both l2-normalised)
    title_weight: float = 0.7
    #: weights of the standardised scores of the SVM, the NB-SVM and the complement NB
    member_weights: tuple[float, float, float] = (1.0, 1.0, 0.5)
    calibration_folds: int = 3
    seed: int = 0


# ----------------------------------------------------------------------------- reading


def read_csv(path: str | Path) -> list[Row]:
    """Read a UTF-8 CSV (BOM allowed) with columns title, content, label; others are ignored."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in (reader.fieldnames or [])]
        for required in REQUIRED_COLUMNS:
            if required not in columns:
                raise ValueError(f"CSV 文件 {path} 缺少必需的列：{required}")
        reader.fieldnames = columns
        return [_row_from_mapping(record) for record in reader]


def _row_from_mapping(record: Mapping[str, Any]) -> Row:
    """Build a Row from a dict-like record with title, content and (optional) label."""
    return Row(
        title=str(record.get("title") or ""),
        content=str(record.get("content") or ""),
        label=str(record.get("label") or ""),
    )


def as_row(item: Row | Mapping[str, Any] | Sequence[str]) -> Row:
    """Accept a Row, a mapping or a (title, content[, label]) tuple."""
    if isinstance(item, Row):
        return item
    if isinstance(item, Mapping):
        return _row_from_mapping(item)
    return Row(*[str(part) for part in item[:3]])


# ----------------------------------------------------------------------------- text


def normalize(text: str) -> str:
    """Drop all whitespace (also joins the pre-segmented 'tokens' rows back together)."""
    return _WHITESPACE.sub("", text or "")


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams of a normalised text, as scikit-learn's char analyzer makes them."""
    grams: list[str] = []
    for n in range(low, high + 1):
        if n == 1:
            grams.extend(text)
        elif n == 2:
            grams.extend(map(str.__add__, text, text[1:]))
        else:
            grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def jieba_words(text: str) -> list[str]:
    """Segment a normalised text into words with jieba (used only to build the lexicon)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text) if w.strip()]


@dataclass
class Segmenter:
    """Greedy longest-match word segmentation over a lexicon learned with jieba at training.

    jieba costs about 2.5 ms per message; longest match over the same vocabulary costs a
    fraction of that and gives train and prediction the same segmentation.
    """

    lexicon: frozenset[str]
    #: first two characters of each lexicon word -> lengths of those words, longest first
    starts: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lengths: dict[str, set[int]] = {}
        for word in self.lexicon:
            lengths.setdefault(word[:2], set()).add(len(word))
        self.starts = {head: tuple(sorted(ls, reverse=True)) for head, ls in lengths.items()}

    @classmethod
    def from_words(cls, words: Iterable[str]) -> Segmenter:
        """Build from lexicon words (length >= 2)."""
        return cls(frozenset(w for w in words if len(w) >= 2))

    @classmethod
    def learn(cls, texts: Iterable[str], min_count: int) -> Segmenter:
        """Lexicon = jieba words of the texts seen at least min_count times."""
        counts = Counter(w for text in texts for w in jieba_words(text))
        return cls.from_words(w for w, n in counts.items() if n >= min_count)

    def segment(self, text: str) -> list[str]:
        """Split a normalised text into lexicon words and single characters.

        At each position the longest lexicon word starting there is taken (else one
        character); candidates are looked up by their first two characters, longest first.
        """
        out: list[str] = []
        append, starts, lexicon = out.append, self.starts.get, self.lexicon
        i, n = 0, len(text)
        while i < n:
            lengths = starts(text[i : i + 2])
            if lengths:
                for length in lengths:
                    word = text[i : i + length]
                    if word in lexicon:
                        break
                else:
                    word = text[i]
            else:
                word = text[i]
            append(word)
            i += len(word)
        return out


def word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Word n-grams joined by a space."""
    return [
        " ".join(tokens[i : i + n])
        for n in range(low, high + 1)
        for i in range(len(tokens) - n + 1)
    ]


# ----------------------------------------------------------------------------- features


@dataclass
class TfidfBlock:
    """Sublinear TF-IDF with l2 norm over a fixed vocabulary (matches scikit-learn's)."""

    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, docs: list[list[str]], min_df: int) -> TfidfBlock:
        """Learn vocabulary and idf from documents given as lists of terms."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=lambda terms: terms, min_df=min_df, sublinear_tf=True)
        vec.fit(docs)
        vocabulary = {term: int(index) for term, index in vec.vocabulary_.items()}
        return cls(vocabulary, vec.idf_.astype(np.float64))

    def vector(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and l2-normalised TF-IDF values of one document."""
        counts = Counter(terms)
        ids = np.fromiter(map(self.vocabulary.get, counts, repeat(-1)), np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        known = ids >= 0
        idx, tf = ids[known], tf[known]
        if not len(idx):
            return idx, np.zeros(0)
        values = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, values / np.linalg.norm(values)

    def matrix(self, docs: Iterable[list[str]]) -> sp.csr_matrix:
        """TF-IDF matrix of many documents."""
        indptr, indices, data = [0], [], []
        for terms in docs:
            idx, values = self.vector(terms)
            indices.append(idx)
            data.append(values)
            indptr.append(indptr[-1] + len(idx))
        return sp.csr_matrix(
            (
                np.concatenate(data or [np.zeros(0)]),
                np.concatenate(indices or [np.zeros(0, np.int64)]),
                indptr,
            ),
            shape=(len(indptr) - 1, len(self.idf)),
        )


@dataclass
class Analyzed:
    """Terms of one text for the four feature blocks."""

    title_chars: list[str]
    content_chars: list[str]
    title_words: list[str]
    content_words: list[str]


def analyze(row: Row, config: Config, segmenter: Segmenter) -> Analyzed:
    """Turn a row into character and word n-grams for title and content."""
    title, content = normalize(row.title), normalize(row.content)
    return Analyzed(
        char_ngrams(title, *config.char_ngrams),
        char_ngrams(content, *config.char_ngrams),
        word_ngrams(segmenter.segment(title), *config.word_ngrams),
        word_ngrams(segmenter.segment(content), *config.word_ngrams),
    )


@dataclass
class Featurizer:
    """Four TF-IDF blocks; 'char' = title+content characters, 'word' = title+content words."""

    title_chars: TfidfBlock
    content_chars: TfidfBlock
    title_words: TfidfBlock
    content_words: TfidfBlock

    @classmethod
    def fit(cls, docs: list[Analyzed], min_df: int) -> Featurizer:
        """Fit each block on its own terms."""
        return cls(*[TfidfBlock.fit([getattr(d, name) for d in docs], min_df) for name in _BLOCKS])

    def matrices(self, docs: list[Analyzed]) -> dict[str, sp.csr_matrix]:
        """Sparse 'char' and 'word' design matrices for many documents."""
        blocks = {
            name: getattr(self, name).matrix(getattr(d, name) for d in docs) for name in _BLOCKS
        }
        return {
            group: sp.hstack([blocks[name] for name in names]).tocsr()
            for group, names in _GROUPS.items()
        }


_BLOCKS = ("title_chars", "content_chars", "title_words", "content_words")
_GROUPS = {"char": ("title_chars", "content_chars"), "word": ("title_words", "content_words")}


# ----------------------------------------------------------------------------- scorers


@dataclass
class LinearScorer:
    """Class scores = X @ weights.T + bias over one feature group."""

    group: str
    weights: np.ndarray  # (n_features, n_labels) float32, one contiguous row per feature
    bias: np.ndarray  # (n_labels,)
    weight: float = 1.0  # of this member's standardised scores in the ensemble sum

    def scores(self, x: sp.csr_matrix) -> np.ndarray:
        """Scores of many rows."""
        return np.asarray(x @ self.weights, dtype=np.float64) + self.bias


def fit_svm(x: sp.csr_matrix, y: np.ndarray, c: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest linear SVM weights and biases."""
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=c, random_state=seed).fit(x, y)
    return model.coef_, model.intercept_


def fit_nbsvm(
    x: sp.csr_matrix, y: np.ndarray, n_labels: int, c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """NB-SVM: per class, scale features by the log-count ratio and fit a binary SVM."""
    from sklearn.svm import LinearSVC

    present = (x > 0).astype(np.float64).tocsr()
    weights, biases = np.zeros((n_labels, x.shape[1])), np.zeros(n_labels)
    for k in range(n_labels):
        pos = np.asarray(present[y == k].sum(axis=0)).ravel() + 1.0
        neg = np.asarray(present[y != k].sum(axis=0)).ravel() + 1.0
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        svm = LinearSVC(C=c, random_state=seed).fit(x.multiply(ratio).tocsr(), (y == k).astype(int))
        weights[k], biases[k] = svm.coef_[0] * ratio, svm.intercept_[0]
    return weights, biases


def fit_complement_nb(
    x: sp.csr_matrix, y: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Complement naive Bayes log-weights (its joint log-likelihood is linear in x)."""
    from sklearn.naive_bayes import ComplementNB

    model = ComplementNB(alpha=alpha).fit(x, y)
    return model.feature_log_prob_, np.zeros(model.feature_log_prob_.shape[0])


def title_scale(n_title: int, n_total: int, title_weight: float) -> np.ndarray:
    """Per-column factors of a group matrix: title_weight on the title block, 1 on the content."""
    scale = np.ones(n_total)
    scale[:n_title] = title_weight
    return scale


def fit_scorers(
    featurizer: Featurizer, docs: list, y: np.ndarray, n_labels: int, config: Config
) -> list[LinearScorer]:
    """Fit the three members of the ensemble on `docs` as `featurizer` sees them.

    The SVMs see the character matrix with its title columns scaled by title_weight; the
    scale is folded into their weights, so prediction uses the unscaled TF-IDF vectors.
    """
    matrices = featurizer.matrices(docs)
    scale = title_scale(
        len(featurizer.title_chars.idf), matrices["char"].shape[1], config.title_weight
    )
    chars = (matrices["char"] @ sp.diags(scale)).tocsr()
    members = [
        ("char", fit_svm(chars, y, config.svm_c, config.seed), scale),
        ("char", fit_nbsvm(chars, y, n_labels, config.nbsvm_c, config.seed), scale),
        ("word", fit_complement_nb(matrices["word"], y, config.nb_alpha), None),
    ]
    return [
        LinearScorer(
            group,
            np.ascontiguousarray(
                np.asarray(w).T * (1.0 if s is None else s[:, None]), dtype=np.float32
            ),
            np.asarray(b, dtype=np.float64),
            float(weight),
        )
        for (group, (w, b), s), weight in zip(members, config.member_weights, strict=True)
    ]


def standardize(scores: np.ndarray) -> np.ndarray:
    """Per-row z-score over classes so that members of different scales can be summed."""
    scores = np.atleast_2d(scores)
    std = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of scores / temperature."""
    z = np.atleast_2d(scores) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the log-loss of softmax(scores / T) on held-out scores."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        probs = softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12)))

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


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
    def _single(self) -> _SinglePredictor:
        return _SinglePredictor(self)

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


_CODE_BASE = 0x110000  # one more than the largest code point


def _char_code_table(vocabulary: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted integer codes of 1- and 2-character terms and their ids, or None.

    A character is coded as its code point c, a pair (a, b) as a * BASE + b + BASE, so the
    codes of different grams differ. None when a term has another length (e.g. word blocks).
    """
    terms = list(vocabulary)
    lengths = np.fromiter(map(len, terms), np.int64, len(terms))
    if not len(terms) or lengths.min() < 1 or lengths.max() > 2:
        return None
    try:
        points = np.frombuffer("".join(terms).encode("utf-32-le"), np.uint32).astype(np.int64)
    except UnicodeEncodeError:
        return None
    first = np.cumsum(lengths) - lengths
    pairs = lengths == 2
    codes = points[first]
    codes[pairs] = codes[pairs] * _CODE_BASE + points[first[pairs] + 1] + _CODE_BASE
    ids = np.fromiter(vocabulary.values(), np.int64, len(terms))
    order = np.argsort(codes)
    return codes[order], ids[order]


class _SinglePredictor:
    """Fast path of Model.predict_top: the same scores as analyze + TfidfBlock.vector per block
    + each scorer's weights (the reference path kept in tests/routing/test_classifier.py).

    Term counts are taken straight from the text, the title and content blocks of a group
    are scored in one gather, and the members sharing a feature group (the SVM and the
    NB-SVM on characters) in one product.
    """

    def __init__(self, model: Model) -> None:
        self.config, self.segmenter = model.config, model.segmenter
        f = model.featurizer
        self.lookups = {name: getattr(f, name).vocabulary.get for name in _BLOCKS}
        self.content_offset = {
            group: len(getattr(f, names[0]).idf) for group, names in _GROUPS.items()
        }
        self.idf = {
            group: np.concatenate([getattr(f, name).idf for name in names])
            for group, names in _GROUPS.items()
        }
        self.member_weights = np.array([s.weight for s in model.scorers])
        self.groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.rows: list[tuple[str, int, int]] = []  # per scorer: group, first, last column
        for group in _GROUPS:
            members = [s for s in model.scorers if s.group == group]
            if not members:
                continue
            self.groups[group] = (
                np.ascontiguousarray(np.concatenate([s.weights for s in members], axis=1)),
                np.concatenate([np.asarray(s.bias, dtype=np.float64) for s in members]),
            )
        self.char_codes = {
            name: _char_code_table(getattr(f, name).vocabulary)
            for name in _GROUPS["char"]
            if model.config.char_ngrams == (1, 2)
        }
        starts = dict.fromkeys(_GROUPS, 0)
        for s in model.scorers:
            width = s.weights.shape[1]
            self.rows.append((s.group, starts[s.group], starts[s.group] + width))
            starts[s.group] += width

    def _counts(self, name: str, text: str) -> Counter:
        low, high = self.config.char_ngrams if name.endswith("chars") else self.config.word_ngrams
        if name.endswith("chars"):
            if (low, high) == (1, 2):
                counts = Counter(text)
                counts.update(map(str.__add__, text, text[1:]))
                return counts
            return Counter(char_ngrams(text, low, high))
        words = self.segmenter.segment(text)
        return Counter(words if (low, high) == (1, 1) else word_ngrams(words, low, high))

    def _char_terms(self, name: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Known ids and term frequencies of a text's character 1-2-grams, or None.

        Each gram is coded as an integer (see _char_code_table) so that counting and the
        vocabulary lookup are array operations; None when that does not apply.
        """
        table = self.char_codes.get(name)
        if table is None:
            return None
        try:
            points = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.int64)
        except UnicodeEncodeError:
            return None
        codes = np.concatenate([points, points[:-1] * _CODE_BASE + points[1:] + _CODE_BASE])
        unique, tf = np.unique(codes, return_counts=True)
        sorted_codes, sorted_ids = table
        pos = np.searchsorted(sorted_codes, unique)
        np.minimum(pos, len(sorted_codes) - 1, out=pos)
        hit = sorted_codes[pos] == unique
        return sorted_ids[pos[hit]], tf[hit].astype(np.float64)

    def _vector(self, group: str, title: str, content: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of one group (title block, then content block), as vectors()."""
        title_name, content_name = _GROUPS[group]
        t_terms = self._char_terms(title_name, title)
        c_terms = self._char_terms(content_name, content) if t_terms is not None else None
        if t_terms is not None and c_terms is not None:
            return self._values(
                group,
                np.concatenate([t_terms[0], c_terms[0] + self.content_offset[group]]),
                np.concatenate([t_terms[1], c_terms[1]]),
                len(t_terms[0]),
            )
        t_counts = self._counts(title_name, title)
        c_counts = self._counts(content_name, content)
        t_get, c_get = self.lookups[title_name], self.lookups[content_name]
        n_t, n_c = len(t_counts), len(c_counts)
        ids = np.empty(n_t + n_c, np.int64)
        ids[:n_t] = np.fromiter(map(t_get, t_counts, repeat(-1)), np.int64, n_t)
        ids[n_t:] = np.fromiter(map(c_get, c_counts, repeat(-1)), np.int64, n_c)
        tf = np.fromiter(chain(t_counts.values(), c_counts.values()), np.float64, n_t + n_c)
        known = ids >= 0
        t_known = int(np.count_nonzero(known[:n_t]))
        ids[n_t:] += self.content_offset[group]
        return self._values(group, ids[known], tf[known], t_known)

    def _values(
        self, group: str, idx: np.ndarray, tf: np.ndarray, t_known: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sublinear TF-IDF values, each block l2-normalised (the first t_known are the title's)."""
        values = (1.0 + np.log(tf)) * self.idf[group][idx]
        for part in (values[:t_known], values[t_known:]):
            if len(part):
                part /= np.linalg.norm(part)
        return idx, values

    def scores(self, title: str, content: str) -> np.ndarray:
        """Raw class scores of each scorer, shape (n_scorers, n_labels)."""
        raw = {}
        for group, (weights, bias) in self.groups.items():
            idx, values = self._vector(group, title, content)
            raw[group] = values @ weights[idx].astype(np.float64) + bias
        return np.stack([raw[group][first:last] for group, first, last in self.rows])


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
            for name in _BLOCKS
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
    featurizer = Featurizer(*[TfidfBlock(**state["blocks"][name]) for name in _BLOCKS])
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
