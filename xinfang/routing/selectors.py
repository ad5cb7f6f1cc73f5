"""Reads of the routing app: suggestions, similar matters, merged matters, reports, hot issues."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, State
from xinfang.cases.selectors import petitioners_to_inform
from xinfang.orgs.models import Role, User
from xinfang.routing import conf, engine, hot, similar
from xinfang.routing.models import AutoRoute, AutoRouting, RoutingSuggestion

TRAIN_LIMIT = 200_000
HOT_MAX_DOCS = 20_000
HOT_CACHE_SECONDS = 600


# ---------------------------------------------------------------- suggestions


def may_route(user: User, case: Case) -> bool:
    """Suggestions are for the clerk who routes the matter (state registered)."""
    return case.state == State.REGISTERED and access.may(user, case, "route")


def suggestions_for_case(case: Case) -> engine.SuggestionSet | None:
    return engine.suggest(title=case.title, content=case.content, place_id=case.place_id)


def model_info() -> dict | None:
    """Version, training size and scores of the configured model, or None without one."""
    model = engine.load_model()
    if model is None:
        return None
    meta = model.metadata
    return {
        "version": engine.model_version(model),
        "n_train": meta.get("n_train"),
        "source": meta.get("source", ""),
        "trained_at": meta.get("trained_at"),
        "labels": list(model.labels),
    }


# ---------------------------------------------------------------- similar matters


def similar_cases(
    user: User,
    *,
    title: str,
    content: str,
    place_id: int | None,
    exclude_ids: tuple[int, ...] = (),
    now: dt.datetime | None = None,
    limit: int = 8,
) -> list[similar.SimilarCase]:
    """Open and recent matters the user may see, in the same place, about the same problem."""
    since = (now or timezone.now()) - dt.timedelta(days=conf.similar_days())
    return similar.find_similar(
        access.visible_cases(user),
        title=title,
        content=content,
        place_id=place_id,
        since=since,
        exclude_ids=exclude_ids,
        min_score=conf.similar_min_score(),
        limit=limit,
    )


def may_merge(user: User, case: Case) -> bool:
    """Whether the page offers 并单: the registering office's clerk or head, on a registered
    or routed matter. The main matter is checked when it is chosen (`access.merge_refusal`)."""
    return (
        case.state in {State.REGISTERED, State.ROUTED}
        and user.unit_id == case.office_id
        and user.role in access.OFFICE_ROLES
    )


def merged_into(user: User, case: Case) -> list[Case]:
    """Matters merged into this one (not counting itself) that `user` may see."""
    return [m for m in petitioners_to_inform(case)[1:] if access.can_view(user, m)]


# ---------------------------------------------------------------- the take-rate report


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """Aware start and end (Beijing time) of 'YYYY-MM'."""
    start, end = hot.month_period(month)
    return (
        dt.datetime.combine(start, dt.time(), LOCAL),
        dt.datetime.combine(end, dt.time(), LOCAL),
    )


def current_month(now: dt.datetime | None = None) -> str:
    return f"{timezone.localtime(now or timezone.now(), LOCAL):%Y-%m}"


def suggestion_report(month: str) -> dict:
    """How often the suggestion was taken in a month (by the time the clerk decided)."""
    start, end = month_bounds(month)
    rows = list(
        RoutingSuggestion.objects.filter(decided_at__gte=start, decided_at__lt=end).values(
            "model_version", "chosen_label", "taken_top1", "taken_top3", "clicked_label"
        )
    )
    shown = RoutingSuggestion.objects.filter(shown_at__gte=start, shown_at__lt=end).count()
    decided = len(rows)

    def rate(n: int) -> float | None:
        return round(n / decided, 4) if decided else None

    top1 = sum(r["taken_top1"] for r in rows)
    top3 = sum(r["taken_top3"] for r in rows)
    by_label: dict[str, dict] = {}
    for r in rows:
        item = by_label.setdefault(r["chosen_label"] or "（其他）", {"decided": 0, "top1": 0})
        item["decided"] += 1
        item["top1"] += r["taken_top1"]
    return {
        "month": month,
        "shown": shown,
        "decided": decided,
        "clicked": sum(bool(r["clicked_label"]) for r in rows),
        "taken_top1": top1,
        "taken_top3": top3,
        "taken_top1_rate": rate(top1),
        "taken_top3_rate": rate(top3),
        "by_label": dict(sorted(by_label.items())),
        "models": dict(Counter(r["model_version"] for r in rows)),
        "auto": auto_route_report(month),
    }


# ---------------------------------------------------------------- 智能派单


def auto_route_report(month: str) -> dict:
    """智能派单月报: the automatic routes of a month (by the time they were made), how many
    turned out wrong (撤回 or 异议退回, and of those how many a clerk then routed elsewhere),
    the precision in practice (right / decided) and the coverage (automatic / registered)."""
    start, end = month_bounds(month)
    routes = AutoRoute.objects.filter(routed_at__gte=start, routed_at__lt=end)
    counts: Counter = Counter()
    for outcome, kind, rerouted, n in (
        routes.values_list("outcome", "outcome_event", "rerouted_unit")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[outcome] += n
        counts[kind] += n
        counts["rerouted"] += n if rerouted is not None else 0
    auto = counts["pending"] + counts["right"] + counts["wrong"]
    decided = counts["right"] + counts["wrong"]
    registered = Case.objects.filter(registered_at__gte=start, registered_at__lt=end).count()
    return {
        "month": month,
        "registered": registered,
        "auto_routed": auto,
        "decided": decided,
        "right": counts["right"],
        "wrong": counts["wrong"],
        "undone": counts[EventKind.AUTO_ROUTE_UNDONE],
        "objected": counts[EventKind.OBJECTED],
        "rerouted": counts["rerouted"],
        "pending": counts["pending"],
        "precision": round(counts["right"] / decided, 4) if decided else None,
        "coverage": round(auto / registered, 4) if registered else None,
    }


def auto_route_paused() -> str:
    """Why 智能派单 is paused ("" when it runs): for the clerk's panel."""
    row = AutoRouting.objects.filter(pk=1, paused_at__isnull=False).first()
    return row.reason if row else ""


def auto_route_status(now: dt.datetime | None = None) -> dict:
    """Whether 智能派单 runs now, why not, and the precision of the recent window."""
    from xinfang.routing import auto  # loads the classifier: only for the pages that show it

    model = engine.load_model()
    row = auto.state()
    window = auto.recent_window(now)
    return {
        "enabled": settings.XINFANG_AUTO_ROUTE,
        "threshold": auto.threshold_of(model),
        "target": auto.target_of(model),
        "paused": bool(row and row.paused),
        "paused_at": row.paused_at.isoformat() if row and row.paused_at else None,
        "reason": row.reason if row else "",
        "window_days": window.days,
        "window_decided": window.decided,
        "window_wrong": window.wrong,
        "window_precision": round(window.precision, 4) if window.precision is not None else None,
        "min_sample": settings.XINFANG_AUTO_ROUTE_MIN_SAMPLE,
    }


# ---------------------------------------------------------------- training data


def confirmed_cases() -> QuerySet[Case]:
    """The office's decided matters: a category and routed or closed, i.e. a person settled it
    (what training learns from; the worker's weekly retrain counts them)."""
    return Case.objects.filter(category__isnull=False).filter(
        Q(routed_at__isnull=False) | Q(closed_at__isnull=False)
    )


def training_rows(limit: int = TRAIN_LIMIT) -> list[tuple[str, str, str]]:
    """(title, content, top-level category name) of the office's decided matters
    (`confirmed_cases`), newest first."""
    qs = (
        confirmed_cases()
        .order_by("-registered_at", "-id")
        .values_list("title", "content", "category__name", "category__parent__name")[:limit]
    )
    return [(t, c, parent or name) for t, c, name, parent in qs.iterator(chunk_size=2000)]


# ---------------------------------------------------------------- hot issues


@dataclass
class HotPage:
    month: str
    start: dt.datetime
    end: dt.datetime
    clusters: list[hot.Cluster] = field(default_factory=list)
    total: int = 0
    truncated: bool = False


def _hot_docs(
    cases: QuerySet[Case], start: dt.datetime, end: dt.datetime
) -> tuple[list[hot.HotDoc], bool]:
    """The newest HOT_MAX_DOCS of `cases` registered in [start, end)."""
    qs = (
        cases.filter(registered_at__gte=start, registered_at__lt=end)
        .order_by("-registered_at", "-id")
        .values_list(
            "id",
            "title",
            "content",
            "registered_at",
            "place__name",
            "petitioner_id_number",
            "petitioner_phone",
        )
    )
    rows = list(qs[: HOT_MAX_DOCS + 1])
    docs = [
        hot.HotDoc(
            key=pk,
            title=title,
            content=content[:400],
            at=at,
            place=place or "",
            user=idn or phone or "",
        )
        for pk, title, content, at, place, idn, phone in rows[:HOT_MAX_DOCS]
    ]
    return docs, len(rows) > HOT_MAX_DOCS


def _hot_key(month: str, top: int, scope: tuple[int, ...] | list[int] | None) -> str:
    return f"routing:hot:{month}:{top}:{conf.hot_threshold()}:" + (
        "all" if scope is None else ",".join(map(str, sorted(scope)))
    )


def hot_for_month(user: User, month: str, *, top: int = 20) -> HotPage:
    """This month's clusters of the matters the user may see, with last month for growth.

    Cached for HOT_CACHE_SECONDS per month and access scope (clustering a big month takes
    seconds; `xinfang worker` keeps the whole-office page of this month computed, see
    `refresh_hot`). At most HOT_MAX_DOCS matters of each month are clustered (the newest).
    """
    key = _hot_key(month, top, access.scope_unit_ids(user))
    page = cache.get(key)
    if page is None:
        page = _hot_page(access.visible_cases(user), month, top)
        cache.set(key, page, HOT_CACHE_SECONDS)
    return page


def refresh_hot(now: dt.datetime | None = None, *, top: int = 20) -> int:
    """Compute this month's page into the shared cache for the widest views, which cluster the
    most matters: administrators (every matter) and each supervisor's (督查督办) subtree.
    Returns how many pages were computed."""
    month = current_month(now)
    scopes: dict[str, QuerySet[Case]] = {_hot_key(month, top, None): Case.objects.all()}
    for supervisor in User.objects.filter(role=Role.SUPERVISOR, is_active=True).select_related(
        "unit"
    ):
        scope = access.scope_unit_ids(supervisor)
        scopes.setdefault(_hot_key(month, top, scope), access.visible_cases(supervisor))
    for key, cases in scopes.items():
        cache.set(key, _hot_page(cases, month, top), HOT_CACHE_SECONDS)
    return len(scopes)


def _hot_page(cases: QuerySet[Case], month: str, top: int) -> HotPage:
    start, end = month_bounds(month)
    prev_start = dt.datetime.combine(hot.previous_month_start(start.date()), dt.time(), LOCAL)
    current, cut = _hot_docs(cases, start, end)
    previous, prev_cut = _hot_docs(cases, prev_start, start)
    clusters = hot.hot_clusters(
        current + previous, period=(start, end), threshold=conf.hot_threshold(), top=top
    )
    return HotPage(month, start, end, clusters, len(current), cut or prev_cut)
