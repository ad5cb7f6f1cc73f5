"""The rollup behind the rates (统计汇总): facts per counted row, cells per day × rate × unit.

Why: a quarter of a million-matter county is about half a million counted rows; counting them
from the timeline on every page view takes tens of seconds on SQLite. So the counted rows are
kept, derived from the very declarations of `rates.py` (`Rate.rows`, `Rate.numerator`):

- `RateFact`: one row per counted row (the rate, its Beijing day, the unit it counts for, the
  matter's place, category and channel, whether the numerator counts it);
- `RateCell`: per day, rate and unit, the numerator and denominator, recounted from the facts.

How it stays right: `refresh()` finds the matters touched since it last ran (a timeline event
after its watermark, or a backlog case that changed), deletes their facts, counts them again
from the declarations and recounts the cells of every day those facts fall on, old and new. A
figure (cells) and the matters behind it (facts) therefore always agree, and both equal what
the declarations give over the event log (tests compare them on every change).

The worker refreshes on every pass; a page refreshes inline first when little has changed
(`INLINE_LIMIT` matters), and otherwise says how many matters are still being counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction
from django.db.models import Case as CaseWhen
from django.db.models import Count, F, IntegerField, Max, Q, Sum, Value, When
from django.utils import timezone

from xinfang.backlog.models import BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import CaseEvent, Rating
from xinfang.reports.models import RateCell, RateFact, RollupState
from xinfang.reports.rates import RATES, Rate

T = TypeVar("T")

INLINE_LIMIT = 2_000  # matters a page may recount before it answers (a few hundred ms at most)
CHUNK = 2_000  # matters per recount step (keeps `IN (...)` lists and memory small)
MARGIN = 1_000  # event ids below the watermark the worker looks at again: on PostgreSQL an id
# is taken before its transaction commits, so a lower id can appear after a higher one.
EVER = (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(3000, 1, 1, tzinfo=dt.UTC))


@dataclass(frozen=True)
class Freshness:
    """How current the figures are: when last refreshed, and matters still waiting."""

    refreshed_at: dt.datetime | None
    pending: int = 0


def hit_expr(rate: Rate):
    """0/1 (in the numerator); for the weighted 满意率 1 满意, 2 基本满意."""
    if rate.weighted:
        whens = [
            When(case__rating=Rating.SATISFIED, then=Value(1)),
            When(case__rating=Rating.BASICALLY, then=Value(2)),
        ]
    else:
        whens = [When(rate.numerator, then=Value(1))]
    return CaseWhen(*whens, default=Value(0), output_field=IntegerField())


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def facts_for(case_ids: list[int]) -> list[RateFact]:
    """The counted rows of these matters, every rate, from the declarations."""
    facts: list[RateFact] = []
    for rate in RATES:
        rows = (
            rate.rows(*EVER)
            .filter(case_id__in=case_ids)
            .annotate(_hit=hit_expr(rate))
            .values_list(
                "case_id",
                "_at",
                "_unit",
                "case__place_id",
                "case__category_id",
                "case__channel",
                "_hit",
            )
        )
        for case_id, at, unit, place, category, channel, hit in rows:
            facts.append(
                RateFact(
                    case_id=case_id,
                    rate=rate.name,
                    at=at,
                    day=at.astimezone(LOCAL).date(),
                    unit_id=unit,
                    place_id=place,
                    category_id=category,
                    channel=channel or "",
                    hit=hit,
                )
            )
    return facts


def _recount(days: Iterable[dt.date]) -> None:
    """Recount the cells of these days from the facts."""
    for some in _chunks(sorted(set(days)), 400):
        RateCell.objects.filter(day__in=some).delete()
        for rate in RATES:
            grouped = (
                RateFact.objects.filter(rate=rate.name, day__in=some)
                .values_list("day", "unit_id")
                .annotate(
                    n=Count("pk", filter=Q(hit=1)), b=Count("pk", filter=Q(hit=2)), d=Count("pk")
                )
                .order_by()
            )
            RateCell.objects.bulk_create(
                [
                    RateCell(
                        day=day,
                        rate=rate.name,
                        unit_id=unit,
                        numerator=n,
                        basically=b,
                        denominator=d,
                    )
                    for day, unit, n, b, d in grouped
                ],
                batch_size=2_000,
            )


def recount_matters(case_ids: Iterable[int]) -> None:
    """Count these matters again: their facts, then (once) the cells of every day they touch."""
    days: set[dt.date] = set()
    for chunk in _chunks(sorted(set(case_ids)), CHUNK):
        old = RateFact.objects.filter(case_id__in=chunk)
        days.update(old.values_list("day", flat=True).distinct())
        old.delete()
        facts = facts_for(chunk)
        RateFact.objects.bulk_create(facts, batch_size=2_000)
        days.update(f.day for f in facts)
    _recount(days)


def _state() -> RollupState:
    """The one state row, locked for this transaction (two refreshes never interleave)."""
    RollupState.objects.get_or_create(pk=1)
    # The UPDATE takes SQLite's write lock at once; on PostgreSQL select_for_update the row lock.
    RollupState.objects.filter(pk=1).update(last_event_id=F("last_event_id"))
    return RollupState.objects.select_for_update().get(pk=1)


def _backlog_changed(state: RollupState):
    backlog = BacklogCase.objects.all()
    if state.refreshed_at is None:
        return backlog
    since = state.refreshed_at
    return backlog.filter(
        Q(flagged_at__gte=since)
        | Q(closed_at__gte=since)
        | Q(reopened_at__gte=since)
        | Q(last_activity_at__gte=since)
    )


def _backlog_signature() -> str:
    """What the backlog rate reads of the backlog table, summed up: a change of status, unit or
    flagging (even one dated in the past, which the timestamps above would miss) changes it."""
    closed = CaseWhen(When(status=BacklogStatus.CLOSED, then=F("id")), default=Value(0))
    agg = BacklogCase.objects.aggregate(
        n=Count("pk"),
        closed=Sum(closed),
        units=Sum(F("unit_id") * F("id")),
        flagged=Max("flagged_at"),
    )
    return f"{agg['n']}:{agg['closed'] or 0}:{agg['units'] or 0}:{agg['flagged'] or ''}"[:200]


def _touched(state: RollupState, top: int, margin: int) -> set[int]:
    """Matters with a timeline event after the watermark (`margin` ids below it again) and
    backlog cases changed since the last refresh; the worker (margin > 0) also compares the
    backlog signature and, when it moved, counts every backlog case again."""
    low = max(0, state.last_event_id - margin)
    touched = set(
        CaseEvent.objects.filter(id__gt=low, id__lte=top)
        .values_list("case_id", flat=True)
        .distinct()
    )
    backlog = _backlog_changed(state)
    if margin and state.backlog_signature != _backlog_signature():
        backlog = BacklogCase.objects.all()
    return touched | set(backlog.values_list("case_id", flat=True))


def _unchanged() -> Freshness | None:
    """Without a lock: the figures' freshness when nothing at all changed since the last refresh."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None or state.refreshed_at is None:
        return None
    top = CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0
    if top != state.last_event_id or _backlog_changed(state).exists():
        return None
    return Freshness(state.refreshed_at)


def refresh(limit: int | None = None, *, margin: int = MARGIN) -> Freshness:
    """Count every matter touched since the last refresh. With `limit`, do nothing when more
    matters than that are waiting (a page answers with the figures it has and says so)."""
    if limit is not None and (same := _unchanged()) is not None:
        return same  # the common case of a page view: three small reads, no lock
    started = timezone.now()
    with transaction.atomic():
        state = _state()
        top = CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0
        # A page looks only above the watermark; the worker's passes look again below it.
        touched = _touched(state, top, 0 if limit is not None else margin)
        if limit is not None and len(touched) > limit:
            return Freshness(state.refreshed_at, len(touched))
        recount_matters(touched)
        state.last_event_id, state.refreshed_at = top, started
        state.backlog_signature = _backlog_signature()
        state.save(update_fields=["last_event_id", "refreshed_at", "backlog_signature"])
    return Freshness(started)


def rebuild() -> int:
    """Forget everything and count every matter again (after a restore or a bulk load)."""
    with transaction.atomic():
        RateFact.objects.all().delete()
        RateCell.objects.all().delete()
        RollupState.objects.all().delete()
    case_ids = set(CaseEvent.objects.values_list("case_id", flat=True).distinct())
    case_ids |= set(BacklogCase.objects.values_list("case_id", flat=True))
    with transaction.atomic():
        state = _state()
        top = CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0
        started = timezone.now()
        recount_matters(case_ids)
        state.last_event_id, state.refreshed_at = top, started
        state.backlog_signature = _backlog_signature()
        state.save(update_fields=["last_event_id", "refreshed_at", "backlog_signature"])
    return len(case_ids)
