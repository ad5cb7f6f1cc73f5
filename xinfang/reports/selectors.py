"""Reads of the rates: the table (one GROUP BY query per rate) and the matters behind a figure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Channel
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.reports import rollup
from xinfang.reports.models import RateCell, RateConfig, RateFact
from xinfang.reports.rates import (
    BY_NAME,
    COMPOSITE,
    RATES,
    Rate,
    composite_definition,
)

GROUPINGS = {
    "unit": ("单位", "_unit"),
    "place": ("问题属地", "case__place_id"),
    "category": ("事项分类", "case__category_id"),
    "channel": ("来源渠道", "case__channel"),
    "all": ("合计", None),
}
# The rollup's column for each grouping (`RateFact`).
FACT_COLUMNS = {
    "_unit": "unit_id",
    "case__place_id": "place_id",
    "case__category_id": "category_id",
    "case__channel": "channel",
}
TOTAL = "all"
NONE_KEY = "none"  # a matter without a category


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, included
    end: dt.date  # last day, included

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=LOCAL)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL)
        return first, after


def current_quarter(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    first_month = (today.month - 1) // 3 * 3 + 1
    start = dt.date(today.year, first_month, 1)
    nxt = dt.date(today.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return Period(start, nxt - dt.timedelta(days=1))


@dataclass
class Figure:
    numerator: float
    denominator: int

    @property
    def pct(self) -> float | None:
        return None if not self.denominator else round(100 * self.numerator / self.denominator, 2)

    @property
    def numerator_text(self) -> str:
        n = self.numerator
        return str(int(n)) if float(n).is_integer() else f"{n:.1f}"


@dataclass
class Row:
    key: str
    label: str
    figures: dict[str, Figure] = field(default_factory=dict)
    composite: float | None = None


@dataclass
class Table:
    period: Period
    by: str
    rows: list[Row]
    total: Row
    config: RateConfig
    rates: tuple[Rate, ...] = RATES
    freshness: rollup.Freshness | None = None


def _in_scope(qs: QuerySet, user: User) -> QuerySet:
    """Only rows counted for a unit in the user's scope (their unit; heads and supervisors the
    subtree). A row counts for its unit even when the matter has since left that unit (a 12345
    dispatch sent back, say): the drill-down then names the matter without its content."""
    ids = access.scope_unit_ids(user)
    if ids is None:
        return qs
    return qs.filter(unit_id__in=ids) if ids else qs.none()


def _days(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.end)


def rate_rows(user: User, rate: Rate, period: Period) -> QuerySet:
    """The denominator rows of `rate` that `user` may count, in the period (from the rollup,
    which counts exactly what `rate.rows` declares), with `_unit`, `_at` and `case`."""
    facts = RateFact.objects.filter(_days(period), rate=rate.name)
    return _in_scope(facts, user).annotate(_unit=F("unit_id"), _at=F("at"))


def _group_key(value) -> str:
    return NONE_KEY if value is None else str(value)


def _labels(by: str, keys: set[str]) -> dict[str, str]:
    real = [k for k in keys if k != NONE_KEY]
    if by == "channel":
        names = dict(Channel.choices)
        found = {k: names.get(k, k) for k in real}
    elif by in {"unit", "place", "category"}:
        model = {"unit": Unit, "place": Place, "category": Category}[by]
        ids = [int(k) for k in real if k.isdigit()]
        found = {str(o.pk): str(o.name) for o in model.objects.filter(pk__in=ids)}
    else:
        found = {}
    return {k: found.get(k, "（未分类）" if k == NONE_KEY else k) for k in keys}


def _composite(figures: dict[str, Figure], config: RateConfig) -> float | None:
    weights = (config.response_weight, config.resolution_weight, config.satisfaction_weight)
    parts = [figures.get(name) for name in COMPOSITE]
    if any(f is None or f.pct is None for f in parts):
        return None
    return round(sum(float(w) * f.pct for w, f in zip(weights, parts, strict=True)), 2)


def _figure(rate: Rate, n: int, b: int, d: int, weight: Decimal) -> Figure:
    numerator = n + float(weight) * b if rate.weighted else n
    return Figure(numerator, d)


def _cells(user: User, period: Period) -> list[tuple[str, int | None, int, int, int]]:
    """(rate, unit, numerator, basically, denominator) per unit over the period's day cells."""
    cells = _in_scope(RateCell.objects.filter(_days(period)), user)
    return list(
        cells.values_list("rate", "unit_id")
        .annotate(n=Sum("numerator"), b=Sum("basically"), d=Sum("denominator"))
        .order_by()
    )


def _grouped_facts(user: User, period: Period, column: str):
    """(rate, group, numerator, basically, denominator) per place, category or channel."""
    for rate in RATES:
        facts = _in_scope(RateFact.objects.filter(_days(period), rate=rate.name), user)
        grouped = (
            facts.values_list(column)
            .annotate(n=Count("pk", filter=Q(hit=1)), b=Count("pk", filter=Q(hit=2)), d=Count("pk"))
            .order_by()
        )
        for key, n, b, d in grouped:
            yield rate.name, key, n, b, d


def rates_table(user: User, period: Period, by: str = "unit") -> Table:
    """Every rate for every group of `by` (and the total), n/d per cell, read from the rollup
    (`rollup.py`): day cells for units and the total, counted rows for the other groupings."""
    if by not in GROUPINGS:
        raise ValueError(by)
    freshness = rollup.refresh(limit=rollup.INLINE_LIMIT)
    config = RateConfig.current()
    weight = Decimal(config.basically_weight)
    sums: dict[str, dict[str, list[int]]] = {}
    totals: dict[str, list[int]] = {r.name: [0, 0, 0] for r in RATES}
    cells = _cells(user, period)
    for name, _unit, n, b, d in cells:
        _add(totals.setdefault(name, [0, 0, 0]), n, b, d)
    column = GROUPINGS[by][1]
    if column == "_unit":
        groups = ((name, unit, n, b, d) for name, unit, n, b, d in cells)
    elif column is not None:
        groups = _grouped_facts(user, period, FACT_COLUMNS[column])
    else:
        groups = iter(())
    for name, key, n, b, d in groups:
        _add(sums.setdefault(_group_key(key), {}).setdefault(name, [0, 0, 0]), n, b, d)
    total = Row(TOTAL, "合计", {r.name: _figure(r, *totals[r.name], weight) for r in RATES})
    labels = _labels(by, set(sums))
    rows = []
    for key, per_rate in sums.items():
        figures = {r.name: _figure(r, *per_rate.get(r.name, (0, 0, 0)), weight) for r in RATES}
        rows.append(Row(key, labels[key], figures, _composite(figures, config)))
    total.composite = _composite(total.figures, config)
    ordered = sorted(rows, key=lambda r: (r.key == NONE_KEY, r.label))
    return Table(period, by, ordered, total, config, freshness=freshness)


def _add(acc: list[int], n: int, b: int, d: int) -> None:
    acc[0] += n or 0
    acc[1] += b or 0
    acc[2] += d or 0


def drill_rows(user: User, rate: Rate, part: str, period: Period, by: str, group: str) -> QuerySet:
    """The rows behind one figure: exactly those counted in its numerator or denominator."""
    rollup.refresh(limit=rollup.INLINE_LIMIT)
    qs = rate_rows(user, rate, period)
    if part == "numerator":
        qs = qs.filter(hit__gt=0)
    column = GROUPINGS[by][1]
    if column is not None and group != TOTAL:
        column = FACT_COLUMNS[column]
        qs = (
            qs.filter(**{f"{column}__isnull": True})
            if group == NONE_KEY
            else qs.filter(**{column: group})
        )
    visible = (
        Value(True)
        if access.scope_unit_ids(user) is None
        else Exists(access.visible_cases(user).filter(pk=OuterRef("case_id")))
    )
    return (
        qs.annotate(_visible=visible)
        .select_related("case", "case__lead_unit")
        .order_by("_at", "pk")
    )


HIDDEN_TITLE = "（该事项已不在本单位办理范围，内容不显示）"


def shown_title(row) -> str:
    """A drill-down row's title, or a placeholder when the matter has left the user's units
    (a 12345 dispatch sent back, say): it still counts for the unit, but its content is not the
    unit's to read."""
    return row.case.title if row._visible else HIDDEN_TITLE


def unit_names(ids) -> dict[int, str]:
    return dict(Unit.objects.filter(pk__in={i for i in ids if i}).values_list("pk", "name"))


def rate(name: str) -> Rate | None:
    return BY_NAME.get(name)


def table_json(table) -> dict:
    """The rates table as data (the page's JSON twin and the API's answer)."""

    def figures(row) -> dict:
        out = {}
        for rate in RATES:
            f = row.figures[rate.name]
            out[rate.name] = {"numerator": f.numerator, "denominator": f.denominator, "pct": f.pct}
        return out

    fresh = table.freshness
    return {
        "from": table.period.start.isoformat(),
        "to": table.period.end.isoformat(),
        "by": table.by,
        "as_of": fresh.refreshed_at.isoformat() if fresh and fresh.refreshed_at else None,
        "pending_matters": fresh.pending if fresh else 0,
        "rates": [
            {"name": r.name, "label": r.label, "family": r.family, "definition": r.definition}
            for r in RATES
        ],
        "composite_definition": composite_definition(table.config),
        "rows": [
            {"key": row.key, "label": row.label, "rates": figures(row), "composite": row.composite}
            for row in table.rows
        ],
        "total": {
            "key": table.total.key,
            "label": table.total.label,
            "rates": figures(table.total),
            "composite": table.total.composite,
        },
    }
