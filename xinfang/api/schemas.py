"""Request and response shapes of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum, StrEnum
from typing import Any

from ninja import Field, Schema
from pydantic import field_validator

from xinfang.cases.models import Channel, Kind, Outcome, Rating, RouteMode, State, Urgency

MAX_ID = 2**63 - 1
Id = int


def _choices(name: str, choices) -> type[Enum]:
    return Enum(name, {value: value for value in choices.values}, type=str)


StateEnum = _choices("StateEnum", State)
KindEnum = _choices("KindEnum", Kind)
ChannelEnum = _choices("ChannelEnum", Channel)
OutcomeEnum = _choices("OutcomeEnum", Outcome)
RatingEnum = _choices("RatingEnum", Rating)
RouteModeEnum = _choices("RouteModeEnum", RouteMode)
UrgencyEnum = Enum("UrgencyEnum", {"none": "", **{v: v for v in Urgency.values}}, type=str)


class ScopeEnum(StrEnum):
    lead = "lead"
    office = "office"
    review = "review"
    rereview = "rereview"
    co = "co"


class DueEnum(StrEnum):
    due_soon = "due_soon"
    overdue = "overdue"


# A date the calendar can count from: far-off years overflow Python's datetime arithmetic.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_text(value):
    """Dates come as YYYY-MM-DD only (pydantic would read 0 as 1970-01-01)."""
    if value is None or isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not DATE_FORMAT.fullmatch(value):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    return value


def _sane_year(value: dt.date | dt.datetime | None, label: str):
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"{label}年份应在{EARLIEST_YEAR}至{LATEST_YEAR}之间")
    return value


# ---------------------------------------------------------------- shared outputs


class ErrorOut(Schema):
    """错误：`detail` 为中文说明，`errors` 按字段列出（如有）。"""

    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class Ref(Schema):
    id: int
    name: str


class UnitOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    level: str
    level_label: str
    kind: str
    kind_label: str
    place_id: int | None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    full_name: str
    parent_id: int | None


class CaseRow(Schema):
    """台帐中的一行。信访人姓名按权限显示（匿名/（保密）），电话总是打码。"""

    id: int
    number: str
    title: str
    state: str
    state_label: str
    kind: str
    kind_label: str
    channel: str
    channel_label: str
    registered_at: dt.datetime
    due_at: dt.datetime | None
    due_last_day: dt.date | None = Field(
        description="期限的最后一日（due_at 为该日24时，即次日0时）"
    )
    due_state: str
    paused: bool
    lead_unit: Ref | None
    place: Ref
    category: Ref | None
    petitioner: str
    phone: str
    version: int
    urge_count: int = Field(0, description="在办期间被催办的次数（台帐中的“被催办 N次”）")
    open_orders: int = Field(
        0, description="未办结的督办单数（待反馈、待审核），只计本用户可见的督办单"
    )


class CasePage(Schema):
    scope: str
    items: list[CaseRow]
    next: str | None = Field(None, description="下一页游标：作为 after 参数传回")


class PersonOut(Schema):
    anonymous: bool
    name: str
    id_number: str = Field(description="身份证号：默认打码，reveal=1 时显示全文并记录查看")
    phone: str
    address: str
    revealed: bool
    representatives: list[str]


class EventOut(Schema):
    id: int
    kind: str
    label: str
    at: dt.datetime
    public: bool
    actor: str
    unit: str
    details: dict[str, Any]


class CaseDetail(Schema):
    id: int
    number: str
    title: str
    content: str
    state: str
    state_label: str
    kind: str
    kind_label: str
    channel: str
    channel_label: str
    urgency: str
    registered_at: dt.datetime
    office: Ref
    lead_unit: Ref | None
    route_mode: str
    co_units: list[Ref]
    review_unit: Ref | None
    rereview_unit: Ref | None
    place: Ref
    category: Ref | None
    clock: str
    clock_label: str
    due_at: dt.datetime | None
    due_last_day: dt.date | None = Field(
        description="期限的最后一日（due_at 为该日24时，即次日0时）"
    )
    due_state: str
    paused: bool
    assign_due_at: dt.datetime | None
    assign_due_last_day: dt.date | None = Field(description="交办期限的最后一日")
    extension_days: int
    outcome: str
    rating: str
    repeat_count: int
    linked_to: str | None
    accused: str
    accused_units: list[Ref] = Field(description="被反映单位（可多个）")
    accused_pending: bool = Field(description="被反映单位待确定：登记机构记录之前不能转送")
    petitioner_visible: bool
    petitioner: PersonOut | None = Field(description="信访人；对被反映单位保密时为 null")
    attachments: list[str]
    timeline: list[EventOut]
    allowed_actions: list[str]
    version: int


class RegisterOut(Schema):
    created: bool
    notice: str = Field(description="重复信访时的告知类型：in_progress / not_accepted_again")
    case: CaseDetail


# ---------------------------------------------------------------- inputs


class RepresentativeIn(Schema):
    name: str = Field(max_length=40)
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)


class RegisterIn(Schema):
    """登记信访事项。字段与登记页面相同，校验规则和中文错误信息也相同。"""

    channel: ChannelEnum
    kind: KindEnum
    title: str = Field(min_length=1, max_length=120)
    content: str = Field(min_length=1, max_length=20000)
    place: Id = Field(ge=1, le=MAX_ID, description="问题属地（行政区划 id）")
    category: Id | None = Field(None, ge=1, le=MAX_ID, description="事项分类 id")
    urgency: UrgencyEnum = UrgencyEnum.none
    registered_at: dt.datetime | None = Field(None, description="登记时间，留空为当前时间")
    anonymous: bool = False
    petitioner_name: str = Field("", max_length=40)
    petitioner_id_number: str = Field("", max_length=30)
    petitioner_phone: str = Field("", max_length=30)
    petitioner_address: str = Field("", max_length=200)
    group_size: int = Field(1, ge=1, le=100000)
    representatives: list[RepresentativeIn] = Field(default_factory=list)
    accused_unit: Id | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="被反映单位 id。检举控告、举报、投诉类事项须填写被反映单位，或 no_accused_unit=true",
    )
    other_accused_units: list[Id] = Field(
        default_factory=list, max_length=20, description="其他被反映单位 id"
    )
    no_accused_unit: bool = Field(False, description="检举控告、举报、投诉类事项不涉及具体单位")
    accused_person: str = Field("", max_length=60)
    repeat_of: str = Field("", max_length=40, description="重复信访：原事项编号")

    @field_validator("registered_at")
    @classmethod
    def _year(cls, value):
        return _sane_year(value, "登记时间")


class RevealIn(Schema):
    reason: str = Field(
        min_length=1, max_length=200, pattern=r"\S", description="查看完整身份信息的理由"
    )


class AccusedIn(Schema):
    units: list[Id] = Field(
        default_factory=list, max_length=20, description="被反映单位 id（可多个）"
    )
    no_unit: bool = Field(False, description="不涉及具体单位")
    person: str = Field("", max_length=60, description="被反映人")
    reason: str = Field("", max_length=200, description="更正已记录的单位时的理由")
    expected_version: int | None = Field(None, ge=0, le=MAX_ID)


class ActionIn(Schema):
    expected_version: int | None = Field(
        None, ge=0, le=MAX_ID, description="读取时的 version；已被他人修改时返回 409"
    )


class RouteIn(ActionIn):
    unit: Id = Field(ge=1, le=MAX_ID, description="主办单位 id")
    mode: RouteModeEnum = RouteModeEnum.transfer
    co_units: list[Id] = Field(default_factory=list, description="协办单位 id")
    assign_days: int | None = Field(None, ge=1, le=90, description="交办期限（天）")
    note: str = ""


def Text():
    """Required free text: the forms would refuse it empty, so the schema says so too."""
    return Field(min_length=1, max_length=5000)


class ReasonIn(ActionIn):
    reason: str = Text()


class DeclineIn(ActionIn):
    reason: str = Text()
    proper_channel: str = Field(min_length=1, max_length=200)


class NotAcceptAgainIn(ActionIn):
    prior: str = Field(min_length=1, max_length=40, description="已终结的原事项编号")
    reason: str = ""


class ExtendIn(ActionIn):
    days: int = Field(ge=1, le=30)
    reason: str = Text()


class DecisionIn(ActionIn):
    outcome: OutcomeEnum
    text: str = Text()


class TextIn(ActionIn):
    text: str = Text()


class RateIn(ActionIn):
    rating: RatingEnum
    comment: str = ""


class NoteIn(ActionIn):
    note: str = Text()


ACTION_INPUTS: dict[str, type[ActionIn]] = {
    "route": RouteIn,
    "object": ReasonIn,
    "accept": ActionIn,
    "decline": DeclineIn,
    "not_accept_again": NotAcceptAgainIn,
    "extend": ExtendIn,
    "reply": DecisionIn,
    "report": TextIn,
    "rate": RateIn,
    "request_review": ReasonIn,
    "decide_review": DecisionIn,
    "request_rereview": ReasonIn,
    "decide_rereview": DecisionIn,
    "pause": ReasonIn,
    "resume": ActionIn,
    "urge": NoteIn,
}
