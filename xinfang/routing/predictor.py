"""The fast path of `Model.predict_top`: one message scored straight from its text.

The same scores as analyze + TfidfBlock.vector per block + each scorer's weights (the
reference path is kept in tests/routing/test_classifier.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from itertools import chain, repeat
from typing import TYPE_CHECKING

import numpy as np

from xinfang.routing.features import (
    BLOCKS,
    GROUPS,
    char_ngrams,
    word_ngrams,
)

if TYPE_CHECKING:
    from xinfang.routing.classifier import Model


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


class SinglePredictor:
    """Fast path of Model.predict_top: the same scores as analyze + TfidfBlock.vector per block
    + each scorer's weights (the reference path kept in tests/routing/test_classifier.py).

    Term counts are taken straight from the text, the title and content blocks of a group
    are scored in one gather, and the members sharing a feature group (the SVM and the
    NB-SVM on characters) in one product.
    """

    def __init__(self, model: Model) -> None:
        self.config, self.segmenter = model.config, model.segmenter
        f = model.featurizer
        self.lookups = {name: getattr(f, name).vocabulary.get for name in BLOCKS}
        self.content_offset = {
            group: len(getattr(f, names[0]).idf) for group, names in GROUPS.items()
        }
        self.idf = {
            group: np.concatenate([getattr(f, name).idf for name in names])
            for group, names in GROUPS.items()
        }
        self.member_weights = np.array([s.weight for s in model.scorers])
        self.groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.rows: list[tuple[str, int, int]] = []  # per scorer: group, first, last column
        for group in GROUPS:
            members = [s for s in model.scorers if s.group == group]
            if not members:
                continue
            self.groups[group] = (
                np.ascontiguousarray(np.concatenate([s.weights for s in members], axis=1)),
                np.concatenate([np.asarray(s.bias, dtype=np.float64) for s in members]),
            )
        self.char_codes = {
            name: _char_code_table(getattr(f, name).vocabulary)
            for name in GROUPS["char"]
            if model.config.char_ngrams == (1, 2)
        }
        starts = dict.fromkeys(GROUPS, 0)
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
        title_name, content_name = GROUPS[group]
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
