"""Reads of the backlog: who sees which cases, the board, the dashboard, the stuck cases.

The board reads backlog rows only (a few percent of the matters), through the indexes on
(status, registered_at), (unit, status, registered_at) and (owner, status); it never scans the
matters. The page of rows it shows joins each to its matter by primary key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xinfang.backlog import conf, permissions, privacy
from xinfang.backlog.models import (
    ACTIVE_STATUSES,
    BacklogCase,
    BacklogSnapshot,
    BacklogUnit,
    ScreeningRound,
    Status,
    TaskForceMember,
)
from xinfang.cases import access
from xinfang.cases.models import CONFIDENTIAL_KINDS
from xinfang.orgs.models import Unit, User

# Age of the matter (from registration): label, lower bound in days (inclusive).
BUCKETS = [
    ("lt6m", "6个月以内", 0),
    ("6to12m", "6至12个月", 183),
    ("1to2y", "1至2年", 365),
    ("gt2y", "2年以上", 730),
]
BUCKET_LABELS = {key: label for key, label, _days in BUCKETS}
PAGE_SIZE = 50
# What a row of the board shows: the matter's number and title, nothing more of it.
PAGE_FIELDS = (
    "id",
    "case_id",
    "unit_id",
    "owner_id",
    "registered_at",
    "flag_rule",
    "status",
    "active",
    "last_activity_at",
    "case__number",
    "case__title",
    "unit__name",
    "owner__username",
    "owner__display_name",
)


def _bounds(key: str, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(registered after, registered at or before) for one age bucket."""
    keys = [b[0] for b in BUCKETS]
    i = keys.index(key)
    older = now - dt.timedelta(days=BUCKETS[i][2])
    newer = now - dt.timedelta(days=BUCKETS[i + 1][2]) if i + 1 < len(BUCKETS) else None
    return newer, older


def bucket_of(registered_at: dt.datetime, now: dt.datetime) -> str:
    days = (now - registered_at).days
    key = BUCKETS[0][0]
    for name, _label, lower in BUCKETS:
        if days >= lower:
            key = name
    return key


def _bucket_q(key: str, now: dt.datetime, field: str = "registered_at") -> Q:
    newer, older = _bounds(key, now)
    q = Q(**{f"{field}__lte": older})
    if newer is not None:
        q &= Q(**{f"{field}__gt": newer})
    return q


def sees_all(user: User) -> bool:
    """Admins, and anyone whose scope covers every unit, see the whole backlog."""
    if permissions.is_admin(user):
        return True
    ids = access.scope_unit_ids(user)
    return ids is None or (bool(ids) and len(ids) >= Unit.objects.count())


def visible_backlog(user: User) -> QuerySet[BacklogCase]:
    """Every backlog case `user` may see: by the units of its matter, or as owner or member.

    The cheap tests on the row's own columns come first (SQLite and PostgreSQL stop at the first
    true term of an OR); only rows they miss probe the (backlog, unit) and task-force indexes.
    """
    if not user.is_authenticated:
        return BacklogCase.objects.none()
    if sees_all(user):
        return BacklogCase.objects.all()
    ids = access.scope_unit_ids(user) or []
    member = Exists(TaskForceMember.objects.filter(backlog=OuterRef("pk"), user=user))
    if not ids:
        return BacklogCase.objects.filter(Q(owner=user) | Q(member))
    other_unit = Exists(BacklogUnit.objects.filter(backlog=OuterRef("pk"), unit_id__in=ids))
    return BacklogCase.objects.filter(
        Q(unit_id__in=ids) | Q(office_id__in=ids) | Q(owner=user) | Q(other_unit) | Q(member)
    )


def backlog_for_user(user: User, pk: int) -> BacklogCase:
    """The only way a view gets one backlog case: 404 unless `user` may see it."""
    backlog = (
        BacklogCase.objects.select_related(
            "case", "case__lead_unit", "case__office", "unit", "owner"
        )
        .filter(pk=pk)
        .first()
    )
    if backlog is None or not permissions.can_view(user, backlog):
        raise Http404("没有找到该积案，或您无权查看")
    return backlog


@dataclass
class BoardFilters:
    status: str = "active"  # active | open | reopened | closed | all
    unit: int | None = None
    owner: int | None = None  # 0 = no owner yet
    bucket: str = ""
    rule: str = ""
    stuck: bool = False
    page: int = 1


def filtered(user: User, f: BoardFilters, now: dt.datetime) -> QuerySet[BacklogCase]:
    qs = visible_backlog(user)
    if f.status == "active":
        # `active IN (true)` rather than `active`: SQLite then uses the leading index column
        # as an equality, so the board's indexes stay in (unit, owner) and age order.
        qs = qs.filter(active__in=[True])
    elif f.status in Status.values:
        qs = qs.filter(active__in=[f.status in ACTIVE_STATUSES], status=f.status)
    if f.unit:
        qs = qs.filter(unit_id=f.unit)
    if f.owner is not None:
        qs = qs.filter(owner__isnull=True) if f.owner == 0 else qs.filter(owner_id=f.owner)
    if f.bucket in BUCKET_LABELS:
        qs = qs.filter(_bucket_q(f.bucket, now))
    if f.rule:
        qs = qs.filter(flag_rule=f.rule)
    if f.stuck:
        qs = qs.filter(last_activity_at__lt=now - dt.timedelta(days=conf.stuck_days()))
    return qs


def _bucket_counts(now: dt.datetime) -> dict[str, Count]:
    return {key: Count("id", filter=_bucket_q(key, now)) for key, _l, _d in BUCKETS}


@dataclass
class Board:
    totals: dict
    by_unit: list[dict]
    by_owner: list[dict]
    rows: list[BacklogCase]
    total: int
    page: int
    pages: int


def board(
    user: User, f: BoardFilters, *, now: dt.datetime | None = None, page_size: int = PAGE_SIZE
) -> Board:
    """The board: counts by age bucket, by unit and by owner, and one page of cases.

    One grouped pass over the backlog rows gives every count; the page is found by walking the
    (active, registered_at, id) index, then its rows are read with their matters by key.
    """
    now = now or timezone.now()
    qs = filtered(user, f, now)
    keys = [k for k, _l, _d in BUCKETS]
    groups = list(
        qs.order_by()
        .values("unit_id", "owner_id")
        .annotate(total=Count("id"), **_bucket_counts(now))
    )
    totals = {"total": 0, **dict.fromkeys(keys, 0)}
    units: dict[int, dict] = {}
    owners: dict[int | None, dict] = {}
    for g in groups:
        for target in (
            totals,
            units.setdefault(g["unit_id"], {"unit_id": g["unit_id"]}),
            owners.setdefault(g["owner_id"], {"owner_id": g["owner_id"]}),
        ):
            for k in ("total", *keys):
                target[k] = target.get(k, 0) + g[k]
    by_unit = sorted(units.values(), key=lambda r: -r["total"])[:50]
    by_owner = sorted(owners.values(), key=lambda r: -r["total"])[:50]
    unit_names = dict(
        Unit.objects.filter(pk__in=[r["unit_id"] for r in by_unit]).values_list("id", "name")
    )
    owner_names = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=[r["owner_id"] for r in by_owner if r["owner_id"]])
    }
    for r in by_unit:
        r["name"] = unit_names.get(r["unit_id"], "")
        r["cells"] = [r[k] for k in keys]
    for r in by_owner:
        r["name"] = owner_names.get(r["owner_id"], "未指定包案领导")
        r["cells"] = [r[k] for k in keys]
    totals["cells"] = [(k, totals[k]) for k in keys]
    total = totals["total"]
    pages = max(1, -(-total // page_size))
    page = min(max(f.page, 1), pages)
    ids = list(
        qs.order_by("registered_at", "id").values_list("id", flat=True)[
            (page - 1) * page_size : page * page_size
        ]
    )
    found = (
        BacklogCase.objects.select_related("case", "unit", "owner").only(*PAGE_FIELDS).in_bulk(ids)
    )
    rows = [found[pk] for pk in ids]
    stuck_before = now - dt.timedelta(days=conf.stuck_days())
    for row in rows:
        row.bucket = BUCKET_LABELS[bucket_of(row.registered_at, now)]
        row.age_days = (now - row.registered_at).days
        row.stuck = row.is_active and row.last_activity_at < stuck_before
    return Board(totals, by_unit, by_owner, rows, total, page, pages)


def board_export_rows(
    user: User, f: BoardFilters, *, now: dt.datetime | None = None, limit: int = 100000
):
    """The rows of the board's JSON/XLSX twin (every filtered case, oldest first)."""
    now = now or timezone.now()
    qs = (
        filtered(user, f, now)
        .select_related("case__accused_unit", "unit", "owner")
        .prefetch_related("case__other_accused_units")
        .order_by("registered_at", "id")
    )
    for b in qs[:limit]:
        reason = b.flag_reason
        if b.case.kind in CONFIDENTIAL_KINDS:  # a reason typed by staff may name the complainant
            # Rows of `filtered` are visible to `user`: no query per row to ask again.
            reason = privacy.redactor_for(user, b, known_visible=True).text(reason)
        yield {
            "case_number": b.case.number,
            "title": b.case.title,
            "unit": b.unit.name,
            "owner": str(b.owner) if b.owner else "",
            "status": b.get_status_display(),
            "rule": b.get_flag_rule_display(),
            "reason": reason,
            "registered_at": timezone.localtime(b.registered_at).date().isoformat(),
            "flagged_at": timezone.localtime(b.flagged_at).date().isoformat(),
            "age_days": (now - b.registered_at).days,
            "age_bucket": BUCKET_LABELS[bucket_of(b.registered_at, now)],
        }


# ---------------------------------------------------------------- dashboard (清仓见底)


def _month_starts(now: dt.datetime, months: int) -> list[dt.date]:
    today = timezone.localtime(now).date()
    first = today.replace(day=1)
    out = []
    for _ in range(months):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _month_end(first: dt.date) -> dt.datetime:
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(nxt, dt.time(0), tzinfo=timezone.get_current_timezone())


def _open_at(moment: dt.datetime) -> Q:
    return Q(flagged_at__lte=moment) & (Q(closed_at__isnull=True) | Q(closed_at__gt=moment))


def open_counts_at(moment: dt.datetime, qs: QuerySet[BacklogCase] | None = None) -> dict[str, int]:
    """Backlog open at `moment`, by age bucket (from flagged_at and closed_at; backlog rows only)."""
    return open_counts_at_many([moment], BacklogCase.objects.all() if qs is None else qs)[0]


def open_counts_at_many(
    moments: list[dt.datetime], qs: QuerySet[BacklogCase]
) -> list[dict[str, int]]:
    """`open_counts_at` for several moments in one pass over the rows (one query, not one a month)."""
    if not moments:
        return []
    keys = [k for k, _l, _d in BUCKETS]
    row = qs.aggregate(
        **{
            f"m{i}_{key}": Count("id", filter=_open_at(moment) & _bucket_q(key, moment))
            for i, moment in enumerate(moments)
            for key in keys
        }
    )
    return [{key: row[f"m{i}_{key}"] for key in keys} for i in range(len(moments))]


def write_snapshot(*, now: dt.datetime | None = None) -> None:
    """Record this month's open backlog by age bucket (the dashboard's history)."""
    now = now or timezone.now()
    month = timezone.localtime(now).date().replace(day=1)
    counts = open_counts_at(now)
    for key, value in counts.items():
        BacklogSnapshot.objects.update_or_create(month=month, bucket=key, defaults={"count": value})


def dashboard_series(user: User, *, now: dt.datetime | None = None, months: int = 12) -> list[dict]:
    """One row per month: open backlog by age bucket at the month's end (or now, this month).

    Admins and whole-system users get the recorded snapshots where there are some; everyone
    else gets figures computed from the backlog rows they may see.
    """
    now = now or timezone.now()
    whole = sees_all(user)
    snaps: dict[dt.date, dict[str, int]] = {}
    firsts = _month_starts(now, months)
    if whole:
        for s in BacklogSnapshot.objects.filter(month__gte=firsts[0]):
            snaps.setdefault(s.month, {})[s.bucket] = s.count
    this_month = timezone.localtime(now).date().replace(day=1)
    # Months without a recorded snapshot (always this one) are counted from the rows, together.
    missing = [f for f in firsts if f == this_month or not snaps.get(f)]
    moments = [now if f == this_month else _month_end(f) for f in missing]
    snaps.update(zip(missing, open_counts_at_many(moments, visible_backlog(user)), strict=True))
    series = []
    for first in firsts:
        counts = snaps[first]
        total = sum(counts.get(k, 0) for k, _l, _d in BUCKETS)
        series.append(
            {"month": first, "counts": [counts.get(k, 0) for k, _l, _d in BUCKETS], "total": total}
        )
    peak = max([row["total"] for row in series] + [1])
    for row in series:
        row["height"] = round(row["total"] * 100 / peak)
        row["segments"] = [
            {"label": label, "key": key, "count": n, "pct": round(n * 100 / peak, 1)}
            for (key, label, _d), n in zip(BUCKETS, row["counts"], strict=True)
        ]
    return series


# ---------------------------------------------------------------- screening


def visible_rounds(user: User) -> QuerySet[ScreeningRound]:
    if permissions.is_admin(user):
        return ScreeningRound.objects.all()
    ids = access.scope_unit_ids(user)
    if ids is None:
        return ScreeningRound.objects.all()
    return ScreeningRound.objects.filter(
        Q(office_id__in=ids or []) | Q(entries__responsible=user)
    ).distinct()


def round_for_user(user: User, pk: int) -> ScreeningRound:
    round_ = ScreeningRound.objects.select_related("office").filter(pk=pk).first()
    if round_ is None or not visible_rounds(user).filter(pk=pk).exists():
        raise Http404("没有找到该排查，或您无权查看")
    return round_
