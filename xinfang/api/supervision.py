"""督查督办 in the JSON API: the orders a user may see, one order, feedback and closing.

Mounted at /api/supervision by `xinfang.api.rest` (its token, error handlers and OpenAPI schema).
The same selectors, rules and services as the pages: a unit sees only orders addressed to its
subtree, a supervisor those on matters in its scope; no order ever goes to a unit a report accuses.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from xinfang.api import schemas as s
from xinfang.orgs.http import AuthedRequest
from xinfang.supervision import selectors, services
from xinfang.supervision.models import SupervisionOrder

router = Router(tags=["督查督办"])
NOT_FOUND = "没有找到该督办单，或您无权查看"
ERRORS = dict.fromkeys((400, 401, 403, 404, 422), s.ErrorOut)
StateEnum = s._choices("OrderStateEnum", SupervisionOrder.Status)


class CaseRef(Schema):
    id: int
    number: str
    title: str


class OrderOut(Schema):
    """一张督办单。事项只写编号和标题，不含信访人。"""

    id: int
    case: CaseRef
    unit: s.Ref = Field(description="被督办单位")
    issued_by: str
    issued_at: dt.datetime
    requirements: str = Field(description="督办要求")
    deadline: dt.datetime = Field(description="反馈期限（最后一日24时，即次日0时）")
    deadline_last_day: dt.date = Field(description="反馈期限的最后一日")
    deadline_note: str = Field(description="期限说明，如遇休息日顺延")
    state: str = Field(description="open 待反馈、answered 已反馈（待审核）、closed 已办结")
    state_label: str
    overdue: bool = Field(description="待反馈且已过反馈期限")
    escalated_at: dt.datetime | None = Field(
        description="逾期升级时间（逾期未反馈时由后台任务设置一次）"
    )
    redo_count: int = Field(description="退回重办次数")
    feedback: str
    feedback_by: str
    feedback_at: dt.datetime | None
    closed_by: str
    closed_at: dt.datetime | None
    close_note: str = Field(description="办结意见，或最近一次退回重办的意见")
    can_feedback: bool = Field(description="当前用户可以反馈")
    can_close: bool = Field(description="当前用户可以办结或退回重办")


class OrderPage(Schema):
    items: list[OrderOut]
    next: int | None = Field(None, description="下一页游标：作为 after 参数传回")


class OrderQuery(Schema):
    state: StateEnum | None = Field(None, description="状态")
    unit: int | None = Field(None, ge=1, le=s.MAX_ID, description="被督办单位 id（含下级单位）")
    overdue: bool | None = Field(None, description="true：逾期未反馈；false：其余")
    after: int | None = Field(None, ge=1, le=s.MAX_ID, description="游标：上一页返回的 next")
    limit: int = Field(50, ge=1, le=200, description="每页条数（1-200）")


class FeedbackIn(s.In):
    feedback: str = Field(
        min_length=1, max_length=5000, pattern=s.NOT_BLANK, description="反馈情况"
    )


class CloseIn(s.In):
    """办结（accept=true），或退回重办（accept=false，须给出今后的反馈期限 deadline）。"""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"accept": {"const": True}}},
                {"required": ["deadline"], "properties": {"deadline": {"type": "string"}}},
            ]
        }
    )

    accept: bool = Field(description="true：办结；false：退回重办（须给出新的反馈期限）")
    note: str = Field(
        min_length=1, max_length=2000, pattern=s.NOT_BLANK, description="办结或退回意见"
    )
    deadline: dt.date | None = s.date_field("退回重办时的新反馈期限（YYYY-MM-DD，遇休息日顺延）")

    _date_text = field_validator("deadline", mode="before")(s.date_text)

    @field_validator("deadline")
    @classmethod
    def _year(cls, value):
        return s._sane_year(value, "反馈期限")


def _fail(status: int, detail: str, errors: dict | None = None) -> Status:
    return Status(status, {"detail": detail, "errors": errors or {}})


def _errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _out(request: AuthedRequest, order: SupervisionOrder) -> dict:
    return selectors.order_json(order, request.user, timezone.now())


@router.get(
    "/orders", response={200: OrderPage, 401: s.ErrorOut, 422: s.ErrorOut}, summary="督办单列表"
)
def list_orders(request: AuthedRequest, filters: Query[OrderQuery]):
    """与“督办单”页面相同的范围：督查督办人员看到辖区内事项的督办单，单位只看到发给本单位
    （负责人：本单位及下级单位）的督办单。按下达先后倒序，游标分页。"""
    f = filters
    orders, after = selectors.order_filter(
        request.user,
        state=f.state.value if f.state else None,
        unit_id=f.unit,
        overdue=f.overdue,
        after=f.after,
        limit=f.limit,
    )
    now = timezone.now()
    return {"items": [selectors.order_json(o, request.user, now) for o in orders], "next": after}


@router.get(
    "/orders/{order_id}",
    response={200: OrderOut, 401: s.ErrorOut, 404: s.ErrorOut, 422: s.ErrorOut},
    summary="督办单详情",
)
def get_order(request: AuthedRequest, order_id: int):
    order = selectors.order_for_user(request.user, order_id) if order_id <= s.MAX_ID else None
    if order is None:
        return _fail(404, NOT_FOUND)
    return _out(request, order)


@router.post(
    "/orders/{order_id}/feedback", response={200: OrderOut, **ERRORS}, summary="反馈督办单"
)
def feedback_order(request: AuthedRequest, order_id: int, payload: FeedbackIn):
    """被督办单位的经办人或负责人书面反馈（待反馈的督办单）。"""
    order = selectors.order_for_user(request.user, order_id) if order_id <= s.MAX_ID else None
    if order is None:
        return _fail(404, NOT_FOUND)
    if order.status != SupervisionOrder.Status.OPEN:
        return _fail(400, f"该督办单{order.get_status_display()}，不能反馈")
    try:
        services.order_feedback(order=order, by=request.user, text=payload.feedback)
    except PermissionDenied as exc:
        return _fail(403, str(exc))
    except DjangoValidationError as exc:
        return _fail(422, "反馈填写有误", _errors(exc))
    return _out(request, selectors.order_for_user(request.user, order_id))


@router.post(
    "/orders/{order_id}/close", response={200: OrderOut, **ERRORS}, summary="办结或退回重办"
)
def close_order(request: AuthedRequest, order_id: int, payload: CloseIn):
    """督查督办人员审核已反馈的督办单：办结，或退回重办并重新确定反馈期限。"""
    order = selectors.order_for_user(request.user, order_id) if order_id <= s.MAX_ID else None
    if order is None:
        return _fail(404, NOT_FOUND)
    if order.status != SupervisionOrder.Status.ANSWERED:
        return _fail(400, f"该督办单{order.get_status_display()}，不能办结或退回")
    try:
        services.order_close(
            order=order,
            by=request.user,
            accept=payload.accept,
            note=payload.note,
            deadline_date=payload.deadline,
        )
    except PermissionDenied as exc:
        return _fail(403, str(exc))
    except DjangoValidationError as exc:
        return _fail(422, "审核意见填写有误", _errors(exc))
    return _out(request, selectors.order_for_user(request.user, order_id))
