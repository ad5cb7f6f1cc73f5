"""Reads about matters: the calendar, the clock table, queues, the timeline."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from xinfang.cases import access, clocks, search
from xinfang.cases.calendar import WorkCalendar
from xinfang.cases.events import EventKind
from xinfang.cases.models import HOTLINE_KINDS, Case, CaseEvent, HolidayOverride, State
from xinfang.cases.validators import mask_phone
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.orgs import rulecache
from xinfang.orgs.models import DispatchRule


@rulecache.versioned(rulecache.CALENDAR, maxsize=1)
def work_calendar() -> WorkCalendar:
    """The holiday calendar with the admins' overrides, cached per process; a change of the
    overrides reaches every process (web workers and `xinfang worker`) through `rulecache`."""
    overrides = dict(HolidayOverride.objects.values_list("date", "is_workday"))
    return WorkCalendar(overrides=overrides)


def clock_rules() -> dict[str, clocks.ClockRule]:
    return clocks.clock_table(getattr(settings, "XINFANG_CLOCKS", None))


def case_due_state(case: Case, now: dt.datetime | None = None) -> clocks.DueState:
    if case.paused:
        return clocks.DueState.NONE
    return clocks.due_state(case.due_at, now or timezone.now(), settings.XINFANG_DUE_SOON_DAYS)


def hotline_clock_name(kind: str) -> str | None:
    return kind if kind in HOTLINE_KINDS else None


def overdue_cases(qs, now: dt.datetime | None = None):
    """Matters whose running clock has run out (one indexed range on due_at)."""
    return qs.filter(due_at__lte=now or timezone.now())


def due_soon_cases(qs, now: dt.datetime | None = None):
    now = now or timezone.now()
    return qs.filter(due_at__gt=now, warn_at__lte=now)


def same_petitioner_cases(
    user, *, id_number: str = "", phone: str = "", exclude_id: int | None = None
) -> list[Case]:
    """The same petitioner's other matters that `user` may see, and whose petitioner `user`
    may see, found by resident ID or phone, newest first.

    A report against the viewer's own unit is left out even when the viewer may see the
    matter itself: listing it beside this person's other matters would name its author.
    """
    if not id_number and not phone:
        return []
    qs = Case.objects.filter(petitioner_id_number=id_number) if id_number else Case.objects.none()
    if phone:
        qs = qs | Case.objects.filter(petitioner_phone=phone)
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    within = access.visible_cases(user)
    found = list(
        within.filter(id__in=qs.order_by("-registered_at").values("id")[:20])
        .select_related("accused_unit")
        .order_by("-registered_at")
    )
    return [c for c in found if access.can_see_petitioner(user, c, known_visible=True)]


def is_final(case: Case) -> bool:
    return case.state in {State.FINAL, State.NOT_ACCEPTED_AGAIN}


# ---------------------------------------------------------------- the queue (台帐)

PAGE_SIZE = 20


def _apply_filters(qs, data: dict, now: dt.datetime, *, text: bool = True, units=None):
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("channel"):
        qs = qs.filter(channel=data["channel"])
    if data.get("category"):
        category = data["category"]
        qs = qs.filter(category__in=[category, *category.children.all()])
    if data.get("place"):
        qs = qs.filter(place=data["place"])
    if data.get("date_from"):
        qs = qs.filter(
            registered_at__gte=clocks.end_of_day(data["date_from"]) - dt.timedelta(days=1)
        )
    if data.get("date_to"):
        qs = qs.filter(registered_at__lt=clocks.end_of_day(data["date_to"]))
    if data.get("due") == "overdue":
        qs = overdue_cases(qs, now).exclude(clock__in=CITIZEN_WINDOWS)
    elif data.get("due") == "due_soon":
        qs = due_soon_cases(qs, now).exclude(clock__in=CITIZEN_WINDOWS)
    if text and data.get("q"):
        qs = search.filter_cases(qs, data["q"], units=units)
    return qs


def _encode_cursor(value: dt.datetime, pk: int) -> str:
    return f"{int(value.timestamp() * 1_000_000)}_{pk}"


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        micros, pk = cursor.split("_")
        return dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.UTC), int(pk)
    except (ValueError, OverflowError):
        return None


def queue_page(
    qs, data: dict, *, now: dt.datetime | None = None, size: int = PAGE_SIZE, units=None
):
    """One page of a queue with keyset pagination, so page 5,000 costs what page 1 costs.

    Sorted newest first; a deadline filter sorts by the deadline, most pressing first.
    `units` (queue scope, unit ids) lets a text search narrow its hits to the queue in the index.
    Returns (rows, cursor of the next page or None).
    """
    now = now or timezone.now()
    by_due = data.get("due") in {"overdue", "due_soon"}
    if data.get("q") and not by_due:
        return _search_page(_apply_filters(qs, data, now, text=False), data, size, units)
    qs = _apply_filters(qs, data, now, units=units)
    field, ascending = ("due_at", True) if by_due else ("registered_at", False)
    cursor = _decode_cursor(data.get("after") or "")
    if cursor:
        value, pk = cursor
        if ascending:
            qs = qs.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}))
        else:
            qs = qs.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk}))
    order = [field, "id"] if ascending else [f"-{field}", "-id"]
    rows = list(
        qs.select_related(*_RELATED).prefetch_related(*_PREFETCH).order_by(*order)[: size + 1]
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, field), last.pk)
    return rows, next_cursor


_RELATED = ("lead_unit", "place", "category", "accused_unit")
# `access.can_see_petitioner` reads a report's other accused units: one query for the page.
_PREFETCH = ("other_accused_units",)
SEARCH_FIRST_BATCH = 256
SEARCH_LAST_BATCH = 16384


def _search_page(qs, data: dict, size: int, units=None):
    """A page of search results, newest registered first (by id), fast for rare and common words.

    The newest hits are fetched from the text index in growing batches and checked against the
    queue's other filters; a page is usually found in the first batch of 256. When it is not
    (a narrow queue, a word common elsewhere), the batches start again with the queue's unit tokens
    (`units`, for queues of at most SEARCH_UNITS_MAX units) in the index query. Only when even
    those batches do not fill a page does it fall back to the full match.
    """

    cursor = _decode_cursor(data.get("after") or "")
    before_id = cursor[1] if cursor else None
    query = data["q"]
    batch, scoped = SEARCH_FIRST_BATCH, None
    while batch <= SEARCH_LAST_BATCH:
        ids = search.hit_ids(query, before_id=before_id, limit=batch, units=scoped)
        rows = list(
            qs.filter(id__in=ids)
            .select_related(*_RELATED)
            .prefetch_related(*_PREFETCH)
            .order_by("-id")[: size + 1]
        )
        if len(rows) > size or len(ids) < batch:
            break
        if units and scoped is None:
            # The newest hits did not fill a page: from now on ask the index for the queue's
            # units too, so that every hit fetched is one of the queue's own.
            batch, scoped = SEARCH_FIRST_BATCH, units
            continue
        batch *= 4
    else:
        narrowed = qs.filter(id__lt=before_id) if before_id else qs
        rows = list(
            search.filter_cases(narrowed, query, units=units)
            .select_related(*_RELATED)
            .prefetch_related(*_PREFETCH)
            .order_by("-id")[: size + 1]
        )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _encode_cursor(rows[-1].registered_at, rows[-1].pk)
    return rows, next_cursor


def case_timeline(case: Case, *, public_only: bool = False):
    events = (
        CaseEvent.objects.filter(case=case).select_related("actor", "unit").order_by("at", "id")
    )
    return events.filter(public=True) if public_only else events


def dispatch_suggestion(case: Case):
    """The unit the dispatch catalogue names for this matter's category and place, if any."""
    if not case.category_id:
        return None
    rules = DispatchRule.objects.filter(category_id=case.category_id).select_related("unit")
    best = None
    for rule in rules:
        if rule.place_id == case.place_id:
            return rule.unit
        if rule.place_id is None:
            best = rule.unit
    return best


# ---------------------------------------------------------------- shared by the pages, the API and messages


# The last day of a deadline and a date as notices write it live in `deadlines`; re-exported
# here for the notices, messages and portal that import them from this module.
from xinfang.cases.deadlines import cn_date, last_day  # noqa: E402, F401 - a re-export, kept beside its readers


def queue_row(user, case: Case, now: dt.datetime, *, urges: int = 0) -> dict:
    """One line of a queue: the petitioner shown only as far as `user` may see them, and how
    many times the matter was urged (催办, `urge_counts`) while it is open.

    For rows from `access.queue_cases`, which only holds matters the user may see.
    """
    sees = access.can_see_petitioner(user, case, known_visible=True)
    return {
        "case": case,
        "due_state": case_due_state(case, now),
        "petitioner": "匿名" if case.anonymous else (case.petitioner_name if sees else "（保密）"),
        "phone": mask_phone(case.petitioner_phone) if sees else "",
        "urges": 0 if case.is_closed else urges,
    }


def urge_counts(case_ids) -> dict[int, int]:
    """How many times each matter was urged (催办): one query for a page of the queue."""
    rows = (
        CaseEvent.objects.filter(case_id__in=list(case_ids), kind=EventKind.URGED)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    return dict(rows)


# Above this many units a queue is broad, and the newest hits of any word fill its page anyway.
SEARCH_UNITS_MAX = 200


def search_units(user, scope: str) -> tuple[str, list[int]] | None:
    """The (scope, unit ids) a search of `user`'s queue may ask the text index for, if narrow."""
    ids = access.scope_unit_ids(user)
    if ids is None or not ids or len(ids) > SEARCH_UNITS_MAX:
        return None
    return (scope if scope in search.UNIT_TOKEN else "lead", ids)  # queue_cases' own default


def user_queue(user, data: dict, *, now: dt.datetime | None = None, size: int = PAGE_SIZE):
    """One page of `user`'s queue (台帐) for the page and the API alike.

    Returns (scope, rows as `queue_row` dicts, cursor of the next page or None).
    """
    now = now or timezone.now()
    scope = data.get("scope") or access.default_queue_scope(user)
    cases, next_cursor = queue_page(
        access.queue_cases(user, scope), data, now=now, size=size, units=search_units(user, scope)
    )
    urges = urge_counts(case.pk for case in cases) if cases else {}
    return (
        scope,
        [queue_row(user, case, now, urges=urges.get(case.pk, 0)) for case in cases],
        next_cursor,
    )


# ---------------------------------------------------------------- 并单: who hears of a matter


def petitioners_to_inform(case: Case) -> list[Case]:
    """The main matter and every matter merged into it (also through merged matters), so that
    everyone who raised the problem hears when the main matter moves."""
    found, frontier, seen = [case], [case.pk], {case.pk}
    while frontier:
        merged = list(
            Case.objects.filter(linked_to_id__in=frontier, state=State.FINAL)
            .filter(Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.MERGED)))
            .exclude(id__in=seen)
            .order_by("registered_at", "id")
        )
        found.extend(merged)
        seen.update(c.pk for c in merged)
        frontier = [c.pk for c in merged]
    return found
