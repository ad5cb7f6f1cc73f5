"""Every rate, defined once: what it counts, over which rows, for which unit.

A rate is a declared value (`Rate`): its rows (the denominator) are timeline events
(`CaseEvent`) or backlog cases in the period, each attributed to one unit; its numerator is a
condition on those rows. The table, its drill-down, the JSON and .xlsx twins, the API and the
README all read these declarations, so a figure and the list of matters behind it can never
disagree. Counting is one GROUP BY query per rate (no loop over matters).

Period: a row belongs to the period when its event happened in it (Beijing dates, both ends
included); for 积案化解率 the event is the backlog flag (认定时间).
Scope: a row is shown to a user only when its matter is in `access.visible_cases(user)` and the
unit it is counted for is in the user's scope (their unit; heads and supervisors the subtree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from xinfang.backlog.models import BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases.events import EventKind
from xinfang.cases.models import HOTLINE_KINDS, CaseEvent, Outcome, Rating

PETITION_KINDS = frozenset({"suggestion", "accusation", "appeal"})
ON_TIME = Q(details__on_time=True)
ACTOR_OR_LEAD = Coalesce("unit_id", "case__lead_unit_id")


@dataclass(frozen=True)
class Rate:
    name: str
    label: str
    family: str  # "petition" (信访) or "hotline" (12345)
    numerator_text: str
    denominator_text: str
    note: str
    rows: Callable[
        [dt.datetime, dt.datetime], QuerySet
    ]  # denominator rows, `_unit` and `_at` annotated
    numerator: Q
    weighted: bool = False  # 12345 满意率: 基本满意 counts `RateConfig.basically_weight`

    @property
    def definition(self) -> str:
        return f"{self.numerator_text} ÷ {self.denominator_text}。{self.note}".rstrip("。") + "。"


def _events(kind: str | tuple[str, ...], kinds: frozenset[str], unit, start, end) -> QuerySet:
    kinds_q = Q(kind__in=kind) if isinstance(kind, tuple) else Q(kind=kind)
    return CaseEvent.objects.filter(
        kinds_q, at__gte=start, at__lt=end, case__kind__in=sorted(kinds)
    ).annotate(_unit=unit, _at=F("at"))


def _routed(kinds):
    return lambda start, end: _events(
        EventKind.ROUTED, kinds, Coalesce("unit_id", "case__office_id"), start, end
    )


def _dispatched(start, end):
    """12345 dispatches (派单), each counted for the unit it was dispatched to. A dispatch that
    was sent back (退单) is not responded, even when the request is later dispatched to the same
    unit again and accepted there: that acceptance answers the later dispatch. (A matter is only
    routed again after an objection, so "an objection after this dispatch" is "sent back".)"""
    unit = Cast(KT("details__unit_id"), IntegerField())
    accepted = CaseEvent.objects.filter(
        ON_TIME,
        case_id=OuterRef("case_id"),
        kind=EventKind.ACCEPTED,
        at__gte=OuterRef("at"),
    ).filter(
        Q(unit_id=OuterRef("_unit")) | Q(unit__isnull=True, case__lead_unit_id=OuterRef("_unit"))
    )
    sent_back = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"), kind=EventKind.OBJECTED, at__gte=OuterRef("at")
    )
    return _events(EventKind.ROUTED, HOTLINE_KINDS, unit, start, end).annotate(
        _responded=Exists(accepted), _sent_back=Exists(sent_back)
    )


def _replied(start, end):
    """Replies to petitions, each counted for the unit that replied, with `_paused_late`: the
    handling clock was paused after it had already run out (the pause event itself was late).
    Such a pause stops no clock: the matter was overdue, and a reply made during the pause, or
    after a resume that moved the deadline past it, is still late."""
    paused_late = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"),
        kind=EventKind.PAUSED,
        details__on_time=False,
        at__lt=OuterRef("at"),
    )
    return _events(EventKind.REPLIED, PETITION_KINDS, ACTOR_OR_LEAD, start, end).annotate(
        _paused_late=Exists(paused_late)
    )


def _review_unit():
    # A review judges the handling unit's reply; a re-review judges the review organ's decision.
    return CaseWhen(
        When(kind=EventKind.REREVIEW_DECIDED, then=F("case__review_unit_id")),
        default=F("case__lead_unit_id"),
    )


def _backlog(start, end) -> QuerySet:
    return BacklogCase.objects.filter(flagged_at__gte=start, flagged_at__lt=end).annotate(
        _unit=F("unit_id"), _at=F("flagged_at")
    )


RATED = Q(case__rating__gt="")
SATISFIED = Q(case__rating__in=[Rating.SATISFIED, Rating.BASICALLY])
CHANGED = (Q(kind=EventKind.REVIEW_DECIDED) & ~Q(case__review_outcome=F("case__outcome"))) | (
    Q(kind=EventKind.REREVIEW_DECIDED) & ~Q(case__rereview_outcome=F("case__review_outcome"))
)

RATES: tuple[Rate, ...] = (
    Rate(
        "route_on_time",
        "转送交办及时率",
        "petition",
        "在转送交办时限（登记后15日）内转送、交办的次数",
        "期内转送、交办的次数",
        "计入作出转送交办的登记机构；异议退回后改派另计一次",
        _routed(PETITION_KINDS),
        ON_TIME,
    ),
    Rate(
        "accept_on_time",
        "及时受理率",
        "petition",
        "在受理时限（收到后15日）内受理的事项",
        "期内受理的事项",
        "计入受理时的主办单位；异议退回后改派的，只计最终受理的单位",
        lambda s, e: _events(EventKind.ACCEPTED, PETITION_KINDS, ACTOR_OR_LEAD, s, e),
        ON_TIME,
    ),
    Rate(
        "complete_on_time",
        "按期办结率",
        "petition",
        "在办理时限（受理后60日，含批准的延期，扣除中止计时）内答复的事项",
        "期内答复的事项",
        "计入答复时的主办单位；并单的重复事项不单独计为办结；超期后才中止计时的，仍计为超期",
        _replied,
        ON_TIME & Q(_paused_late=False),
    ),
    Rate(
        "rating_participation",
        "参评率",
        "petition",
        "其中已由信访人评价的事项",
        "期内答复的事项",
        "不予受理、不再受理、并单的事项没有答复，不在评价范围内",
        lambda s, e: _events(EventKind.REPLIED, PETITION_KINDS, ACTOR_OR_LEAD, s, e),
        RATED,
    ),
    Rate(
        "satisfaction",
        "满意率",
        "petition",
        "评价为满意或基本满意的事项",
        "期内评价的事项",
        "计入初次办理（主办）单位：谁初次办理、谁接受评价",
        lambda s, e: _events(EventKind.RATED, PETITION_KINDS, F("case__lead_unit_id"), s, e),
        SATISFIED,
    ),
    Rate(
        "review_reversal",
        "复查复核改变率",
        "petition",
        "复查（复核）结果与原处理（复查）意见不同的决定",
        "期内作出的复查、复核决定",
        "复查计入原办理单位，复核计入复查机关",
        lambda s, e: _events(
            (EventKind.REVIEW_DECIDED, EventKind.REREVIEW_DECIDED),
            PETITION_KINDS,
            _review_unit(),
            s,
            e,
        ),
        CHANGED,
    ),
    Rate(
        "backlog_cleared",
        "积案化解率",
        "petition",
        "其中已化解销号的积案",
        "期内认定的积案",
        "按认定时间计入统计期，计入积案的责任单位；化解后重新化解的不计为已化解",
        _backlog,
        Q(status=BacklogStatus.CLOSED),
    ),
    Rate(
        "hotline_response",
        "响应率",
        "hotline",
        "派单后在办理时限内由该单位受理（签收）的派单",
        "期内派单次数",
        "计入派往的单位；被退单的派单计为未响应（改派他单位或再派回原单位均同）",
        _dispatched,
        Q(_responded=True, _sent_back=False),
    ),
    Rate(
        "hotline_resolution",
        "解决率",
        "hotline",
        "答复结果为“支持”或“解释”（诉求已依法解决或答复清楚）的诉求",
        "期内答复的诉求",
        "“不予支持”计为未解决；计入答复时的承办单位",
        lambda s, e: _events(EventKind.REPLIED, HOTLINE_KINDS, ACTOR_OR_LEAD, s, e),
        Q(case__outcome__in=[Outcome.SUPPORTED, Outcome.EXPLAINED]),
    ),
    Rate(
        "hotline_satisfaction",
        "满意率（12345）",
        "hotline",
        "满意件数 + 基本满意件数 × 折算系数（默认0.9）",
        "期内评价的诉求",
        "折算系数和综合得分权重在“系统管理 · 12345 三率考核规则”中调整",
        lambda s, e: _events(EventKind.RATED, HOTLINE_KINDS, F("case__lead_unit_id"), s, e),
        SATISFIED,
        weighted=True,
    ),
)
BY_NAME = {r.name: r for r in RATES}

COMPOSITE = ("hotline_response", "hotline_resolution", "hotline_satisfaction")
COMPOSITE_LABEL = "12345 综合得分"


def numerator_expr(rate: Rate, basically_weight: Decimal):
    """The aggregate that counts the numerator (a weighted sum for 12345 满意率)."""
    if rate.weighted:
        return Sum(
            CaseWhen(
                When(case__rating=Rating.SATISFIED, then=Value(1.0)),
                When(case__rating=Rating.BASICALLY, then=Value(float(basically_weight))),
                default=Value(0.0),
                output_field=FloatField(),
            )
        )
    return Count("pk", filter=rate.numerator)


def drill_filter(rate: Rate, part: str) -> Q:
    """The rows of a drill-down: the denominator is every row; the numerator the counted ones
    (for the weighted 满意率, every row rated 满意 or 基本满意)."""
    return rate.numerator if part == "numerator" else Q()


def composite_definition(config) -> str:
    return (
        f"响应率 × {config.response_weight:g} + 解决率 × {config.resolution_weight:g} + 满意率（12345）"
        f" × {config.satisfaction_weight:g}（百分制）；任一项分母为0时不计"
    )
