"""Hot issues (热点): this month's matters grouped by problem and place, ranked by heat.

Pure Python over plain records (no Django), so the page, the Excel export and the command on a
CSV file share one implementation.

Clustering: each matter becomes a TF-IDF vector of the character bigrams of its title (twice)
and the start of its content; matters are taken oldest first and each joins the cluster whose
centroid is most similar (cosine >= threshold) or starts a new one (greedy leader clustering
with sparse dot products, done in blocks: linear in the number of matters times clusters).
Each cluster is labelled with its top jieba words (frequency in the cluster × idf) and its
dominant place.

Heat index (热度):

    heat = R × (1 + g) + ln(1 + max(0, likes − against))

* R = Σ 0.5^(age / 15 days) / m over the cluster's matters in the period: the age counted back
  from the end of the period (a matter on the last day counts 1, one 15 days older ½), and m
  the number of the cluster's matters from the same person, so that one person writing ten
  times weighs as one person (R is a recency-weighted count of people);
* g = (n − n_prev) / max(n_prev, 1), clipped to [−0.5, 2]: growth against the previous
  period of the same length (last month);
* likes and against-votes (点赞/反对) where the channel has them (0 otherwise).

With no period (a whole file), no decay (R = number of people) and g = 0. The top clusters with at least `MIN_CANDIDATE`
matters are marked as candidates for the monthly "one problem" review (每月一题).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

HALF_LIFE_DAYS = 15
GROWTH_CLIP = (-0.5, 2.0)
MIN_CANDIDATE = 3
CANDIDATES = 3
CONTENT_CHARS = 160
BLOCK = 256
_HAN = re.compile(r"[\u3400-\u9fff]+|[0-9A-Za-z]+")
_PLACE_CODE = re.compile(r"[A-Z]\d*(?:市|区|县)")
_LOCALITY = (
    "小区",
    "花园",
    "新城",
    "家园",
    "村",
    "镇",
    "街道",
    "公园",
    "学校",
    "中学",
    "小学",
    "路",
)
_STOP = frozenset(
    "关于 问题 反映 请求 希望 相关 有关 我们 你们 他们 没有 什么 一个 如何 怎么 为什么 是否 "
    "咨询 投诉 建议 领导 部门 政府 解决 处理 情况 现在 已经 可以 进行 要求 请问 您好 尊敬".split()
)


@dataclass
class HotDoc:
    """One matter as the clustering sees it."""

    key: str | int
    title: str
    content: str
    at: dt.datetime
    place: str = ""
    user: str = ""
    likes: int = 0
    against: int = 0


@dataclass
class Cluster:
    members: list[int] = field(default_factory=list)  # indices into the docs
    label: str = ""
    terms: list[str] = field(default_factory=list)
    place: str = ""
    count: int = 0
    prev_count: int = 0
    people: int = 0
    likes: int = 0
    against: int = 0
    recency: float = 0.0
    growth: float = 0.0
    heat: float = 0.0
    candidate: bool = False
    examples: list[str] = field(default_factory=list)
    keys: list[str | int] = field(default_factory=list)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "terms": self.terms,
            "place": self.place,
            "count": self.count,
            "prev_count": self.prev_count,
            "growth": round(self.growth, 3),
            "people": self.people,
            "likes": self.likes,
            "against": self.against,
            "heat": round(self.heat, 2),
            "candidate": self.candidate,
            "examples": self.examples,
            "first": self.first_at.date().isoformat() if self.first_at else None,
            "last": self.last_at.date().isoformat() if self.last_at else None,
        }


# ----------------------------------------------------------------------------- vectors


def _bigrams(text: str) -> list[str]:
    out: list[str] = []
    for run in _HAN.findall(text or ""):
        if run[0].isascii():
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _terms(doc: HotDoc) -> list[str]:
    title = _bigrams(doc.title)
    return title + title + _bigrams(doc.content[:CONTENT_CHARS])


def vectorize(docs: Sequence[HotDoc]) -> sp.csr_matrix:
    """l2-normalised TF-IDF rows of character bigrams (title weighted twice)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=1)
    return vec.fit_transform([_terms(d) for d in docs]).tocsr()


def leader_clusters(x: sp.csr_matrix, threshold: float) -> np.ndarray:
    """Cluster id of each row: join the most similar centroid (cosine >= threshold) or lead a new one.

    Rows are taken in blocks: one sparse product compares a block with every centroid, another
    compares the block with itself (for clusters opened inside the block); centroids are rebuilt
    from the assignments after each block.
    """
    n = x.shape[0]
    assign = np.full(n, -1, dtype=np.int64)
    k = 0
    centroids = sp.csr_matrix((0, x.shape[1]))
    for start in range(0, n, BLOCK):
        block = x[start : start + BLOCK]
        to_old = (block @ centroids.T).toarray() if k else np.zeros((block.shape[0], 0))
        to_self = (block @ block.T).toarray()
        leaders: list[int] = []  # local rows that opened a cluster in this block
        opened: list[int] = []
        for i in range(block.shape[0]):
            best, best_sim = -1, threshold
            if to_old.shape[1]:
                j = int(to_old[i].argmax())
                if to_old[i, j] >= best_sim:
                    best, best_sim = j, to_old[i, j]
            if leaders:
                local = to_self[i, leaders]
                j = int(local.argmax())
                if local[j] >= best_sim:
                    best = opened[j]
            if best < 0:
                best = k
                k += 1
                leaders.append(i)
                opened.append(best)
            assign[start + i] = best
        done = start + block.shape[0]
        member = sp.csr_matrix((np.ones(done), (np.arange(done), assign[:done])), shape=(done, k))
        centroids = _normalise((member.T @ x[:done]).tocsr())
    return _merge_close(assign, centroids, threshold)


def _merge_close(assign: np.ndarray, centroids: sp.csr_matrix, threshold: float) -> np.ndarray:
    """One pass joining clusters whose centroids are as similar as a matter must be to join."""
    close = sp.triu(centroids @ centroids.T, k=1).tocoo()
    parent = np.arange(centroids.shape[0])

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, sim in zip(close.row, close.col, close.data, strict=True):
        if sim >= threshold:
            a, b = root(int(i)), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return np.array([root(int(c)) for c in assign], dtype=np.int64)


def _normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags(1.0 / norms) @ m).tocsr()


# ----------------------------------------------------------------------------- labels


@lru_cache(maxsize=65536)
def _words(text: str) -> tuple[str, ...]:
    """A title's label words; cached, as repeat petitions and copied titles recur in a month."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return tuple(
        w for w in jieba.lcut(text) if len(w) >= 2 and _HAN.fullmatch(w) and w not in _STOP
    )


def _label_clusters(docs: Sequence[HotDoc], clusters: list[Cluster], top: int = 4) -> None:
    """Top words of each cluster's titles (frequency × idf) and, without a recorded place,
    the district and locality its texts name most."""
    titles = [_words(d.title) for d in docs]
    df = Counter(w for ws in titles for w in set(ws))
    n = len(docs)
    for cluster in clusters:
        tf = Counter(w for i in cluster.members for w in titles[i])
        ranked = sorted(tf, key=lambda w: -(tf[w] * math.log(1 + n / df[w])))
        cluster.terms = ranked[:top]
        cluster.label = "·".join(cluster.terms) or docs[cluster.members[0]].title[:20]
        cluster.place = _dominant_place(docs, cluster.members, titles)


def _dominant_place(docs: Sequence[HotDoc], members: list[int], titles: list[list[str]]) -> str:
    recorded = Counter(docs[i].place for i in members if docs[i].place)
    if recorded:
        return recorded.most_common(1)[0][0]
    codes: Counter[str] = Counter()
    for i in members:
        codes.update(set(_PLACE_CODE.findall(docs[i].title + docs[i].content[:300])))
    district = next((p for p, _ in codes.most_common() if not p.endswith("市")), "")
    district = district or (codes.most_common(1)[0][0] if codes else "")
    spots = Counter(
        w
        for i in members
        for w in set(titles[i])
        if any(w.endswith(sfx) and len(w) >= len(sfx) + 2 for sfx in _LOCALITY)
    )
    spot = spots.most_common(1)[0] if spots else ("", 0)
    if spot[1] * 3 >= len(members):
        return f"{district} {spot[0]}".strip()
    return district


# ----------------------------------------------------------------------------- ranking


def heat_index(recency: float, growth: float, likes: int, against: int) -> float:
    """heat = R × (1 + g) + ln(1 + max(0, likes − against)); see the module docstring."""
    return recency * (1 + growth) + math.log1p(max(0, likes - against))


def _growth(count: int, prev: int) -> float:
    low, high = GROWTH_CLIP
    return min(high, max(low, (count - prev) / max(prev, 1)))


def hot_clusters(
    docs: Sequence[HotDoc],
    *,
    period: tuple[dt.datetime, dt.datetime] | None = None,
    threshold: float = 0.25,
    min_count: int = 2,
    top: int | None = None,
) -> list[Cluster]:
    """Clusters of `docs`, hottest first.

    With `period` = (start, end), only clusters with matters in [start, end) are kept; the docs
    should also hold the previous period (the same length before start) for the growth.
    """
    docs = sorted(docs, key=lambda d: (d.at, str(d.key)))
    if not docs:
        return []
    x = vectorize(docs)
    assign = leader_clusters(x, threshold)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(assign):
        groups.setdefault(int(c), []).append(i)
    clusters = []
    for members in groups.values():
        cluster = _measure(docs, members, period)
        if cluster.count >= min_count:
            clusters.append(cluster)
    clusters.sort(key=lambda c: (-c.heat, -c.count, str(docs[c.members[0]].key)))
    clusters = clusters[:top] if top else clusters
    _label_clusters(docs, clusters)
    for cluster in clusters:
        cluster.examples = _typical_titles(x, docs, cluster.members)
    for rank, cluster in enumerate(clusters):
        cluster.candidate = rank < CANDIDATES and cluster.count >= MIN_CANDIDATE
    return clusters


def _typical_titles(
    x: sp.csr_matrix, docs: Sequence[HotDoc], members: list[int], k: int = 3
) -> list[str]:
    """The k distinct titles nearest the cluster's centroid."""
    rows = x[members]
    sims = np.asarray(rows @ np.asarray(rows.mean(axis=0)).ravel()).ravel()
    titles: list[str] = []
    for i in np.argsort(-sims, kind="stable"):
        title = docs[members[int(i)]].title
        if title not in titles:
            titles.append(title)
        if len(titles) == k:
            break
    return titles


def _measure(docs: Sequence[HotDoc], members: list[int], period) -> Cluster:
    if period:
        start, end = period
        current = [i for i in members if start <= docs[i].at < end]
        prev = [i for i in members if start - (end - start) <= docs[i].at < start]
        decay = {
            i: 0.5 ** ((end - docs[i].at).total_seconds() / 86400 / HALF_LIFE_DAYS) for i in current
        }
        growth = _growth(len(current), len(prev))
    else:
        current, prev, growth = members, [], 0.0
        decay = dict.fromkeys(members, 1.0)
    per_person = Counter(_person(docs[i]) for i in current)
    recency = sum(w / per_person[_person(docs[i])] for i, w in decay.items())
    likes = sum(docs[i].likes for i in current)
    against = sum(docs[i].against for i in current)
    people = len(per_person)
    return Cluster(
        members=current or members,
        count=len(current),
        prev_count=len(prev),
        people=people,
        likes=likes,
        against=against,
        recency=recency,
        growth=growth,
        heat=heat_index(recency, growth, likes, against),
        examples=[docs[i].title for i in current[:3]],
        keys=[docs[i].key for i in current],
        first_at=docs[current[0]].at if current else None,
        last_at=docs[current[-1]].at if current else None,
    )


def _person(doc: HotDoc) -> str:
    return doc.user or f"#{doc.key}"


# ----------------------------------------------------------------------------- CSV and Excel


def read_hot_csv(path: str) -> list[HotDoc]:
    """Read a CSV with title, content, time and optional id, user, likes, against columns."""
    import csv

    docs = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            at = parse_time(row.get("time") or "")
            if at is None:
                continue
            docs.append(
                HotDoc(
                    key=row.get("id") or n,
                    title=row.get("title") or "",
                    content=row.get("content") or "",
                    at=at,
                    user=row.get("user") or "",
                    likes=_int(row.get("likes")),
                    against=_int(row.get("against")),
                )
            )
    return docs


def _int(value) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def parse_time(text: str) -> dt.datetime | None:
    """'2019/4/25 9:32:09', '2019-04-25 09:32' or a date alone, as Beijing time."""
    text = text.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(f"{text} +0800", f"{fmt} %z")
        except ValueError:
            continue
    return None


def month_period(month: str) -> tuple[dt.date, dt.date]:
    """'2019-11' -> (first day, first day of the next month)."""
    year, mon = (int(p) for p in month.split("-"))
    start = dt.date(year, mon, 1)
    end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


def previous_month_start(start: dt.date) -> dt.date:
    return (start - dt.timedelta(days=1)).replace(day=1)


HEADERS = [
    "排名",
    "热点",
    "属地",
    "本期件数",
    "上期件数",
    "增长",
    "人数",
    "点赞",
    "反对",
    "热度",
    "每月一题候选",
    "示例标题",
]


def write_xlsx(clusters: Sequence[Cluster], out, title: str = "热点问题") -> None:
    """Write the clusters as an Excel sheet to a path or a file-like object."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from xinfang.lib.xlsxcells import keep_text

    book = Workbook()
    sheet = book.active
    sheet.title = "热点问题"
    sheet.append([title])
    sheet.append(HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for rank, c in enumerate(clusters, 1):
        sheet.append(
            [
                rank,
                c.label,
                c.place,
                c.count,
                c.prev_count,
                f"{c.growth:+.0%}",
                c.people,
                c.likes,
                c.against,
                round(c.heat, 2),
                "是" if c.candidate else "",
                "；".join(c.examples),
            ]
        )
        keep_text(sheet[sheet.max_row])  # citizens' titles that start with "=" stay text
    for column, width in zip("ABCDEFGHIJKL", [6, 28, 12, 9, 9, 8, 6, 7, 7, 8, 12, 60], strict=True):
        sheet.column_dimensions[column].width = width
    book.save(out)
