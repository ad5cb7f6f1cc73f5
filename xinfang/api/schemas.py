"""Request and response shapes of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum, StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from django import forms
from ninja import Field, Schema
from pydantic import ConfigDict, create_model, field_validator

from xinfang.cases.models import (
    ANONYMOUS_KINDS,
    CONFIDENTIAL_KINDS,
    HOTLINE_KINDS,
    Channel,
    Kind,
    Outcome,
    Rating,
    RouteMode,
    State,
    Urgency,
)
from xinfang.lib import bounds

MAX_ID = 2**63 - 1
Id = int
# An id in a list: the bounds of a column that holds ids, as the schema says them.
ListedId = Annotated[int, Field(ge=1, le=MAX_ID)]


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


class GroupingEnum(StrEnum):
    """统计分组（`reports.selectors.GROUPINGS`; a test keeps the two the same)."""

    unit = "unit"
    place = "place"
    category = "category"
    channel = "channel"
    all = "all"


class DueEnum(StrEnum):
    due_soon = "due_soon"
    overdue = "overdue"


# A date the calendar can count from: far-off years overflow Python's datetime arithmetic.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# A registration time from 2000 on (`lib.bounds.REGISTERED_SINCE`; before 1901 Beijing also
# kept local mean time, +08:05:43, an offset no RFC 3339 date-time can carry).
EARLIEST_TIME_YEAR = 2000


DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
# The same, as the schema says it: YYYY-MM-DD within the years above (the server checks both).
DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# The statistics take 2000 to 2100 (`reports.forms.RatesForm`).
RATES_DATE_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# The queue's keyset cursor, `<µs since 1970>_<id>` as `next` gave it (checked further there).
CURSOR_PATTERN = r"^[0-9]{1,17}_[0-9]{1,19}$"
# The start of a date and time (ISO 8601) from EARLIEST_TIME_YEAR on.
DATETIME_PATTERN = r"^2[0-9]{3}-"
# Texts: never a NUL character (no database column takes one); a required text also needs a
# character that is not a space, as the server strips spaces before it checks.
ANY_TEXT = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
BLANK = r"^\s*$"


def says(**schema: Any) -> dict[str, Any]:
    """Keywords the schema states while the form behind the field checks them (with its own
    Chinese messages): `Field(..., **says(pattern=NOT_BLANK))`."""
    return {"json_schema_extra": schema}


def date_field(description: str) -> Any:
    """An optional date, YYYY-MM-DD: `format: date` and the pattern of the years it takes."""
    return Field(None, description=description, json_schema_extra={"pattern": DATE_PATTERN})


def date_text(value):
    """Dates come as YYYY-MM-DD only (pydantic would read 0 as 1970-01-01)."""
    if value is None or isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not DATE_FORMAT.fullmatch(value):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    return value


def _sane_year(value: dt.date | dt.datetime | None, label: str, earliest: int = EARLIEST_YEAR):
    if value is not None and not earliest <= value.year <= LATEST_YEAR:
        raise ValueError(f"{label}年份应在{earliest}至{LATEST_YEAR}之间")
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


class In(Schema):
    """A request body: a property the schema does not name is refused (422, “不允许的字段”),
    so a misspelt optional field (`expected_versoin`) is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def _kinds(kinds) -> dict:
    return {"properties": {"kind": {"enum": sorted(str(k) for k in kinds)}}}


def _given(name: str, schema: dict) -> dict:
    return {"required": [name], "properties": {name: schema}}


def _both(*parts: dict) -> dict:
    """One schema that asks for all of `parts` (their properties and required merged)."""
    merged: dict = {"properties": {}, "required": []}
    for part in parts:
        for key, value in part.items():
            if key in merged and isinstance(value, dict | list):
                merged[key] = (
                    {**merged[key], **value}
                    if isinstance(value, dict)
                    else [
                        *merged[key],
                        *value,
                    ]
                )
            else:
                merged[key] = value
    return {key: value for key, value in merged.items() if value}


# The rules between the fields of a registration (`cases.registration`), said in the schema.
# 身份证号 and 电话 are checked further than any pattern can say (check digit, number plan):
# their descriptions say so.
REGISTER_RULES = [
    {  # a named petitioner with a way to answer, or an anonymous suggestion or report
        "anyOf": [
            _both(_given("anonymous", {"const": True}), _kinds(ANONYMOUS_KINDS)),
            {
                "properties": {
                    "anonymous": {"const": False},
                    "petitioner_name": {"pattern": NOT_BLANK},
                },
                "required": ["petitioner_name"],
                "anyOf": [
                    _given("petitioner_phone", {"pattern": NOT_BLANK}),
                    _given("petitioner_address", {"pattern": NOT_BLANK}),
                ],
            },
        ]
    },
    {"anyOf": [{"properties": {"urgency": {"const": ""}}}, _kinds(HOTLINE_KINDS)]},
    {  # only a report names whom it accuses
        "anyOf": [
            _kinds(CONFIDENTIAL_KINDS),
            {
                "properties": {
                    "accused_unit": {"type": "null"},
                    "accused_person": {"pattern": BLANK},
                }
            },
        ]
    },
    {  # a report names the units it accuses, or says it accuses none (a repeat need not)
        "anyOf": [
            _kinds(set(Kind.values) - CONFIDENTIAL_KINDS),
            _given("repeat_of", {"pattern": NOT_BLANK}),
            {
                "properties": {"no_accused_unit": {"const": False}},
                "anyOf": [
                    _given("accused_unit", {"type": "integer"}),
                    _given("other_accused_units", {"minItems": 1}),
                ],
            },
            _both(
                _given("no_accused_unit", {"const": True}),
                {"properties": {"accused_unit": {"type": "null"}}},
                {"properties": {"other_accused_units": {"maxItems": 0}}},
            ),
        ]
    },
]

ID_NUMBER = "身份证号：18位居民身份证号，须通过校验位检查"
PHONE = "联系电话：有效的中国大陆手机或固定电话号码"


class RepresentativeIn(In):
    name: str = Field(max_length=40, pattern=ANY_TEXT, **says(minLength=1, pattern=NOT_BLANK))
    id_number: str = Field("", max_length=30, pattern=ANY_TEXT, description=ID_NUMBER)
    phone: str = Field("", max_length=30, pattern=ANY_TEXT, description=PHONE)


class RegisterIn(In):
    """登记信访事项。字段与登记页面相同，校验规则和中文错误信息也相同。"""

    model_config = ConfigDict(json_schema_extra={"allOf": REGISTER_RULES})

    channel: ChannelEnum
    kind: KindEnum
    title: str = Field(min_length=1, max_length=120, **says(pattern=NOT_BLANK))
    content: str = Field(min_length=1, max_length=20000, **says(pattern=NOT_BLANK))
    place: Id = Field(ge=1, le=MAX_ID, description="问题属地（行政区划 id）")
    category: Id | None = Field(None, ge=1, le=MAX_ID, description="事项分类 id")
    urgency: UrgencyEnum = UrgencyEnum.none
    registered_at: dt.datetime | None = Field(
        None,
        description="登记时间，留空为当前时间",
        json_schema_extra={"pattern": DATETIME_PATTERN},
    )
    anonymous: bool = False
    petitioner_name: str = Field(
        "", max_length=40, description="信访人姓名（不匿名时必填）", **says(pattern=ANY_TEXT)
    )
    petitioner_id_number: str = Field(
        "", max_length=30, description=ID_NUMBER, **says(pattern=ANY_TEXT)
    )
    petitioner_phone: str = Field(
        "",
        max_length=30,
        description=f"{PHONE}；不匿名时电话、住址至少填一项",
        **says(pattern=ANY_TEXT),
    )
    petitioner_address: str = Field("", max_length=200, **says(pattern=ANY_TEXT))
    group_size: int = Field(
        1, ge=bounds.GROUP_SIZE.low, le=bounds.GROUP_SIZE.high, description="来访人数"
    )
    representatives: list[RepresentativeIn] = Field(
        default_factory=list, description="集体访代表（最多5人）", **says(maxItems=5)
    )
    accused_unit: Id | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="被反映单位 id。检举控告、举报、投诉类事项须填写被反映单位，或 no_accused_unit=true",
    )
    other_accused_units: list[ListedId] = Field(
        default_factory=list, max_length=20, description="其他被反映单位 id"
    )
    no_accused_unit: bool = Field(False, description="检举控告、举报、投诉类事项不涉及具体单位")
    accused_person: str = Field(
        "",
        max_length=60,
        description="被反映人（仅检举控告、举报、投诉类）",
        **says(pattern=ANY_TEXT),
    )
    repeat_of: str = Field(
        "",
        max_length=40,
        description="重复信访：原事项编号（须是可查看的事项）",
        **says(pattern=ANY_TEXT),
    )

    @field_validator("registered_at")
    @classmethod
    def _year(cls, value):
        return _sane_year(value, "登记时间", EARLIEST_TIME_YEAR)


class RevealIn(In):
    reason: str = Field(
        min_length=1, max_length=200, pattern=NOT_BLANK, description="查看完整身份信息的理由"
    )


class AccusedIn(In):
    """被反映单位（units 至少一个），或 no_unit=true，二者必居其一。"""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                _both(
                    _given("units", {"minItems": 1}), {"properties": {"no_unit": {"const": False}}}
                ),
                _both(
                    _given("no_unit", {"const": True}), {"properties": {"units": {"maxItems": 0}}}
                ),
            ]
        }
    )

    units: list[ListedId] = Field(
        default_factory=list, max_length=20, description="被反映单位 id（可多个）"
    )
    no_unit: bool = Field(False, description="不涉及具体单位")
    person: str = Field("", max_length=60, pattern=ANY_TEXT, description="被反映人")
    reason: str = Field(
        "",
        max_length=200,
        pattern=ANY_TEXT,
        description="更正已记录的单位时的理由（已记录过被反映单位时必填，否则 400）",
    )
    expected_version: int | None = Field(None, ge=0, le=MAX_ID)


class ActionIn(In):
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
        return list[ListedId], Field(default_factory=list, description=f"{desc} id")
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
        if required:
            return str, Field(min_length=1, **size, **says(pattern=NOT_BLANK))
        return str, Field("", **size, **says(pattern=ANY_TEXT))
    raise TypeError(f"no API body field for {type(form_field).__name__}")


@cache
def action_input(form_class: type[forms.Form]) -> type[ActionIn]:
    """The request body of the transitions that take `form_class` (RouteForm → RouteIn)."""
    fields = {name: _body_field(f) for name, f in form_class.base_fields.items()}
    if not fields:
        return ActionIn
    name = form_class.__name__.removesuffix("Form") + "In"
    return create_model(name, __base__=ActionIn, __doc__=form_class.__doc__, **fields)
