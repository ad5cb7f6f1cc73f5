"""Sub-category and unit from the office's own routes (历史派单): where the most similar past
matters that the office confirmed were filed and sent.

The classifier names only a first-level category, and the dispatch catalogue (派单目录) then
takes its first matching line, which is often not where the office sends such a matter (烧烤
油烟 → 物业管理 → 街道办). The office's confirmed routes say better where this kind of matter goes.

- Confirmed (已确认的派单): the matter has a category and a lead unit, and that unit accepted it
  (受理). An objection (异议退回) clears the lead unit, so an objected route never counts, and a
  matter re-routed after an objection counts with the unit that finally accepted it.
- Only matters in the place itself or above it count: a unit that took a matter of a sibling
  town cannot act here, and the panel must not reveal what was sent in other places.
- Accusations and reports (检举控告, 举报) are left out: a count of similar ones, shown on the
  panel, would tell whoever types a text whether such reports exist.
- One similar-matter search per suggestion set (the bigram index and rapidfuzz of `similar`),
  then a vote per suggested first-level category, weighted by similarity, by how near the
  matter's place is and by age. Fewer than MIN_SUPPORT precedents: the catalogue decides.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.cases.models import Case, Kind
from xinfang.orgs.models import Category, Unit
from xinfang.routing import similar

MIN_SUPPORT = 2  # precedents under a first-level category before history speaks for it
MIN_SCORE = 50.0  # similarity (0-100) below which a past matter is about something else
NEIGHBOURS = 15  # the most similar precedents that vote, across all categories
PLACE_DECAY = 0.5  # weight of a precedent one place up the chain (区县 for a 乡镇 matter)
HALF_LIFE_DAYS = 365  # the weight of a route halves each year: offices reorganise
# Precedents are looked for across years, not only among recent duplicates: terms are told apart
# up to this many matters (similar.DF_CAP's 500 ties most title bigrams at 100,000 matters).
DF_CAP = 5000
NO_PRECEDENT_KINDS = (Kind.ACCUSATION, Kind.HOTLINE_REPORT)


@dataclass(frozen=True)
class Precedent:
    """先例: one similar confirmed matter, as ids only (nothing of it reaches the page)."""

    case_id: int
    score: float
    top_id: int  # its first-level category
    category_id: int
    unit_id: int
    rank: int  # 0: the matter's own place; 1: the place above it; …
    weight: float


@dataclass
class HistoryPick:
    """The sub-category and unit the precedents under one first-level category point to."""

    subcategory: Category | None
    unit: Unit | None
    support: int  # how many precedents (依据：相似事项 N 件)


MAX_PLACE_DEPTH = 10  # 省、市、县、乡、村 and a margin; also ends a cycle an import made
PLACE_CHAIN_SQL = """WITH RECURSIVE chain(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM orgs_place WHERE id = %s
    UNION ALL
    SELECT p.id, p.parent_id, c.depth + 1 FROM orgs_place p
    JOIN chain c ON p.id = c.parent_id WHERE c.depth < %s
) SELECT id FROM chain ORDER BY depth"""  # orgs.Place's table


def place_chain(place_id: int | None) -> list[int]:
    """The place and its ancestors, nearest first.

    One recursive query along the parents only: a province's table holds tens of thousands of
    villages, which every registration's suggestion would otherwise read."""
    if not place_id:
        return []
    with connection.cursor() as cursor:
        cursor.execute(PLACE_CHAIN_SQL, [place_id, MAX_PLACE_DEPTH])
        chain: list[int] = []
        for (pk,) in cursor.fetchall():
            if pk in chain:  # a cycle: the chain ends where it repeats
                break
            chain.append(pk)
    return chain


def confirmed_cases(cases: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """Matters whose category and route the office confirmed (the lead unit accepted it)."""
    qs = Case.objects.all() if cases is None else cases
    return qs.filter(
        category__isnull=False, lead_unit__isnull=False, accepted_at__isnull=False
    ).exclude(kind__in=NO_PRECEDENT_KINDS)


def precedents(
    *,
    title: str,
    content: str,
    chain: list[int],
    exclude_ids: Iterable[int] = (),
    before: dt.datetime | None = None,
    cases: QuerySet[Case] | None = None,
    now: dt.datetime | None = None,
) -> list[Precedent]:
    """The most similar confirmed matters in the places of `chain`, best first (one search).

    `before` keeps only matters registered and accepted before it (a held-out month sees no
    later routes).
    """
    if not chain or not (title or content).strip():
        return []
    ids = similar.candidate_ids(similar.distinctive_terms(title, content, cap=DF_CAP))
    if not ids:
        return []
    rows = confirmed_cases(cases).filter(id__in=ids, place_id__in=chain)
    if exclude := tuple(exclude_ids):
        rows = rows.exclude(id__in=exclude)
    if before is not None:
        rows = rows.filter(registered_at__lt=before, accepted_at__lt=before)
    found = rows.order_by("-id").values_list(
        "id",
        "title",
        "content",
        "category_id",
        "category__parent_id",
        "lead_unit_id",
        "place_id",
        "registered_at",
    )[: similar.RERANK]
    score = similar.scorer(title, content)
    now = before or now or timezone.now()
    out = []
    for pk, other_title, other_content, category, parent, unit, place, at in found:
        s = score(other_title, other_content)
        if s < MIN_SCORE:
            continue
        age = max((now - at).total_seconds() / 86400, 0.0)
        rank = chain.index(place)
        weight = s / 100 * PLACE_DECAY**rank * 0.5 ** (age / HALF_LIFE_DAYS)
        out.append(Precedent(pk, s, parent or category, category, unit, rank, weight))
    out.sort(key=lambda p: (-p.score, -p.case_id))
    return out[:NEIGHBOURS]


def _best(weights: dict[int, float]) -> int | None:
    # the heaviest; between equal weights the smaller id, so the answer never depends on order
    return min(weights, key=lambda k: (-weights[k], k)) if weights else None


def vote(found: list[Precedent], top_id: int) -> tuple[int | None, int | None, int]:
    """(sub-category id, unit id, support) of the precedents under first-level `top_id`.

    Nothing (None, None, n) when fewer than MIN_SUPPORT precedents. As in the catalogue, the
    most specific place wins: when the matter's own place (or the nearest place above it) has
    MIN_SUPPORT precedents, only those vote, since matters of the whole county went to county
    bureaus that a town's own matters need not go to. The unit is voted among the precedents
    of the chosen sub-category, so the pair shown is one the office actually used.
    """
    group = [p for p in found if p.top_id == top_id]
    if len(group) < MIN_SUPPORT:
        return None, None, len(group)
    for rank in sorted({p.rank for p in group}):
        nearest = [p for p in group if p.rank == rank]
        if len(nearest) >= MIN_SUPPORT:
            group = nearest
            break
    subs: dict[int, float] = defaultdict(float)
    for p in group:
        if p.category_id != top_id:  # filed under the first level only: says no sub-category
            subs[p.category_id] += p.weight
    sub = _best(subs)
    units: dict[int, float] = defaultdict(float)
    for p in group:
        if sub is None or p.category_id == sub:
            units[p.unit_id] += p.weight
    return sub, _best(units), len(group)


def picks(found: list[Precedent], tops: Iterable[Category]) -> dict[int, HistoryPick]:
    """A HistoryPick per first-level category with enough precedents (two queries at most)."""
    voted = {top.pk: vote(found, top.pk) for top in tops}
    voted = {k: v for k, v in voted.items() if v[2] >= MIN_SUPPORT}
    sub_ids = {s for s, _u, _n in voted.values() if s}
    unit_ids = {u for _s, u, _n in voted.values() if u}
    subs = Category.objects.select_related("parent").in_bulk(sub_ids) if sub_ids else {}
    units = Unit.objects.in_bulk(unit_ids) if unit_ids else {}
    return {
        top: HistoryPick(subs.get(s) if s else None, units.get(u) if u else None, n)
        for top, (s, u, n) in voted.items()
    }


def history_pick(
    *,
    title: str,
    content: str,
    place_id: int | None,
    tops: Iterable[Category],
    exclude_ids: Iterable[int] = (),
    before: dt.datetime | None = None,
    cases: QuerySet[Case] | None = None,
) -> dict[int, HistoryPick]:
    """Per first-level category (by id) in `tops`: the sub-category and unit of the most similar
    confirmed past matters in this place or above it; categories with too few are left out
    (the catalogue decides for them). One similar-matter search for all of `tops`."""
    found = precedents(
        title=title,
        content=content,
        chain=place_chain(place_id),
        exclude_ids=exclude_ids,
        before=before,
        cases=cases,
    )
    return picks(found, tops)
