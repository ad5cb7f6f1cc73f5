"""Similar matters (相似事项): candidates from the bigram index, re-ranked with rapidfuzz.

Candidate search stays cheap at a million matters because it never ranks the whole index:

1. The title's bigrams are ranked by how many matters contain them (document frequency, each
   count capped at `DF_CAP` so a common bigram costs no more than a rare one; counts of common
   bigrams are remembered for an hour, so they are not counted again), and the rarest
   `RARE_TERMS` that occur at all are kept: they say what this matter is about.
2. One OR query over those bigrams walks the index newest-first and stops after `CANDIDATES`
   ids (FTS5 `ORDER BY rowid DESC LIMIT`; ids grow with registration time).
3. Those ids are narrowed in the case table to the same place, to what the user may see, and
   to open matters or matters registered within the recent window.
4. The survivors are re-ranked on title and content with rapidfuzz; those above a minimum
   score are returned, best first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from rapidfuzz import fuzz

from xinfang.cases import search
from xinfang.cases.models import CLOSED_STATES, Case

DF_CAP = 500
RARE_TERMS = 4
MAX_TERMS = 12
CANDIDATES = 300
RERANK = 60
CONTENT_CHARS = 200


@dataclass
class SimilarCase:
    case: Case
    score: float  # 0-100


def _matches(terms: list[str]) -> list[tuple[str, str]]:
    """(SQL selecting the ids of matters containing the term, its parameter) of each term, as
    search.py matches: each term is one token of search.tokens, so never without a match."""
    return [search._match_sql(t) for t in terms]  # type: ignore[misc]


# Counts remembered: (database, term) -> (count, exact, monotonic time it expires). Counting a
# common term is the costly part (PostgreSQL builds the GIN bitmap of all its matters before
# the LIMIT). A count that reached its cap stays there (matters are not deleted); a count of
# MEMO_MIN or more moves too slowly within SATURATED_TTL to change which terms are rarest.
# Smaller counts, the rare terms that decide, are always read afresh, so a small office or a
# test database sees exact counts. Per process and bounded.
SATURATED_TTL = 3600.0
SATURATED_MAX = 200_000
MEMO_MIN = 200
_saturated: dict[tuple[str, str], tuple[int, bool, float]] = {}


def _remembered(db: str, term: str, cap: int, now: float) -> int | None:
    count, exact, until = _saturated.get((db, term), (0, False, 0.0))
    if until > now and (exact or count >= cap):
        return min(count, cap)
    return None


def document_frequencies(terms: list[str], cap: int = DF_CAP) -> dict[str, int]:
    """How many matters contain each term (capped at `cap`), in one query (none when every
    term's count is remembered)."""
    if not terms:
        return {}
    now, db = time.monotonic(), str(connection.settings_dict.get("NAME"))
    known = {}
    for term in terms:
        if (n := _remembered(db, term, cap, now)) is not None:
            known[term] = n
    ask = [t for t in terms if t not in known]
    counted: dict[str, int] = {}
    if ask:
        matches = _matches(ask)
        one = f"(SELECT count(*) FROM ({matches[0][0]} LIMIT {int(cap)}) AS t{{i}})"  # noqa: S608 - constant SQL
        sql = "SELECT " + ", ".join(one.format(i=i) for i in range(len(matches)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [param for _sql, param in matches])
            found = cursor.fetchone()
        counted = {term: int(n) for term, n in zip(ask, found, strict=True)}
        if len(_saturated) > SATURATED_MAX:
            _saturated.clear()
        for term, n in counted.items():
            if n >= cap or n >= MEMO_MIN:
                _saturated[(db, term)] = (n, n < cap, now + SATURATED_TTL)
    return {term: known[term] if term in known else counted[term] for term in terms}


def distinctive_terms(
    title: str, content: str = "", k: int = RARE_TERMS, cap: int = DF_CAP
) -> list[str]:
    """The rarest bigrams of the title (or, for a short title, of the content's start) that occur.

    Counts stop at `cap`: terms above it tie and the title's first ones win, so a larger cap
    tells more terms apart in a large index (at the cost of counting further)."""
    terms = list(dict.fromkeys(t for t in search.tokens(title) if len(t) >= 2 and not t.isdigit()))
    if len(terms) < k:
        extra = [t for t in search.tokens(content[:60]) if len(t) >= 2 and not t.isdigit()]
        terms = list(dict.fromkeys([*terms, *extra]))
    terms = terms[:MAX_TERMS]
    df = document_frequencies(terms, cap)
    present = sorted((n, i, t) for i, (t, n) in enumerate(df.items()) if n > 0)
    return [t for _n, _i, t in present[:k]]


def candidate_ids(terms: list[str]) -> list[int]:
    """Ids of the newest matters containing any of `terms` (at most CANDIDATES)."""
    if not terms:
        return []
    matches = _matches(terms)
    pg = connection.vendor == "postgresql"
    any_term = (" | " if pg else " OR ").join(param for _sql, param in matches)
    order = "case_id" if pg else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"{matches[0][0]} ORDER BY {order} DESC LIMIT {CANDIDATES}", [any_term])
        return [row[0] for row in cursor.fetchall()]


def _content_key(content: str) -> str:
    return " ".join(search.tokens(content[:CONTENT_CHARS]))


def score(title: str, content: str, other_title: str, other_content: str) -> float:
    """Similarity 0-100 of two matters: half title, half the start of the content (as bigrams)."""
    return _score(title, _content_key(content), other_title, other_content)


def scorer(title: str, content: str) -> Callable[[str, str], float]:
    """`score` against one matter, its content key made once: (other title, other content) -> 0-100."""
    key = _content_key(content)
    return lambda other_title, other_content: _score(title, key, other_title, other_content)


def _score(title: str, key: str, other_title: str, other_content: str) -> float:
    title_score = fuzz.ratio(title, other_title)
    other_key = _content_key(other_content)
    content_score = fuzz.token_set_ratio(key, other_key) if key and other_key else title_score
    return 0.5 * title_score + 0.5 * content_score


def find_similar(
    qs: QuerySet[Case],
    *,
    title: str,
    content: str,
    place_id: int | None,
    since: dt.datetime,
    exclude_ids: tuple[int, ...] = (),
    min_score: float = 45,
    limit: int = 8,
) -> list[SimilarCase]:
    """Matters in `qs` (already limited to what the user may see) about the same problem."""
    ids = candidate_ids(distinctive_terms(title, content))
    if not ids:
        return []
    rows = qs.filter(id__in=ids).exclude(id__in=exclude_ids)
    if place_id:
        rows = rows.filter(place_id=place_id)
    rows = rows.filter(Q(registered_at__gte=since) | ~Q(state__in=CLOSED_STATES))
    found = list(
        rows.order_by("-id").only(
            "id", "number", "title", "content", "state", "registered_at", "place_id", "linked_to_id"
        )[:RERANK]
    )
    key = _content_key(content)
    scored = [SimilarCase(c, _score(title, key, c.title, c.content)) for c in found]
    scored = [s for s in scored if s.score >= min_score]
    scored.sort(key=lambda s: (-s.score, -s.case.pk))
    return scored[:limit]
