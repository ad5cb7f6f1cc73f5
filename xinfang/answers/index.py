"""The knowledge base's similarity index (相似答复检索), held in memory per process.

A TF-IDF matrix of hashed character bigrams (the tokens of xinfang.cases.search) over each
entry's title and the start of its message: every starter entry and the office's newest `index_max()` replies,
so its size does not grow with the matters (older replies age out of the suggestions). A query
multiplies only the matrix columns of its own bigrams, a few milliseconds at 50,000 entries.

Freshness: each search reads max(id) and max(updated_at) of the table (two index look-ups). New
entries since the build are appended, weighted with the build's IDF (hashing needs no fitted
vocabulary, so a new entry's unseen bigrams count too, at the highest weight); an entry changed in
place (a re-load of the starter file, a backfill) is appended again and its old row dropped. So a
change made in one process reaches the others at their next search. Only a process's first
search, or one after the index doubled (its IDF then describes too few of the rows), builds it
whole, and neither on a request's time:

- a full build is saved to a file in `XINFANG_ANSWERS_INDEX_DIR` (var/answers-index; empty: none),
  named by the database and the index's shape, with the table stamp it was built at. A new
  process loads it and appends what changed since (the same `_extend` as above); a file built
  for a table that went back (a restore) is ignored. An index that grew by a tenth since its file
  was written is saved again, from a background thread. Two processes starting together build
  it once: the second waits on the file's lock, then loads it;
- a web process (xinfang/wsgi.py, `warming`) starts `warm_in_background()` on the first request
  it serves, whatever it is: a daemon thread loads or builds the index while that request and the
  next are answered, before a clerk opens a reply form;
- a search that finds the index being built by another thread waits at most `WAIT_SECONDS`, then
  answers with what the process has (nothing, in a process still warming up): a panel without
  suggestions, never an error or a ten-second wait;
- the index that doubled is extended at once and rebuilt by a background thread, which swaps it
  in when done (with a file, one process rebuilds and the others load its file).
A full build: 9.6 s at 52,795 entries; loading the saved file: about 0.1 s (bench/answers_bench.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, connections
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from xinfang.answers import conf
from xinfang.answers.models import ReplyEntry, Source
from xinfang.cases.search import tokens

TEXT_CHARS = 160  # the start of the message says what it is about
QUERY_TERMS = 40  # a query keeps its most telling bigrams: common ones barely move the ranking
_FIELDS = ("id", "title", "message")
FORMAT = 1  # of the saved file: a change to the text, the tokens or the weights needs a new one
WAIT_SECONDS = 3.0  # a search waits at most this long for an index another thread is building
RESAVE_SHARE = 0.1  # an index this much larger than its saved file is saved again

log = logging.getLogger(__name__)


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
_saved_rows = 0  # rows of the index when its file was last written or read by this process
_warming: threading.Thread | None = None
_rebuilding: threading.Thread | None = None


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


def _current(wait: float | None = None) -> _Built | None:
    """The index brought up to the table's stamp. `wait`: at most this many seconds for another
    thread that is building it; past them, what this process has (None before its first build)."""
    global _built
    stamp = _stamp()
    built = _built
    if built is not None and built.stamp == stamp:
        return built
    if not _lock.acquire(timeout=-1 if wait is None else wait):
        return _built
    try:
        built = _built
        if built is not None and built.stamp == stamp:
            return built
        if built is None:
            built = _first(stamp)
        if built.stamp != stamp:
            if built.idf is None or built.matrix is None:
                built = _build(stamp)  # it was empty: nothing to keep
            else:
                built = _extend(built, stamp)  # now; a rebuild follows in the background
                # twice the rows of the last build: its IDF no longer describes them
                if len(built.ids) > 2 * max(built.built_rows, 100):
                    _rebuild_in_background(built.built_rows)
        _built = built
        _resave_if_grown(built)
        return built
    finally:
        _lock.release()


def reset() -> None:
    """Forget the index (tests; a process that changed the table itself needs no call)."""
    global _built, _saved_rows
    with _lock:
        _built, _saved_rows = None, 0


# ---------------------------------------------------------------- the saved file


def _file() -> Path | None:
    """The file of this database's index, or None (no folder set, or a database that lives only
    in this process's memory)."""
    folder = getattr(settings, "XINFANG_ANSWERS_INDEX_DIR", "")
    if not folder or _in_memory():
        return None
    db = connection.settings_dict
    key = [FORMAT, connection.vendor, db.get("HOST"), db.get("PORT"), str(db.get("NAME"))]
    key += [conf.index_max(), TEXT_CHARS, QUERY_TERMS, _HASHER.n_features]
    digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:16]
    return Path(folder) / f"index-{digest}.npz"


def _in_memory() -> bool:
    """An SQLite database in this process's memory (the test suite's): it dies with the process."""
    in_memory = getattr(connection, "is_in_memory_db", None)  # the SQLite backend's
    return connection.vendor == "sqlite" and in_memory is not None and bool(in_memory())


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Across processes: one builds the file while the others wait for it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _save(built: _Built, path: Path) -> None:
    """Write the index (its stamp inside), atomically: a reader sees the old file or the new."""
    if built.idf is None or built.matrix is None:
        return
    matrix = built.matrix
    changed = built.stamp[1]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                format=np.int64(FORMAT),
                stamp_id=np.int64(built.stamp[0]),
                stamp_at=np.str_(changed.isoformat() if changed is not None else ""),
                max_id=np.int64(built.max_id),
                built_rows=np.int64(built.built_rows),
                idf=built.idf,
                ids=built.ids,
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                shape=np.array(matrix.shape, dtype=np.int64),
            )
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path, stamp: tuple) -> _Built | None:
    """The saved index, when there is one this table can continue (its stamp not ahead)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if int(saved["format"]) != FORMAT:
                return None
            raw_at = str(saved["stamp_at"])
            at = dt.datetime.fromisoformat(raw_at) if raw_at else None
            saved_stamp = (int(saved["stamp_id"]), at)
            if saved_stamp[0] > stamp[0] or (
                at is not None and (stamp[1] is None or at > stamp[1])
            ):
                return None  # built from rows this table no longer has (restored from a backup)
            matrix = sparse.csc_matrix(
                (saved["data"], saved["indices"], saved["indptr"]), shape=tuple(saved["shape"])
            )
            return _Built(
                saved_stamp,
                int(saved["max_id"]),
                saved["idf"],
                matrix,
                saved["ids"],
                int(saved["built_rows"]),
            )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("答复知识库索引文件 %s 无法读取（%s），重建", path, exc)
        return None


def _first(stamp: tuple) -> _Built:
    """A process's first index: its saved file, else a build (saved for the next process)."""
    global _saved_rows
    path = _file()
    if path is None:
        return _build(stamp)
    loaded = _load(path, stamp)
    if loaded is None:
        with _file_lock(path):
            loaded = _load(path, stamp)  # another process may have built it meanwhile
            if loaded is None:
                built = _build(stamp)
                _save_quietly(built, path)
                return built
    _saved_rows = len(loaded.ids)
    return loaded


def _rebuild_in_background(built_rows: int) -> None:
    """A full rebuild off the request's time, one at a time; with a file, one process builds it
    and the others load what it saved."""
    global _rebuilding
    if _rebuilding is None or not _rebuilding.is_alive():
        _rebuilding = threading.Thread(
            target=_rebuild, args=(built_rows,), name="answers-index-rebuild", daemon=True
        )
        _rebuilding.start()


def _rebuild(built_rows: int) -> None:
    global _built
    try:
        stamp = _stamp()
        path = _file()
        if path is None:
            fresh = _build(stamp)
        else:
            with _file_lock(path):
                loaded = _load(path, stamp)
                if loaded is not None and loaded.built_rows > built_rows:
                    fresh = loaded  # another process has just rebuilt it
                else:
                    fresh = _build(stamp)
                    _save_quietly(fresh, path)
        with _lock:
            if _built is None or _built.built_rows < fresh.built_rows:
                _built = fresh  # the next search appends what came since its stamp
    except Exception:
        log.exception("答复知识库索引重建失败，下次检索时再试")
    finally:
        connections.close_all()  # this thread's own connections


def _save_quietly(built: _Built, path: Path) -> None:
    global _saved_rows
    try:
        _save(built, path)
    except OSError as exc:  # a full disk or a read-only folder costs the next process a build
        log.warning("答复知识库索引未能保存到 %s：%s", path, exc)
        return
    _saved_rows = max(_saved_rows, len(built.ids))


def _save_in_background(built: _Built, path: Path) -> None:
    """Tens of megabytes to write: not on a request's time (a `_Built` is never changed)."""
    global _saved_rows
    _saved_rows = len(built.ids)  # one save at a time is asked for this size
    threading.Thread(
        target=_save_quietly, args=(built, path), name="answers-index-save", daemon=True
    ).start()


def _resave_if_grown(built: _Built) -> None:
    if len(built.ids) - _saved_rows <= max(RESAVE_SHARE * _saved_rows, 1000):
        return
    path = _file()
    if path is not None:
        _save_in_background(built, path)


# ---------------------------------------------------------------- warming up


def warm_in_background() -> threading.Thread:
    """Load or build the index in a daemon thread, once a process (a web process at boot), so
    that no clerk's request waits for it."""
    global _warming
    if _warming is None or not _warming.is_alive():
        _warming = threading.Thread(target=_warm, name="answers-index-warm", daemon=True)
        _warming.start()
    return _warming


def warming(app: Callable) -> Callable:
    """The WSGI application, starting `warm_in_background()` on the first request each process
    serves. Not at import: with `gunicorn --preload` the import happens in the master, and a
    thread running there when it forks the web processes could leave them a held lock."""
    started_in = 0

    def application(environ: dict, start_response: Callable) -> Any:
        nonlocal started_in
        if started_in != os.getpid():
            started_in = os.getpid()
            warm_in_background()
        return app(environ, start_response)

    return application


def _warm() -> None:
    try:
        _current()
    except DatabaseError as exc:  # e.g. not migrated yet: the first search tries again
        log.info("答复知识库索引未能预先建立：%s", exc)
    except Exception:
        log.exception("答复知识库索引未能预先建立")
    finally:
        connections.close_all()  # this thread's own connections


def _after_fork() -> None:
    """A child forked while a thread held the lock would wait on it forever (gunicorn
    --preload): the child starts with a free lock. Its first search loads the saved file."""
    global _lock, _warming, _rebuilding
    _lock, _warming, _rebuilding = threading.Lock(), None, None


os.register_at_fork(after_in_child=_after_fork)


def search(
    title: str, content: str, *, k: int = 5, exclude: frozenset[int] | set[int] = frozenset()
) -> list[tuple[int, float]]:
    """(entry id, cosine) of the `k` entries most similar to the message, best first."""
    built = _current(wait=WAIT_SECONDS)
    if built is None or built.idf is None or built.matrix is None or not len(built.ids):
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
