"""Reads of 考核: the figures an assessment is computed from, who sees which assessment, and the
accountability record (责任追究台账) behind each deduction.

Counting is SQL: the rates come from `reports.selectors.rates_table(user, period, by="unit")`
(one GROUP BY query per rate), each deduction or credit is one GROUP BY query over its rows
(`items.ITEMS`). Nothing loops over matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from xinfang.assessment.items import ITEM_BY_NAME, ITEMS, Item, Window, event_rows
from xinfang.assessment.models import Assessment, AssessmentLine, Scheme
from xinfang.cases import access
from xinfang.cases.models import Case
from xinfang.orgs.models import Role, Unit, User
from xinfang.orgs.selectors import subtree_ids
from xinfang.reports.rates import BY_NAME
from xinfang.reports.selectors import Period, rates_table

# Rates where a higher figure is worse: the indicator scores the complement (100% − rate).
LOWER_IS_BETTER = frozenset({"review_reversal"})
CENT = Decimal("0.01")
RECORD_LIMIT = 2000  # lines per item on the record page (the export has them all)


def q2(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- the scheme


def active_scheme() -> Scheme | None:
    return (
        Scheme.objects.filter(active=True).order_by("-pk").first()
        or Scheme.objects.order_by("-pk").first()
    )


def scheme_snapshot(scheme: Scheme) -> dict:
    """The scheme as data, frozen into each assessment computed with it."""
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "urge_response_days": scheme.urge_response_days,
        "indicators": [
            {
                "rate": i.rate,
                "label": BY_NAME[i.rate].label if i.rate in BY_NAME else i.rate,
                "weight": str(i.weight),
                "lower_is_better": i.rate in LOWER_IS_BETTER,
                "definition": BY_NAME[i.rate].definition if i.rate in BY_NAME else "",
            }
            for i in scheme.indicators.order_by("position", "pk")
            if i.rate in BY_NAME
        ],
        "items": [
            {
                "item": a.item,
                "label": ITEM_BY_NAME[a.item].label,
                "sign": ITEM_BY_NAME[a.item].sign,
                "points": str(a.points),
                "cap": None if a.cap is None else str(a.cap),
                "definition": ITEM_BY_NAME[a.item].definition,
            }
            for a in scheme.adjustments.order_by("position", "pk")
            if a.item in ITEM_BY_NAME
        ],
    }


# ---------------------------------------------------------------- counting


def window(period: Period, now: dt.datetime | None = None, urge_days: int = 5) -> Window:
    start, end = period.bounds
    return Window(start, end, now or timezone.now(), urge_days)


def scoped(qs: QuerySet, user: User) -> QuerySet:
    """Only rows counted for a unit in the user's scope (as the rates table counts them: a row
    counts for its unit even when the matter has since left that unit). The record shows such a
    matter without a link or a title (`record`)."""
    ids = access.scope_unit_ids(user)
    if ids is None:
        return qs
    return qs.filter(_unit__in=ids) if ids else qs.none()


def item_rows(user: User, item: Item, w: Window) -> QuerySet:
    return scoped(item.rows(w), user)


def all_counts(user: User, items, w: Window) -> dict[str, dict[int, int]]:
    """{item: {unit id: rows}}: one GROUP BY scan of the timeline for the timeline items, one
    GROUP BY query for each of the others."""
    counts: dict[str, dict[int, int]] = {i.name: {} for i in items}
    timeline = [i for i in items if i.on_timeline]
    if timeline:
        grouped = (
            scoped(event_rows(timeline, w), user)
            .values("_item", "_unit")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in grouped:
            if row["_unit"] is not None:
                counts[row["_item"]][row["_unit"]] = row["n"]
    for item in items:
        if not item.on_timeline:
            grouped = item_rows(user, item, w).values("_unit").annotate(n=Count("pk")).order_by()
            counts[item.name] = {
                row["_unit"]: row["n"] for row in grouped if row["_unit"] is not None
            }
    return counts


@dataclass
class Line:
    unit: Unit
    indicators: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    indicator_score: Decimal = Decimal(0)
    deductions: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)
    has_data: bool = False
    total: Decimal | None = None
    rank: int | None = None


def _indicator_part(snapshot: dict, figures: dict) -> tuple[list[dict], Decimal, bool]:
    """Each indicator's score (pct × weight), and the indicators' total: indicators with no
    denominator do not apply, and the others are scaled to the full weight."""
    out, scored, applicable, full = [], Decimal(0), Decimal(0), Decimal(0)
    for ind in snapshot["indicators"]:
        weight = Decimal(ind["weight"])
        full += weight
        fig = figures.get(ind["rate"])
        numerator, denominator = (fig.numerator, fig.denominator) if fig else (0, 0)
        pct = None if not denominator else Decimal(str(numerator)) * 100 / denominator
        score = None
        if pct is not None:
            share = (100 - pct) if ind["lower_is_better"] else pct
            score = q2(share * weight / 100)
            scored += share * weight / 100
            applicable += weight
        out.append(
            {
                "rate": ind["rate"],
                "label": ind["label"],
                "weight": float(weight),
                "numerator": float(numerator),
                "denominator": denominator,
                "pct": None if pct is None else float(q2(pct)),
                "score": None if score is None else float(score),
            }
        )
    if not applicable:
        return out, Decimal(0), False
    return out, q2(scored * full / applicable), True


def _item_part(
    snapshot: dict, counts: dict[str, dict[int, int]], unit_id: int
) -> tuple[list[dict], Decimal, Decimal]:
    out, minus, plus = [], Decimal(0), Decimal(0)
    for spec in snapshot["items"]:
        n = counts.get(spec["item"], {}).get(unit_id, 0)
        amount = Decimal(spec["points"]) * n
        if spec["cap"] is not None:
            amount = min(amount, Decimal(spec["cap"]))
        amount = q2(amount)
        if spec["sign"] == "credit":
            plus += amount
        else:
            minus += amount
        out.append(
            {
                "item": spec["item"],
                "label": spec["label"],
                "sign": spec["sign"],
                "count": n,
                "points": float(spec["points"]),
                "cap": None if spec["cap"] is None else float(spec["cap"]),
                "amount": float(amount),
            }
        )
    return out, minus, plus


def rank(lines: list[Line]) -> list[Line]:
    """Highest total first; equal totals share a rank (1, 1, 3); 无数据 last, unranked."""
    ranked = sorted((x for x in lines if x.has_data), key=lambda x: (-x.total, x.unit.path))
    previous, place = None, 0
    for i, line in enumerate(ranked, 1):
        if line.total != previous:
            place, previous = i, line.total
        line.rank = place
    rest = sorted((x for x in lines if not x.has_data), key=lambda x: x.unit.path)
    return ranked + rest


def assessed_units(user: User, root: Unit | None) -> list[Unit]:
    """The units an assessment covers: `root`'s subtree (all units without one), in the user's scope."""
    qs = Unit.objects.all()
    if root is not None:
        qs = qs.filter(pk__in=subtree_ids(root))
    ids = access.scope_unit_ids(user)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("path"))


def compute_lines(
    user: User, snapshot: dict, period: Period, *, root: Unit | None, now: dt.datetime | None = None
) -> list[Line]:
    """Every unit's scores for the period, ranked. Reads only (the bench calls it too)."""
    w = window(period, now, snapshot.get("urge_response_days", 5))
    table = rates_table(user, period, by="unit")
    figures = {row.key: row.figures for row in table.rows}
    counts = all_counts(user, [ITEM_BY_NAME[spec["item"]] for spec in snapshot["items"]], w)
    lines = []
    for unit in assessed_units(user, root):
        line = Line(unit)
        line.indicators, line.indicator_score, line.has_data = _indicator_part(
            snapshot, figures.get(str(unit.pk), {})
        )
        line.items, line.deductions, line.credits = _item_part(snapshot, counts, unit.pk)
        if line.has_data:
            line.total = q2(line.indicator_score - line.deductions + line.credits)
        lines.append(line)
    return rank(lines)


# ---------------------------------------------------------------- who sees which assessment


def is_assessor(user: User) -> bool:
    return user.is_authenticated and (
        user.role in {Role.SUPERVISOR, Role.ADMIN} or user.is_superuser
    )


def visible_assessments(user: User) -> QuerySet[Assessment]:
    """Supervisors: every assessment of a scope inside theirs (drafts too). Everyone else: the
    published ones that rank a unit in their scope."""
    qs = Assessment.objects.select_related(
        "unit", "scheme", "computed_by", "reviewed_by", "published_by"
    )
    ids = access.scope_unit_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    published = Q(
        status=Assessment.Status.PUBLISHED,
        pk__in=AssessmentLine.objects.filter(unit_id__in=ids).values("assessment_id"),
    )
    if is_assessor(user):
        return qs.filter(Q(unit_id__in=ids) | published)
    return qs.filter(published)


def assessment_for_user(user: User, pk: int) -> Assessment | None:
    return visible_assessments(user).filter(pk=pk).first()


def may_manage(user: User, assessment: Assessment) -> bool:
    """Recompute, review, publish: a supervisor whose scope holds the assessment's, or an admin."""
    if not is_assessor(user):
        return False
    ids = access.scope_unit_ids(user)
    return ids is None or (assessment.unit_id is not None and assessment.unit_id in ids)


def lines_for_user(user: User, assessment: Assessment) -> list[tuple[AssessmentLine, bool]]:
    """The ranking, each line with whether `user` may read its breakdown: the assessor of the
    scope all of them; a unit its own (and, for heads, its subtree's)."""
    lines = list(assessment.lines.select_related("unit").order_by("pk"))
    if may_manage(user, assessment):
        return [(line, True) for line in lines]
    ids = set(access.scope_unit_ids(user) or [])
    return [(line, line.unit_id in ids) for line in lines]


# ---------------------------------------------------------------- the accountability record


@dataclass
class RecordLine:
    case: Case | None  # None: a matter the viewer may not open
    at: dt.datetime


def record(
    user: User,
    unit: Unit,
    period: Period,
    *,
    urge_days: int = 5,
    now: dt.datetime | None = None,
    items: tuple[Item, ...] = ITEMS,
    limit: int | None = RECORD_LIMIT,
) -> list[tuple[Item, int, list[RecordLine]]]:
    """Per item, the rows counted for `unit` in the period and their count: exactly what the
    assessment deducts or credits. A matter `user` may not open is listed without link or title."""
    w = window(period, now, urge_days)
    counts = all_counts(user, items, w)
    rows: dict[str, list[tuple[int, dt.datetime]]] = {i.name: [] for i in items}
    timeline = [i for i in items if i.on_timeline]
    if timeline:
        found = scoped(event_rows(timeline, w), user).filter(_unit=unit.pk)
        for name, case_id, at in found.values_list("_item", "_case", "_at").order_by("_at", "pk"):
            if limit is None or len(rows[name]) < limit:
                rows[name].append((case_id, at))
    for item in items:
        if not item.on_timeline:
            qs = (
                item_rows(user, item, w)
                .filter(_unit=unit.pk)
                .values_list("_case", "_at")
                .order_by("_at", "pk")
            )
            rows[item.name] = list(qs if limit is None else qs[:limit])
    ids = {c for pairs in rows.values() for c, _ in pairs}
    visible = {
        c.pk: c for c in access.visible_cases(user).filter(pk__in=ids).only("id", "number", "title")
    }
    return [
        (
            item,
            counts[item.name].get(unit.pk, 0),
            [RecordLine(visible.get(c), at) for c, at in rows[item.name]],
        )
        for item in items
    ]


def record_units(user: User) -> list[Unit]:
    """Units whose record `user` may read: those in scope."""
    ids = access.scope_unit_ids(user)
    qs = Unit.objects.all() if ids is None else Unit.objects.filter(pk__in=ids)
    return list(qs.order_by("path"))


def assessment_json(user: User, assessment: Assessment) -> dict:
    """An assessment as data (the page's JSON twin and the API's answer)."""

    def who(u) -> str:
        return str(u) if u is not None else ""

    def when(t) -> str | None:
        return timezone.localtime(t).isoformat() if t else None

    ranking = []
    for line, open_ in lines_for_user(user, assessment):
        row = {
            "unit": {"id": line.unit_id, "name": line.unit.name},
            "has_data": line.has_data,
            "rank": line.rank,
            "total": None if line.total is None else float(line.total),
        }
        if open_:
            row.update(
                {
                    "indicator_score": float(line.indicator_score),
                    "deductions": float(line.deductions),
                    "credits": float(line.credits),
                    "indicators": line.breakdown.get("indicators", []),
                    "items": line.breakdown.get("items", []),
                }
            )
        ranking.append(row)
    return {
        "id": assessment.pk,
        "scope": assessment.scope_name,
        "unit_id": assessment.unit_id,
        "from": assessment.period_start.isoformat(),
        "to": assessment.period_end.isoformat(),
        "status": assessment.status,
        "status_label": assessment.get_status_display(),
        "scheme": assessment.scheme_snapshot,
        "computed_at": when(assessment.computed_at),
        "computed_by": who(assessment.computed_by),
        "reviewed_at": when(assessment.reviewed_at),
        "reviewed_by": who(assessment.reviewed_by),
        "published_at": when(assessment.published_at),
        "published_by": who(assessment.published_by),
        "ranking": ranking,
    }


def assessment_summary(assessment: Assessment) -> dict:
    return {
        "id": assessment.pk,
        "scope": assessment.scope_name,
        "from": assessment.period_start.isoformat(),
        "to": assessment.period_end.isoformat(),
        "status": assessment.status,
        "status_label": assessment.get_status_display(),
        "scheme": assessment.scheme.name,
        "computed_at": timezone.localtime(assessment.computed_at).isoformat(),
    }
