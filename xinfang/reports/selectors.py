"""Reads of the rates: the table (one GROUP BY query per rate) and the matters behind a figure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, QuerySet
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Channel
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.reports.models import RateConfig
from xinfang.reports.rates import (
    BY_NAME,
    COMPOSITE,
    RATES,
    Rate,
    composite_definition,
    drill_filter,
    numerator_expr,
)

GROUPINGS = {
    "unit": ("单位", "_unit"),
    "place": ("问题属地", "case__place_id"),
    "category": ("事项分类", "case__category_id"),
    "channel": ("来源渠道", "case__channel"),
    "all": ("合计", None),
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


def _scoped(qs: QuerySet, user: User) -> QuerySet:
    """Only rows of visible matters, counted for a unit in the user's scope."""
    ids = access.scope_unit_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(_unit__in=ids, case_id__in=access.visible_cases(user).values("id"))


def rate_rows(user: User, rate: Rate, period: Period) -> QuerySet:
    """The denominator rows of `rate` that `user` may count, in the period."""
    return _scoped(rate.rows(*period.bounds), user)


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


def rates_table(user: User, period: Period, by: str = "unit") -> Table:
    """Every rate for every group of `by` (and the total): n/d per cell, one query per rate per
    grouping (GROUP BY in SQL)."""
    if by not in GROUPINGS:
        raise ValueError(by)
    config = RateConfig.current()
    weight = Decimal(config.basically_weight)
    rows: dict[str, Row] = {}
    total = Row(TOTAL, "合计")
    column = GROUPINGS[by][1]
    for rate in RATES:
        qs = rate_rows(user, rate, period)
        agg = qs.aggregate(n=numerator_expr(rate, weight), d=Count("pk"))
        total.figures[rate.name] = Figure(agg["n"] or 0, agg["d"] or 0)
        if column is None:
            continue
        grouped = qs.values(_g=F(column)).annotate(n=numerator_expr(rate, weight), d=Count("pk")).order_by()
        for item in grouped:
            key = _group_key(item["_g"])
            rows.setdefault(key, Row(key, "")).figures[rate.name] = Figure(item["n"] or 0, item["d"] or 0)
    labels = _labels(by, set(rows))
    for key, row in rows.items():
        row.label = labels[key]
        for rate in RATES:
            row.figures.setdefault(rate.name, Figure(0, 0))
        row.composite = _composite(row.figures, config)
    total.composite = _composite(total.figures, config)
    ordered = sorted(rows.values(), key=lambda r: (r.key == NONE_KEY, r.label))
    return Table(period, by, ordered, total, config)


def drill_rows(user: User, rate: Rate, part: str, period: Period, by: str, group: str) -> QuerySet:
    """The rows behind one figure: exactly those counted in its numerator or denominator."""
    qs = rate_rows(user, rate, period).filter(drill_filter(rate, part))
    column = GROUPINGS[by][1]
    if column is not None and group != TOTAL:
        qs = qs.filter(**{f"{column}__isnull": True}) if group == NONE_KEY else qs.filter(**{column: group})
    return qs.select_related("case", "case__lead_unit").order_by("_at", "pk")


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

    return {
        "from": table.period.start.isoformat(), "to": table.period.end.isoformat(), "by": table.by,
        "rates": [{"name": r.name, "label": r.label, "family": r.family, "definition": r.definition}
                  for r in RATES],
        "composite_definition": composite_definition(table.config),
        "rows": [{"key": row.key, "label": row.label, "rates": figures(row), "composite": row.composite}
                 for row in table.rows],
        "total": {"key": table.total.key, "label": table.total.label, "rates": figures(table.total),
                  "composite": table.total.composite},
    }
