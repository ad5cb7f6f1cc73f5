"""The routing classifier's input: labelled rows, text normalisation and segmentation, TF-IDF blocks.

Part of the classifier (classifier.py holds the model); pure Python, no Django. Row and Config
are the classifier's vocabulary: the character and word n-grams of title and content, and the
hyper-parameters of the ensemble.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

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
    #: folds of the out-of-fold scores (temperature, cv_macro_f1, automatic routing); 5 rather
    #: than 3 lets the automatic-routing threshold see models closer to the final one
    calibration_folds: int = 5
    seed: int = 0
    #: share of automatic routes that must be correct (the office's target); the threshold
    #: meeting it is chosen on out-of-fold predictions of the training rows (autoconf.py)
    target_precision: float = 0.98


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
        return cls(*[TfidfBlock.fit([getattr(d, name) for d in docs], min_df) for name in BLOCKS])

    def matrices(self, docs: list[Analyzed]) -> dict[str, sp.csr_matrix]:
        """Sparse 'char' and 'word' design matrices for many documents."""
        blocks = {
            name: getattr(self, name).matrix(getattr(d, name) for d in docs) for name in BLOCKS
        }
        return {
            group: sp.hstack([blocks[name] for name in names]).tocsr()
            for group, names in GROUPS.items()
        }


BLOCKS = ("title_chars", "content_chars", "title_words", "content_words")
GROUPS = {"char": ("title_chars", "content_chars"), "word": ("title_words", "content_words")}
