"""The panels of 统计看板: each computed by its selector in dashboard.py, kept in the shared cache,
counted ahead by the worker, and the matters behind one figure (the drill-down).

The cache is per panel, access scope and filters, for CACHE_SECONDS (see dashboard.py's
docstring for why: the plain GROUP BY queries take seconds for a whole county).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.models import Case
from xinfang.orgs.models import User
from xinfang.reports.dashboard import (
    GROUPINGS,
    NONE,
    OTHER,
    Filters,
    Panel,
    _hot_q,
    _matters,
    _overdue,
    _registered,
    _trend_q,
    grouping,
    hot,
    last_12_months,
    overdue,
    rates,
    trend,
    visible,
)

CACHE_SECONDS = 300


PANELS: dict[str, str] = {
    "trend": "趋势",
    "channel": "渠道",
    "category": "分类",
    "place": "属地",
    "rates": "指标",
    "overdue": "超期",
    "hot": "热点",
}


def _compute(user: User, name: str, filters: Filters, now: dt.datetime | None) -> Panel:
    if name == "trend":
        return trend(user, filters)
    if name in GROUPINGS:
        return grouping(user, filters, name)
    if name == "rates":
        return rates(user, filters)
    if name == "overdue":
        return overdue(user, filters, now)
    if name == "hot":
        return hot(user, filters)
    raise ValueError(name)


def cache_key(user: User, name: str, filters: Filters) -> str:
    """Per panel, access scope (the units a user sees decide every figure) and filters."""
    ids = access.scope_unit_ids(user)
    scope = (
        "all"
        if ids is None
        else hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]
    )
    return f"reports:dashboard:{name}:{scope}:{filters.query()}"


def panel(
    user: User,
    name: str,
    filters: Filters,
    *,
    now: dt.datetime | None = None,
    fresh: bool = False,
    keep: int = CACHE_SECONDS,
) -> Panel:
    """The rows of one panel (the chart, its table, its JSON and .xlsx all render these), from
    the shared cache when counted in the last `keep` seconds for the same scope and filters."""
    if name not in PANELS:
        raise ValueError(name)
    key = cache_key(user, name, filters)
    found = None if fresh or now is not None else cache.get(key)
    if found is None:
        found = _compute(user, name, filters, now)
        found.computed_at = timezone.now()
        if now is None:
            cache.set(key, found, keep)
    return found


def refresh_dashboards(keep: int = 2 * CACHE_SECONDS) -> int:
    """Count the default dashboard (the last twelve months, all units) of each administrator's
    and supervisor's scope into the shared cache, as `routing.selectors.refresh_hot` does for
    the hot issues; for `xinfang worker`, every five minutes, kept for ten (so that a page never
    finds the entry gone between two passes). Returns how many scopes."""
    from xinfang.orgs.models import Role

    filters = Filters(last_12_months())
    done: set[str] = set()
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.SUPERVISOR) | Q(role=Role.ADMIN) | Q(is_superuser=True))
        .select_related("unit")
    )
    for user in users:
        key = cache_key(user, "trend", filters)
        if key in done:
            continue
        done.add(key)
        for name in PANELS:
            panel(user, name, filters, fresh=True, keep=keep)
    return len(done)


def dashboard(
    user: User, filters: Filters, *, now: dt.datetime | None = None, fresh: bool = False
) -> list[Panel]:
    return [panel(user, name, filters, now=now, fresh=fresh) for name in PANELS]


def _grouping_q(user: User, filters: Filters, name: str, key: str) -> Q | None:
    g = GROUPINGS[name]
    top = [r.key for r in panel(user, name, filters).rows if r.key != OTHER]  # the groups shown
    column = g.column
    if key == OTHER:
        real = [k for k in top if k != NONE]
        q = ~Q(**{f"{column}__in": real}) if real else Q()
        return q & Q(**{f"{column}__isnull": False}) if NONE in top else q
    if key == NONE:
        return Q(**{f"{column}__isnull": True})
    if name != "channel" and not (key.isascii() and key.isdigit() and len(key) <= 12):
        return None
    return Q(**{column: key})


DRILLABLE = ("trend", "channel", "category", "place", "overdue", "hot")


def panel_cases(
    user: User,
    name: str,
    filters: Filters,
    key: str,
    series: str = "",
    *,
    now: dt.datetime | None = None,
) -> QuerySet[Case] | None:
    """The matters behind one figure of a panel (None when the key names no figure): the same
    base query as the panel, narrowed by the condition of the row clicked."""
    key = (key or "").strip()
    if name == "trend":
        q = _trend_q(filters, key, series or "registered")
        base = _matters(user, filters)
    elif name in GROUPINGS:
        q = _grouping_q(user, filters, name, key)
        base = _registered(user, filters)
    elif name == "overdue":
        q = Q(_holder=int(key)) if key.isascii() and key.isdigit() and len(key) <= 12 else None
        base = _overdue(user, filters, now)
    elif name == "hot":
        q = _hot_q(user, filters, key)
        base = visible(user)
    else:
        return None
    return None if q is None else base.filter(q)
