"""Every deduction and credit of the assessment, declared once (as `reports.rates` declares rates).

An item's rows are the events (or matters, orders, backlog cases) it counts, each annotated with
`_unit` (the unit it is counted for), `_at` (the moment that puts it in the period) and `_case`
(its matter). The assessment counts them with one GROUP BY query per item; the accountability
record (责任追究台账) lists the very same rows, so a deduction and its lines can never disagree.

Deliberately absent (scope rule): nothing about petitioners, and nothing about a citizen going to
a higher level (越级): no unit loses points because a citizen petitioned above it.

Period: a row belongs to the period when its moment falls in it (Beijing dates, both ends included).
"As of now" items (逾期未办结, 督办逾期未反馈) count what is still undone when the assessment is computed,
for deadlines that fell in the period; once done late, the same matter is counted instead as a late
reply (逾期答复) or late feedback (督办逾期反馈) in the period in which it was done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from xinfang.backlog.models import BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent, State

# _review_unit is private to reports.rates: imported so that who a review counts for is defined once
from xinfang.reports.rates import ACTOR_OR_LEAD, CHANGED, PETITION_KINDS, _review_unit

DEDUCTION, CREDIT = "deduction", "credit"


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # first moment, included
    end: dt.datetime  # first moment after the period
    now: dt.datetime  # when the assessment is computed
    urge_days: int = 5

    @property
    def until_now(self) -> dt.datetime:
        """The period's end, or now if the period has not ended yet."""
        return min(self.end, self.now)


@dataclass(frozen=True)
class Item:
    """A deduction or credit. Timeline items declare event `kinds`, a condition `when` on those
    events and the `unit` they count for, so that all of them are counted in one scan of the
    timeline (`event_rows`); the others declare their `rows` directly."""

    name: str
    label: str
    sign: str  # DEDUCTION or CREDIT
    definition: str
    rows_of: Callable[[Window], QuerySet] | None = (
        None  # not on the timeline: `_unit`, `_at`, `_case`
    )
    kinds: tuple[str, ...] = ()
    when: Callable[[Window], Q] | None = None
    unit: Callable[[], object] | None = None

    @property
    def is_credit(self) -> bool:
        return self.sign == CREDIT

    @property
    def on_timeline(self) -> bool:
        return bool(self.kinds)

    def rows(self, w: Window) -> QuerySet:
        """The counted rows, each with `_unit`, `_at` and `_case`."""
        if self.rows_of is not None:
            return self.rows_of(w)
        return event_rows((self,), w)


# Who holds the running clock in each state (notify.services.HOLDER_FIELD, as a SQL expression).
HOLDER_STATES = (State.REGISTERED, State.ROUTED, State.ACCEPTED, State.REVIEWING, State.REREVIEWING)


def _holder(prefix: str = ""):
    return CaseWhen(
        When(**{f"{prefix}state": State.REGISTERED}, then=F(f"{prefix}office_id")),
        When(
            **{f"{prefix}state__in": [State.ROUTED, State.ACCEPTED]},
            then=F(f"{prefix}lead_unit_id"),
        ),
        When(**{f"{prefix}state": State.REVIEWING}, then=F(f"{prefix}review_unit_id")),
        When(**{f"{prefix}state": State.REREVIEWING}, then=F(f"{prefix}rereview_unit_id")),
        default=Value(None),
        output_field=IntegerField(),
    )


def _detail_int(key: str):
    return Cast(KT(f"details__{key}"), IntegerField())


def event_rows(items, w: Window) -> QuerySet:
    """The timeline rows of several items in one scan: `_item` names the item of each row."""
    items = [i for i in items if i.on_timeline]
    kinds = sorted({k for i in items for k in i.kinds})
    matches = reduce(or_, (Q(kind__in=i.kinds) & i.when(w) for i in items))
    return (
        CaseEvent.objects.filter(kind__in=kinds, at__gte=w.start, at__lt=w.end)
        # the routed unit (as JSON text) and the supervision order, for the conditions' subqueries
        .annotate(_rt=KT("details__unit_id"), _order=_detail_int("order"))
        .filter(matches)
        .annotate(
            _item=CaseWhen(
                *(When(kind__in=i.kinds, then=Value(i.name)) for i in items),
                default=Value(""),
                output_field=CharField(),
            ),
            _unit=CaseWhen(
                *(When(kind__in=i.kinds, then=i.unit()) for i in items),
                default=Value(None),
                output_field=IntegerField(),
            ),
            _at=F("at"),
            _case=F("case_id"),
        )
    )


def _overdue_open(w: Window) -> QuerySet:
    return Case.objects.filter(
        state__in=HOLDER_STATES, due_at__gte=w.start, due_at__lt=w.until_now
    ).annotate(_unit=_holder(), _at=F("due_at"), _case=F("id"))


def _objection_rejected(w: Window) -> Q:
    """A route back to a unit that had objected (异议) after an earlier route to it: the office
    did not accept the objection (推诿). Counted for that unit when the matter comes back."""
    objected_between = CaseEvent.objects.filter(
        case_id=OuterRef(OuterRef("case_id")),
        kind=EventKind.OBJECTED,
        at__gt=OuterRef("at"),
        at__lt=OuterRef(OuterRef("at")),
    )
    earlier_route = (
        CaseEvent.objects.filter(
            case_id=OuterRef("case_id"),
            kind=EventKind.ROUTED,
            at__lt=OuterRef("at"),
        )
        .annotate(_t=KT("details__unit_id"))
        .filter(_t=OuterRef("_rt"))
        .filter(Exists(objected_between))
    )
    return Q(Exists(earlier_route))


# What counts as "doing something" after an urge: any step of the unit on the matter.
ACTION_KINDS = (
    EventKind.ROUTED,
    EventKind.OBJECTED,
    EventKind.ACCEPTED,
    EventKind.DECLINED,
    EventKind.NOT_ACCEPTED_AGAIN,
    EventKind.EXTENDED,
    EventKind.REPLIED,
    EventKind.REPORT_SUBMITTED,
    EventKind.REVIEW_DECIDED,
    EventKind.REREVIEW_DECIDED,
    EventKind.PAUSED,
    EventKind.RESUMED,
    EventKind.MERGED,
    EventKind.SUPERVISION_FEEDBACK,
    EventKind.COHANDLING_OPINION,
)


def _urge_ignored(w: Window) -> Q:
    """An urge (催办) after which the matter saw no step for `urge_days` days, counted once the
    days have passed."""
    days = dt.timedelta(days=w.urge_days)
    acted = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"),
        kind__in=ACTION_KINDS,
        at__gt=OuterRef("at"),
        at__lte=OuterRef("at") + days,
    )
    return Q(at__lt=w.now - days) & ~Q(Exists(acted))


def _urged_unit():
    # The unit holding the clock: recorded on the event when present; else the holder now, which
    # is the holder then, since no step has moved the matter meanwhile.
    return Coalesce(
        _detail_int("urged_unit_id"),
        _holder("case__"),
        F("case__lead_unit_id"),
        F("case__office_id"),
        output_field=IntegerField(),
    )


def _order_unit():
    from xinfang.supervision.models import SupervisionOrder

    return Subquery(SupervisionOrder.objects.filter(pk=OuterRef("_order")).values("unit_id")[:1])


def _supervision_ignored(w: Window) -> QuerySet:
    from xinfang.supervision.models import SupervisionOrder

    return SupervisionOrder.objects.filter(
        status=SupervisionOrder.Status.OPEN,
        deadline__gte=w.start,
        deadline__lt=w.until_now,
    ).annotate(_unit=F("unit_id"), _at=F("deadline"), _case=F("case_id"))


def _backlog_cleared(w: Window) -> QuerySet:
    return BacklogCase.objects.filter(
        status=BacklogStatus.CLOSED, closed_at__gte=w.start, closed_at__lt=w.end
    ).annotate(_unit=F("unit_id"), _at=F("closed_at"), _case=F("case_id"))


def _always(w: Window) -> Q:
    return Q()


def _late(w: Window) -> Q:
    return Q(details__on_time=False)


def _changed(w: Window) -> Q:
    # The numerator of 复查复核改变率 (reports.rates: same events, same condition, same units).
    return Q(case__kind__in=sorted(PETITION_KINDS)) & CHANGED


REVIEW_KINDS = (EventKind.REVIEW_DECIDED, EventKind.REREVIEW_DECIDED)


ITEMS: tuple[Item, ...] = (
    Item(
        "overdue_open",
        "逾期未办结",
        DEDUCTION,
        "办理时限（转送、受理、办理、复查、复核）在统计期内届满、计算时仍未办结的事项，计入当前持有时限的单位",
        rows_of=_overdue_open,
    ),
    Item(
        "overdue_reply",
        "逾期答复",
        DEDUCTION,
        "统计期内超过办理时限（含批准的延期，扣除中止计时）作出答复的事项，计入答复单位",
        kinds=(EventKind.REPLIED,),
        when=_late,
        unit=lambda: ACTOR_OR_LEAD,
    ),
    Item(
        "extension",
        "延期办理",
        DEDUCTION,
        "统计期内批准延期的事项，计入延期的办理单位",
        kinds=(EventKind.EXTENDED,),
        when=_always,
        unit=lambda: ACTOR_OR_LEAD,
    ),
    Item(
        "objection_rejected",
        "异议被驳回（推诿）",
        DEDUCTION,
        "单位异议退回后，登记机构仍将事项转回该单位办理的次数（异议不成立），计入该单位",
        kinds=(EventKind.ROUTED,),
        when=_objection_rejected,
        unit=lambda: _detail_int("unit_id"),
    ),
    Item(
        "review_changed",
        "复查复核改变",
        DEDUCTION,
        "统计期内复查（复核）改变原处理（复查）意见的决定；复查计入原办理单位，复核计入复查机关",
        kinds=REVIEW_KINDS,
        when=_changed,
        unit=_review_unit,
    ),
    Item(
        "urge_ignored",
        "催办未落实",
        DEDUCTION,
        "催办后规定天数内事项没有任何办理动作的催办次数，计入被催办（持有时限）的单位",
        kinds=(EventKind.URGED,),
        when=_urge_ignored,
        unit=_urged_unit,
    ),
    Item(
        "supervision_ignored",
        "督办逾期未反馈",
        DEDUCTION,
        "反馈期限在统计期内届满、计算时仍未反馈的督办单，计入被督办单位",
        rows_of=_supervision_ignored,
    ),
    Item(
        "supervision_late",
        "督办逾期反馈",
        DEDUCTION,
        "统计期内超过反馈期限才反馈的督办单（每次反馈计一次），计入被督办单位",
        kinds=(EventKind.SUPERVISION_FEEDBACK,),
        when=_late,
        unit=_order_unit,
    ),
    Item(
        "backlog_cleared",
        "积案化解销号",
        CREDIT,
        "统计期内化解销号的积案，计入积案的责任单位",
        rows_of=_backlog_cleared,
    ),
)
ITEM_BY_NAME = {i.name: i for i in ITEMS}
ITEM_CHOICES = [(i.name, f"{i.label}（{'加分' if i.is_credit else '扣分'}）") for i in ITEMS]
