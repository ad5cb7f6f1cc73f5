"""统计看板 (the dashboard): one selector per panel, returning rows.

The chart, the table beside it, the `?panel=<name>&format=json` and `&format=xlsx` twins all
render the rows of the same selector; the drill-down (`panel_cases`) lists exactly the matters a
figure counts, built from the same base query and the same key condition.

What is counted: matters (事项) and units, never petitioners.
- 受理登记量 (trend, channel, category, place): matters the user may see (`access.visible_cases`)
  registered in the period (Beijing dates, both ends included); 办结（答复）: matters answered
  (`replied_at`) in the period. With a unit chosen: matters whose lead unit (主办单位) is that unit
  or below it, or, not yet routed, whose registering office is.
- 超期 (overdue): open matters past their deadline now, as the queue's 已超期 filter counts them
  (the citizen's own windows excluded), each counted for the unit holding the clock (the office
  before routing, the review or re-review organ while reviewing, else the lead unit), and only
  for units in the user's scope.
- 指标 (rates): the totals of `rates_table` for the period (not narrowed by the unit filter).
- 热点 (hot issues): the month of the period's end, from `routing.selectors.hot_for_month`.

Speed: at 1,000,000 matters the plain GROUP BY queries take seconds for the whole county
(the trend reads every row of the period; see bench/dashboard_bench.py), so `panels.panel`
keeps each panel's rows in the shared cache for CACHE_SECONDS per access scope and filters, like
the hot issues, and `panels.refresh_dashboards` (for `xinfang worker`) computes the default
dashboard of every supervisor and administrator ahead (panels.py: the cache and the drill-down). The page says when its figures were counted; the list behind
a figure is always live and says so when it no longer matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Case as CaseWhen
from django.db.models import Count, F, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Case, Channel, State
from xinfang.cases.selectors import overdue_cases
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.orgs.selectors import subtree_ids
from xinfang.reports.rates import RATES
from xinfang.reports.selectors import Period, rates_table

TOP = 10
OTHER = "other"
NONE = "none"
HOT_TOP = 5


@dataclass(frozen=True)
class Filters:
    period: Period
    unit: Unit | None = None

    def query(self, **extra) -> str:
        """The filters as a query string (for links to the panels and the drill-down)."""
        params = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        if self.unit is not None:
            params["unit"] = str(self.unit.pk)
        return urlencode({**params, **extra})


@dataclass
class Item:
    """One row of a panel: a figure per series, and where each figure drills down to."""

    key: str
    label: str
    values: dict[str, float | int | None]
    links: dict[str, str] = field(default_factory=dict)


@dataclass
class Panel:
    name: str
    title: str
    group_label: str  # the heading of the row labels' column
    series: list[tuple[str, str]]  # (name, label)
    rows: list[Item]
    chart: str  # "line", "bar", "pie", "hbar"
    note: str = ""
    more: tuple[str, str] | None = None  # (label, url) of the full page
    computed_at: dt.datetime | None = None

    def as_dict(self, filters: Filters) -> dict:
        return {
            "panel": self.name,
            "title": self.title,
            "from": filters.period.start.isoformat(),
            "to": filters.period.end.isoformat(),
            "unit": filters.unit.pk if filters.unit else None,
            "group": self.group_label,
            "chart": self.chart,
            "note": self.note,
            "series": [{"name": n, "label": label} for n, label in self.series],
            "rows": [
                {"key": r.key, "label": r.label, "values": r.values, "links": r.links}
                for r in self.rows
            ],
            "more": {"label": self.more[0], "url": self.more[1]} if self.more else None,
            "computed_at": timezone.localtime(self.computed_at).isoformat()
            if self.computed_at
            else None,
        }


def last_12_months(today: dt.date | None = None) -> Period:
    """The default period: the first day of the month eleven months ago to today."""
    today = today or timezone.localdate()
    month = today.year * 12 + today.month - 1 - 11
    return Period(dt.date(month // 12, month % 12 + 1, 1), today)


# ---------------------------------------------------------------------------- the base queries


def scoped_units(user: User) -> QuerySet[Unit]:
    """The units a user may pick in the unit filter (their scope)."""
    ids = access.scope_unit_ids(user)
    return Unit.objects.all() if ids is None else Unit.objects.filter(pk__in=ids)


def visible(user: User) -> QuerySet[Case]:
    """`access.visible_cases(user)`, written as every matter when it is the same set.

    A matter whose registering office is in the user's scope is visible to them, so when no
    matter was registered by an office outside the scope (one index probe per unit outside it),
    the user sees every matter. This is the county supervisor's case, and it matters: SQLite runs
    the five-column OR of `visible_cases` as one index walk per unit plus a row fetch per matter
    (3 s instead of 0.3 s for a year of a million matters), where every matter needs no filter.
    """
    ids = access.scope_unit_ids(user)
    if ids is None:
        return Case.objects.all()
    if ids:
        outside = list(Unit.objects.exclude(pk__in=ids).values_list("pk", flat=True))
        if not outside or not Case.objects.filter(office_id__in=outside).exists():
            return Case.objects.all()
    return access.visible_cases(user)


def _matters(user: User, filters: Filters) -> QuerySet[Case]:
    qs = visible(user)
    if filters.unit is not None:
        sub = subtree_ids(filters.unit)
        qs = qs.filter(Q(lead_unit_id__in=sub) | Q(lead_unit__isnull=True, office_id__in=sub))
    return qs


def _in(column: str, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(**{f"{column}__gte": start, f"{column}__lt": end})


def _registered(user: User, filters: Filters) -> QuerySet[Case]:
    return _matters(user, filters).filter(_in("registered_at", *filters.period.bounds))


def _drill(panel: str, filters: Filters, key: str, series: str = "") -> str:
    extra = {"panel": panel, "key": key, **({"series": series} if series else {})}
    return reverse("reports:dashboard_matters") + "?" + filters.query(**extra)


# ---------------------------------------------------------------------------- (a) trend


def months(period: Period) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    """(key, label, start, end) of each calendar month in the period, clipped to the period."""
    first, after = period.bounds
    out = []
    day = period.start.replace(day=1)
    while day <= period.end:
        nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        start = max(first, dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL))
        end = min(after, dt.datetime.combine(nxt, dt.time.min, tzinfo=LOCAL))
        out.append((f"{day:%Y-%m}", f"{day.year}年{day.month}月", start, end))
        day = nxt
    return out


TREND_SERIES = {"registered": ("登记", "registered_at"), "replied": ("办结（答复）", "replied_at")}


def trend(user: User, filters: Filters) -> Panel:
    """Matters registered, and matters answered, in each month.

    One COUNT per month and series over the registration-time and answer-time indexes: when
    the user sees every matter each is a short index-only range (`case_reg`, `case_replied`),
    a few milliseconds at a million matters, where one filtered pass over the year took a second."""
    spans = months(filters.period)
    base = _matters(user, filters)
    counts = {
        f"{name}:{key}": base.filter(_in(column, start, end)).count()
        for name, (_label, column) in TREND_SERIES.items()
        for key, _l, start, end in spans
    }
    rows = [
        Item(
            key,
            label,
            {n: counts.get(f"{n}:{key}") or 0 for n in TREND_SERIES},
            {n: _drill("trend", filters, key, n) for n in TREND_SERIES},
        )
        for key, label, _s, _e in spans
    ]
    return Panel(
        "trend",
        "受理登记与办结趋势（按月）",
        "月份",
        [(n, label) for n, (label, _c) in TREND_SERIES.items()],
        rows,
        "line",
        note="登记：期内登记的事项；办结（答复）：期内作出答复的事项。按北京时间计月。",
    )


def _trend_q(filters: Filters, key: str, series: str) -> Q | None:
    if series not in TREND_SERIES:
        return None
    for k, _label, start, end in months(filters.period):
        if k == key:
            return _in(TREND_SERIES[series][1], start, end)
    return None


# ---------------------------------------------------------------------------- (b)(c)(d) groupings


@dataclass(frozen=True)
class Grouping:
    name: str
    title: str
    group_label: str
    column: str
    chart: str
    labels: Callable[[list[str]], dict[str, str]]
    top: int | None = TOP  # None: every group


def _channel_labels(keys: list[str]) -> dict[str, str]:
    names = dict(Channel.choices)
    return {k: names.get(k, k) for k in keys}


def _category_labels(keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    found = {
        str(c.pk): (f"{c.parent.name}/{c.name}" if c.parent_id else c.name)
        for c in Category.objects.filter(pk__in=ids).select_related("parent")
    }
    return {k: found.get(k, k) for k in keys}


def _place_labels(keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    found = {
        str(pk): name for pk, name in Place.objects.filter(pk__in=ids).values_list("pk", "name")
    }
    return {k: found.get(k, k) for k in keys}


GROUPINGS = {
    "channel": Grouping(
        "channel", "来源渠道", "来源渠道", "channel", "pie", _channel_labels, top=None
    ),
    "category": Grouping(
        "category", "事项分类（前10位）", "事项分类", "category_id", "hbar", _category_labels
    ),
    "place": Grouping("place", "问题属地（前10位）", "问题属地", "place_id", "hbar", _place_labels),
}


def _grouped_counts(user: User, filters: Filters, g: Grouping) -> list[tuple[str, int]]:
    """(key, count) of every group, most first; a missing value is the key `none`."""
    rows = _registered(user, filters).values(_g=F(g.column)).annotate(n=Count("pk")).order_by()
    found = [(NONE if r["_g"] is None else str(r["_g"]), r["n"]) for r in rows]
    return sorted(found, key=lambda kv: (-kv[1], kv[0]))


def _top_keys(counts: list[tuple[str, int]], g: Grouping) -> list[str]:
    return [k for k, _n in (counts if g.top is None else counts[: g.top])]


def grouping(user: User, filters: Filters, name: str) -> Panel:
    """Matters registered in the period by channel, category or place: the top groups and
    the rest as 其他."""
    g = GROUPINGS[name]
    counts = _grouped_counts(user, filters, g)
    top = _top_keys(counts, g)
    labels = g.labels(top)
    rows = [
        Item(
            k,
            "（未填写）" if k == NONE else labels[k],
            {"count": n},
            {"count": _drill(name, filters, k)},
        )
        for k, n in counts[: len(top)]
    ]
    rest = sum(n for _k, n in counts[len(top) :])
    if rest:
        rows.append(Item(OTHER, "其他", {"count": rest}, {"count": _drill(name, filters, OTHER)}))
    return Panel(
        name,
        f"按{g.title}",
        g.group_label,
        [("count", "登记件数")],
        rows,
        g.chart,
        note="期内登记的事项。",
    )


# ---------------------------------------------------------------------------- (e) rates


def rates(user: User, filters: Filters) -> Panel:
    """The totals of the rates table for the period, each with numerator and denominator."""
    table = rates_table(user, filters.period, "all")
    query = {
        "by": "all",
        "group": "all",
        "from": filters.period.start.isoformat(),
        "to": filters.period.end.isoformat(),
    }
    drill = reverse("reports:rate_matters")
    rows = []
    for rate in RATES:
        f = table.total.figures[rate.name]
        rows.append(
            Item(
                rate.name,
                rate.label,
                {"pct": f.pct, "numerator": f.numerator, "denominator": f.denominator},
                {
                    "pct": drill
                    + "?"
                    + urlencode({**query, "rate": rate.name, "part": "numerator"}),
                    "numerator": drill
                    + "?"
                    + urlencode({**query, "rate": rate.name, "part": "numerator"}),
                    "denominator": drill
                    + "?"
                    + urlencode({**query, "rate": rate.name, "part": "denominator"}),
                },
            )
        )
    full = (
        reverse("reports:rates")
        + "?"
        + urlencode({"by": "unit", "from": query["from"], "to": query["to"]})
    )
    return Panel(
        "rates",
        "统计与考核指标",
        "指标",
        [("pct", "比率 %"), ("numerator", "分子"), ("denominator", "分母")],
        rows,
        "bar",
        note="全部可见单位合计（不受单位筛选）；点击查看分子所计事项。",
        more=("各单位指标", full),
    )


# ---------------------------------------------------------------------------- (f) overdue


def _holder():
    """The unit holding the matter's running clock."""
    return CaseWhen(
        When(state=State.REGISTERED, then=F("office_id")),
        When(state=State.REVIEWING, then=F("review_unit_id")),
        When(state=State.REREVIEWING, then=F("rereview_unit_id")),
        default=Coalesce("lead_unit_id", "office_id"),
    )


def _overdue(user: User, filters: Filters, now: dt.datetime | None = None) -> QuerySet[Case]:
    qs = overdue_cases(visible(user), now).exclude(clock__in=CITIZEN_WINDOWS)
    qs = qs.annotate(_holder=_holder())
    ids = access.scope_unit_ids(user)
    if ids is not None:
        qs = qs.filter(_holder__in=ids)
    if filters.unit is not None:
        qs = qs.filter(_holder__in=subtree_ids(filters.unit))
    return qs


def overdue(user: User, filters: Filters, now: dt.datetime | None = None) -> Panel:
    """Open matters past their deadline now, per unit holding the clock: the ten with most."""
    grouped = _overdue(user, filters, now).values("_holder").annotate(n=Count("pk")).order_by()
    counts = sorted(
        ((r["_holder"], r["n"]) for r in grouped if r["_holder"]), key=lambda kv: (-kv[1], kv[0])
    )
    top = counts[:TOP]
    names = dict(Unit.objects.filter(pk__in=[k for k, _n in top]).values_list("pk", "name"))
    rows = [
        Item(
            str(k),
            names.get(k, str(k)),
            {"count": n},
            {"count": _drill("overdue", filters, str(k))},
        )
        for k, n in top
    ]
    queue = reverse("cases:queue") + "?due=overdue"
    return Panel(
        "overdue",
        "超期事项最多的单位（前10位）",
        "单位",
        [("count", "超期件数")],
        rows,
        "hbar",
        note="当前已超过办理时限、尚未办结的事项，计入正在计时的单位（登记后未转交的计入登记机构，"
        "复查、复核中的计入复查、复核机关）；不受统计期限制。",
        more=("台帐中的超期事项", queue),
    )


# ---------------------------------------------------------------------------- (g) hot issues


def _hot_page(user: User, filters: Filters):
    from xinfang.routing import selectors as routing

    return routing.hot_for_month(user, f"{filters.period.end:%Y-%m}")


def hot(user: User, filters: Filters) -> Panel:
    """The hottest problems of the period's last month (热点问题, already computed and cached)."""
    page = _hot_page(user, filters)
    rows = [
        Item(
            str(rank),
            c.label + (f"（{c.place}）" if c.place else ""),
            {"count": c.count, "heat": round(c.heat, 2)},
            {"count": _drill("hot", filters, str(rank)), "heat": _drill("hot", filters, str(rank))},
        )
        for rank, c in enumerate(page.clusters[:HOT_TOP], 1)
    ]
    return Panel(
        "hot",
        f"热点问题（{page.month}）",
        "热点",
        [("count", "本月件数"), ("heat", "热度")],
        rows,
        "hbar",
        note=f"{page.month} 可见事项中相似问题的归类，按热度排列（不受单位筛选）。",
        more=("全部热点问题", reverse("routing:hot") + f"?month={page.month}"),
    )


def _hot_q(user: User, filters: Filters, key: str) -> Q | None:
    if not (key.isascii() and key.isdigit()) or not 1 <= int(key) <= HOT_TOP:
        return None
    clusters = _hot_page(user, filters).clusters
    if int(key) > len(clusters):
        return None
    return Q(pk__in=list(clusters[int(key) - 1].keys))
