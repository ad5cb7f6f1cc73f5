"""Request and response shapes of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum, StrEnum
from functools import cache
from typing import Any, Literal

from django import forms
from ninja import Field, Schema
from pydantic import create_model, field_validator

from xinfang.cases.models import Channel, Kind, Outcome, Rating, RouteMode, State, Urgency
from xinfang.lib import bounds

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
    group_size: int = Field(
        1, ge=bounds.GROUP_SIZE.low, le=bounds.GROUP_SIZE.high, description="来访人数"
    )
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


# ---------------------------------------------------------------- transition bodies, derived
# Each transition's input is declared once, as its form (`workflow.ACTIONS[name].form`); its
# body here is made from that form's fields, so the schema can never drift from what the pages
# accept. A form field of a kind not mapped below fails at import, not in a client.

# A choice field whose values are one of these enums is shown as that named enum.
ENUMS_BY_VALUES = {
    frozenset(member.value for member in e): e for e in (OutcomeEnum, RatingEnum, RouteModeEnum)
}


def _described(form_field: forms.Field) -> str:
    help_text = f"（{form_field.help_text}）" if form_field.help_text else ""
    return f"{form_field.label}{help_text}"


def _body_field(form_field: forms.Field) -> tuple[Any, Any]:
    """The (annotation, Field) of one body field, from its form field."""
    desc, required = _described(form_field), form_field.required
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        return list[Id], Field(default_factory=list, description=f"{desc} id")
    if isinstance(form_field, forms.ModelChoiceField):
        bounds = {"ge": 1, "le": MAX_ID, "description": f"{desc} id"}
        return (Id, Field(**bounds)) if required else (Id | None, Field(None, **bounds))
    if isinstance(form_field, forms.ChoiceField):
        values = frozenset(str(v) for v, _label in form_field.choices if v != "")
        enum = ENUMS_BY_VALUES.get(values)
        kind = enum or Literal[tuple(sorted(values))]
        if form_field.initial is None:
            return kind, Field(description=desc)
        initial = str(form_field.initial)
        return kind, Field(enum(initial) if enum else initial, description=desc)
    if isinstance(form_field, forms.IntegerField):
        bounds = {"ge": form_field.min_value, "le": form_field.max_value, "description": desc}
        return (int, Field(**bounds)) if required else (int | None, Field(None, **bounds))
    if isinstance(form_field, forms.CharField):
        size = {"max_length": form_field.max_length, "description": desc}
        return (str, Field(min_length=1, **size)) if required else (str, Field("", **size))
    raise TypeError(f"no API body field for {type(form_field).__name__}")


@cache
def action_input(form_class: type[forms.Form]) -> type[ActionIn]:
    """The request body of the transitions that take `form_class` (RouteForm → RouteIn)."""
    fields = {name: _body_field(f) for name, f in form_class.base_fields.items()}
    if not fields:
        return ActionIn
    name = form_class.__name__.removesuffix("Form") + "In"
    return create_model(name, __base__=ActionIn, __doc__=form_class.__doc__, **fields)
