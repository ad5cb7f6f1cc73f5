"""The knowledge base's similarity index (相似答复检索), held in memory per process.

A TF-IDF matrix of hashed character bigrams (the tokens of xinfang.cases.search) over each
entry's title and the start of its message: every starter entry and the office's newest `index_max()` replies,
so its size does not grow with the matters (older replies age out of the suggestions). A query
multiplies only the matrix columns of its own bigrams, a few milliseconds at 50,000 entries.

Freshness: each search reads max(id) and max(updated_at) of the table (two index look-ups). New
entries since the build are appended, weighted with the build's IDF (hashing needs no fitted
vocabulary, so a new entry's unseen bigrams count too, at the highest weight); an entry changed in
place (a re-load of the starter file, a backfill) is appended again and its old row dropped. So a
change made in one process reaches the others at their next search, and only a process's first
search, or one after the index doubled, builds it whole.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from xinfang.answers import conf
from xinfang.answers.models import ReplyEntry, Source
from xinfang.cases.search import tokens

TEXT_CHARS = 160  # the start of the message says what it is about
QUERY_TERMS = 40  # a query keeps its most telling bigrams: common ones barely move the ranking
_FIELDS = ("id", "title", "message")


def _text(title: str, message: str) -> str:
    return f"{title} {title} {message[:TEXT_CHARS]}"  # the title counts twice


def _analyzer(text: str) -> list[str]:
    return tokens(text)


_HASHER = HashingVectorizer(
    analyzer=_analyzer, n_features=2**20, alternate_sign=False, norm=None, dtype=np.float32
)


@dataclass
class _Built:
    stamp: tuple
    max_id: int
    idf: np.ndarray | None  # per hashed bigram, from the build's entries
    matrix: sparse.csc_matrix | None  # rows: entries, L2-normalised TF-IDF
    ids: np.ndarray
    built_rows: int = 0  # rows at the last full build: the IDF's sample


_lock = threading.Lock()
_built: _Built | None = None


def _stamp() -> tuple:
    """(max id, max updated_at): two queries, as each is one index look-up (SQLite reads a
    whole index for two aggregates in one query)."""
    entries = ReplyEntry.objects.order_by()
    top = entries.order_by("-id").values_list("id", flat=True).first()
    changed = entries.order_by("-updated_at").values_list("updated_at", flat=True).first()
    return (top or 0, changed)


def _rows(after_id: int = 0) -> list[tuple[int, str, str]]:
    starter = ReplyEntry.objects.filter(source=Source.STARTER, id__gt=after_id)
    office = ReplyEntry.objects.filter(source=Source.OFFICE, id__gt=after_id).order_by("-id")
    return list(starter.values_list(*_FIELDS)) + list(
        office.values_list(*_FIELDS)[: conf.index_max()]
    )


def _weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    counts = counts.tocsr(copy=True)
    counts.data = np.log1p(counts.data)  # sublinear term frequency
    return normalize(counts.multiply(idf).tocsr())


def _vectors(rows: list[tuple[int, str, str]], idf: np.ndarray) -> sparse.csr_matrix:
    return _weigh(_HASHER.transform([_text(t, m) for _pk, t, m in rows]), idf)


def _build(stamp: tuple) -> _Built:
    rows = _rows()
    if not rows:
        return _Built(stamp, stamp[0], None, None, np.zeros(0, dtype=np.int64))
    counts = _HASHER.transform([_text(t, m) for _pk, t, m in rows]).tocsr()
    df = np.bincount(counts.indices, minlength=_HASHER.n_features)
    idf = (np.log((len(rows) + 1) / (df + 1)) + 1).astype(np.float32)
    ids = np.array([pk for pk, _t, _m in rows], dtype=np.int64)
    return _Built(stamp, stamp[0], idf, _weigh(counts, idf).tocsc(), ids, len(rows))


def _extend(old: _Built, stamp: tuple) -> _Built:
    """New entries appended; an entry changed in place is appended again and its old row
    dropped from the results (its id set to -1), so no change costs a rebuild."""
    if old.idf is None or old.matrix is None:
        return _build(stamp)
    new = _rows(after_id=old.max_id)
    changed = list(
        ReplyEntry.objects.filter(id__lte=old.max_id, updated_at__gt=old.stamp[1]).values_list(
            *_FIELDS
        )
    )
    rows = changed + new
    ids = old.ids.copy()
    if changed:
        ids[np.isin(ids, [pk for pk, _t, _m in changed])] = -1
    if not rows:
        return _Built(stamp, stamp[0], old.idf, old.matrix, ids, old.built_rows)
    matrix = sparse.vstack([old.matrix.tocsr(), _vectors(rows, old.idf)]).tocsc()
    ids = np.concatenate([ids, np.array([pk for pk, _t, _m in rows], dtype=np.int64)])
    return _Built(stamp, stamp[0], old.idf, matrix, ids, old.built_rows)


def _current() -> _Built:
    global _built
    stamp = _stamp()
    built = _built
    if built is not None and built.stamp == stamp:
        return built
    with _lock:
        built = _built
        if built is not None and built.stamp == stamp:
            return built
        rebuild = (
            built is None
            or built.idf is None
            or built.matrix is None
            # twice the rows of the last build: its IDF no longer describes them
            or len(built.ids) > 2 * max(built.built_rows, 100)
        )
        _built = _build(stamp) if rebuild else _extend(built, stamp)  # type: ignore[arg-type]
        return _built


def reset() -> None:
    """Forget the index (tests; a process that changed the table itself needs no call)."""
    global _built
    with _lock:
        _built = None


def search(
    title: str, content: str, *, k: int = 5, exclude: frozenset[int] | set[int] = frozenset()
) -> list[tuple[int, float]]:
    """(entry id, cosine) of the `k` entries most similar to the message, best first."""
    built = _current()
    if built.idf is None or built.matrix is None or not len(built.ids):
        return []
    query = _vectors([(0, title, content)], built.idf)
    if not query.nnz:
        return []
    if query.nnz > QUERY_TERMS:
        keep = np.argpartition(-query.data, QUERY_TERMS - 1)[:QUERY_TERMS]
        query = sparse.csr_matrix(
            (query.data[keep], query.indices[keep], [0, QUERY_TERMS]), shape=query.shape
        )
    columns = query.indices
    scores = built.matrix[:, columns] @ query.data  # only this query's bigrams
    scores = np.asarray(scores).ravel()
    scores[built.ids < 0] = 0  # rows of entries changed since (appended again)
    wanted = min(len(scores), k + len(exclude) + 5)
    top = (
        np.argpartition(-scores, wanted - 1)[:wanted]
        if wanted < len(scores)
        else np.arange(len(scores))
    )
    ranked = sorted(top, key=lambda i: -scores[i])
    out: list[tuple[int, float]] = []
    for i in ranked:
        pk = int(built.ids[i])
        if pk in exclude or scores[i] <= 0:
            continue
        out.append((pk, float(scores[i])))
        if len(out) >= k:
            break
    return out
