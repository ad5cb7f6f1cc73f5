"""The JSON API at /api/ (django-ninja), with its OpenAPI 3 schema at /api/openapi.json.

Staff authenticate with `Authorization: Bearer <token>` (`xinfang api_token USERNAME`) and act
with their own rights: the queue, the case page and the actions call the same selectors,
access rules, forms and services as the staff pages, so the API shows and allows exactly
what the pages do. Errors: 401 no/invalid token, 403 not allowed, 404 not visible (existence is
never revealed), 409 changed meanwhile, 400 a transition the rules refuse, 422 invalid input.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer
from pydantic import field_validator

from xinfang.api import schemas as s
from xinfang.api import selectors
from xinfang.api import services as api_services
from xinfang.cases import access, services
from xinfang.cases.forms import CURSOR_INVALID, QueueFilterForm, RegisterForm
from xinfang.cases.workflow import (
    FORM_ACTIONS,
    TransitionForbidden,
    TransitionNotAllowed,
    TransitionRefused,
)
from xinfang.lib import bounds
from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Category, Unit


class ChineseJSON(JSONRenderer):
    """JSON with Chinese as Chinese, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_services.api_token_user(token.strip())
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="信访事项办理系统 API",
    version="1",
    description=(
        "工作人员接口：台帐查询、事项详情、登记与各项办理操作、单位与事项分类。"
        "认证：`Authorization: Bearer <令牌>`，令牌用 `xinfang api_token 用户名` 签发。"
        "权限规则与工作页面完全相同。"
    ),
    urls_namespace="xinfang-api",
    renderer=ChineseJSON(),
    auth=BearerToken(),
)

ERRORS = dict.fromkeys((400, 401, 403, 404, 409, 422), s.ErrorOut)
NOT_FOUND = "没有找到该事项，或您无权查看"


def _fail(status: int, detail: str, errors: dict | None = None) -> Status:
    return Status(status, {"detail": detail, "errors": errors or {}})


def _error(
    request: HttpRequest, status: int, detail: str, errors: dict | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


# ---------------------------------------------------------------- errors in Chinese

_PYDANTIC_WORDS = {
    "missing": "此项为必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为字符串",
    "string_too_long": "内容过长",
    "string_too_short": "此项不能为空",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "datetime_parsing": "不是有效的时间",
    "datetime_from_date_parsing": "不是有效的时间",
    "datetime_type": "不是有效的时间",
    "date_parsing": "不是有效的日期",
    "date_from_datetime_parsing": "不是有效的日期",
    "date_type": "不是有效的日期",
    "list_type": "应为列表",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "json_invalid": "不是有效的 JSON",
    "extra_forbidden": "不允许的字段",
    "string_pattern_mismatch": "此项不能为空白，也不能含有空字符",
    "value_error": "",
}


# A number outside a declared bound (`lib.bounds`) is answered with that bound's own message.
_OUT_OF_RANGE = frozenset({"greater_than_equal", "less_than_equal"})


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(x) for x in err.get("loc", ()) if x not in {"body", "query", "path", "payload"}]
        while len(loc) > 1 and loc[-1].isdigit():  # an item of a list: named by the list
            loc.pop()
        kind = err.get("type", "")
        bound = bounds.BY_NAME.get(loc[-1]) if loc and kind in _OUT_OF_RANGE else None
        words = bound.message if bound else _PYDANTIC_WORDS.get(kind)
        if loc == ["after"]:  # a cursor no page wrote, whatever the check that refused it
            words = CURSOR_INVALID
        message = words or str(err.get("msg", "")).removeprefix("Value error, ")
        errors.setdefault(".".join(loc) or "__all__", []).append(message)
    return _error(request, 422, "请求参数不正确", errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "未认证：请在 Authorization 头中提供有效的 Bearer 令牌")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, str(exc) or "没有找到")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = "请求体不是有效的 JSON" if exc.status_code == 400 else str(exc)
    return _error(request, exc.status_code, detail)


def _form_errors(form) -> dict[str, list[str]]:
    return {field: list(messages) for field, messages in form.errors.items()}


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


# ---------------------------------------------------------------- queue and detail


class QueueQuery(Schema):
    scope: s.ScopeEnum | None = None
    state: s.StateEnum | None = None
    due: s.DueEnum | None = None
    kind: s.KindEnum | None = None
    channel: s.ChannelEnum | None = None
    category: int | None = Field(None, ge=1, le=s.MAX_ID, description="事项分类 id（含下级分类）")
    place: int | None = Field(None, ge=1, le=s.MAX_ID, description="问题属地 id")
    date_from: dt.date | None = s.date_field("登记日期起")
    date_to: dt.date | None = s.date_field("登记日期止")
    q: str | None = Field(None, max_length=200, description="关键词（标题、内容、编号）")
    after: str | None = Field(
        None,
        max_length=60,
        pattern=s.CURSOR_PATTERN,
        description="游标：上一页返回的 next，原样传回",
    )

    _date_text = field_validator("date_from", "date_to", mode="before")(s.date_text)

    @field_validator("date_from", "date_to")
    @classmethod
    def _year(cls, value):
        return s._sane_year(value, "日期")


@api.get(
    "/cases",
    response={200: s.CasePage, 401: s.ErrorOut, 422: s.ErrorOut},
    tags=["事项"],
    summary="台帐（事项列表）",
)
def list_cases(request: AuthedRequest, filters: Query[QueueQuery]):
    """与台帐页面相同的筛选和游标分页（每页20件）；不传 scope 时按用户所在单位选择默认台帐。"""
    raw = QueryDict(mutable=True)
    for key, value in filters.dict(exclude_none=True).items():
        raw[key] = value.value if hasattr(value, "value") else str(value)
    form = QueueFilterForm(raw)
    if not form.is_valid():
        return _fail(422, "筛选条件不正确", _form_errors(form))
    return selectors.queue(request.user, form.cleaned_data)


@api.get(
    "/cases/{case_id}",
    tags=["事项"],
    summary="事项详情",
    response={200: s.CaseDetail, 401: s.ErrorOut, 404: s.ErrorOut, 422: s.ErrorOut},
)
def get_case(request: AuthedRequest, case_id: int):
    """含全部办理过程（公开和内部）与当前可办理操作。身份证号和电话打码；查看全文请用
    POST /api/cases/{id}/reveal 并说明理由。对被反映单位，信访人为 null。"""
    case = selectors.case_for_user(request.user, case_id)
    if case is None:
        return _fail(404, NOT_FOUND)
    return selectors.case_detail(request.user, case)


@api.post(
    "/cases/{case_id}/reveal",
    tags=["事项"],
    summary="查看完整身份信息",
    response={200: s.CaseDetail, **ERRORS},
)
def reveal_case(request: AuthedRequest, case_id: int, payload: s.RevealIn):
    """说明理由后返回身份证号和电话全文，并记入个人信息查看记录（只有 POST 才记录）。
    无权查看信访人的用户（如被反映单位）得到 404。"""
    case = selectors.case_for_user(request.user, case_id)
    if case is None:
        return _fail(404, NOT_FOUND)
    try:
        revealed = services.personal_data_reveal(
            case=case, by=request.user, reason=payload.reason, purpose="api"
        )
    except DjangoValidationError as exc:
        return _fail(422, "请说明查看理由", _django_errors(exc))
    if not revealed:
        return _fail(404, NOT_FOUND)
    return selectors.case_detail(request.user, case, reveal=True)


@api.post(
    "/cases/{case_id}/accused",
    tags=["事项"],
    summary="记录/更正被反映单位",
    response={200: s.CaseDetail, **ERRORS},
)
def record_accused(request: AuthedRequest, case_id: int, payload: s.AccusedIn):
    """检举控告、举报、投诉类事项：登记机构记录被反映单位（可多个），或注明不涉及具体单位。
    被反映单位待确定的事项记录之前不能转送；更正已记录的单位须说明理由。"""
    user = request.user
    case = selectors.case_for_user(user, case_id)
    if case is None:
        return _fail(404, NOT_FOUND)
    if not access.may_record_accused(user, case):
        return _fail(403, "只有登记机构可以记录或更正检举控告类事项的被反映单位")
    if not case.accused_pending and not payload.reason.strip():
        # a correction of units already recorded: the state asks for a reason (as the service)
        return _fail(400, "更正被反映单位须说明理由", {"reason": ["更正被反映单位须说明理由"]})
    units = list(Unit.objects.filter(pk__in=payload.units))
    if len(units) != len(set(payload.units)):
        return _fail(422, "被反映单位不存在", {"units": ["被反映单位不存在"]})
    order = {pk: i for i, pk in enumerate(payload.units)}
    units.sort(key=lambda u: order[u.pk])
    try:
        services.case_record_accused(
            case=case,
            by=user,
            units=units,
            person=payload.person,
            no_unit=payload.no_unit,
            reason=payload.reason,
            expected_version=payload.expected_version,
        )
    except services.ConcurrentChange as exc:
        return _fail(409, str(exc))
    except TransitionNotAllowed as exc:
        return _fail(403, str(exc))
    except DjangoValidationError as exc:
        return _fail(422, "被反映单位填写有误", _django_errors(exc))
    return selectors.case_detail(user, selectors.case_for_user(user, case_id))


# ---------------------------------------------------------------- registration


def _register_form_data(payload: s.RegisterIn) -> dict[str, Any]:
    data = payload.dict()
    data = {key: value for key, value in data.items() if value is not None}
    for key in ("channel", "kind", "urgency"):
        if key in data:
            data[key] = getattr(data[key], "value", data[key])
    if payload.registered_at is not None:
        data["registered_at"] = payload.registered_at.isoformat()
    data["representatives"] = ""  # given as a list here; the form's text parsing is bypassed
    data["anonymous"] = "on" if payload.anonymous else ""
    data["no_accused_unit"] = "on" if payload.no_accused_unit else ""
    return data


@api.post(
    "/cases",
    response={201: s.RegisterOut, 200: s.RegisterOut, **ERRORS},
    tags=["事项"],
    summary="登记事项",
)
def register_case(request: AuthedRequest, payload: s.RegisterIn):
    """只有信访机构的登记员可以登记；校验与登记页面相同，错误按字段返回中文说明（422）。
    填写 repeat_of 时按重复信访关联原事项（200，created=false）。"""
    user = request.user
    if not access.may_register(user):
        return _fail(403, "只有信访机构的登记员可以登记事项")
    form = RegisterForm(_register_form_data(payload), user=user)
    if not form.is_valid():
        return _fail(422, "登记信息有误", _form_errors(form))
    reg = form.registration(
        office=user.unit, representatives=[r.dict() for r in payload.representatives]
    )
    try:
        result = services.case_register(reg, by=user, at=form.cleaned_data["registered_at"])
    except DjangoValidationError as exc:
        return _fail(422, "登记信息有误", _django_errors(exc))
    case = selectors.case_for_user(user, result.case.pk)
    if (
        case is None
    ):  # a repeat of a matter outside this office's scope: say what happened, not more
        return _fail(403, f"已作为重复信访关联到原事项（{result.case.number}），但您无权查看该事项")
    body = {
        "created": result.created,
        "notice": result.notice,
        "case": selectors.case_detail(user, case),
    }
    return Status(201 if result.created else 200, body)


# ---------------------------------------------------------------- the transitions


def _act(request: AuthedRequest, case_id: int, action: str, payload: s.ActionIn):
    user = request.user
    case = selectors.case_for_user(user, case_id)
    if case is None:
        return _fail(404, NOT_FOUND)
    spec = FORM_ACTIONS[action]
    if not access.may(user, case, action):
        try:  # the state and once-only rules first: said plainly, as the writer would
            services.check_action_state(case, action)
        except TransitionNotAllowed as exc:
            return _fail(400, str(exc))
        return _fail(403, f"您无权对该事项进行“{spec.label}”操作")
    data = payload.dict(exclude={"expected_version"})
    data = {k: getattr(v, "value", v) for k, v in data.items() if v is not None}
    form = spec.form(data, user=user)
    if not form.is_valid():
        return _fail(422, f"{spec.label}：填写有误", _form_errors(form))
    try:
        services.case_transition(
            case=case,
            name=action,
            by=user,
            params=form.cleaned_data,
            expected_version=payload.expected_version,
        )
    except services.ConcurrentChange as exc:
        return _fail(409, str(exc))
    except TransitionForbidden as exc:
        return _fail(403, str(exc))
    except TransitionRefused as exc:
        return _fail(400, str(exc))
    except DjangoValidationError as exc:
        return _fail(422, f"{spec.label}：填写有误", _django_errors(exc))
    case = selectors.case_for_user(user, case_id)
    if case is None:  # e.g. an objection hands the matter back: done, and no longer this user's
        return Status(204, None)
    return Status(200, selectors.case_detail(user, case))


def _action_view(action: str, body: type[s.ActionIn]):
    def view(request: AuthedRequest, case_id: int, payload: s.ActionIn):
        return _act(request, case_id, action, payload)

    view.__annotations__ = {**view.__annotations__, "payload": body}
    view.__name__ = f"case_{action}"
    view.__doc__ = (
        f"{FORM_ACTIONS[action].label}（与事项页面的同名操作相同）。返回办理后的事项；"
        "办理后本人已无权查看时（如异议退回）返回 204。"
    )
    return view


# One operation per transition a person takes; its body derives from the transition's form.
for _name, _spec in FORM_ACTIONS.items():
    api.post(
        f"/cases/{{case_id}}/{_name}",
        response={200: s.CaseDetail, 204: None, **ERRORS},
        tags=["办理"],
        summary=_spec.label,
        operation_id=f"case_{_name}",
    )(_action_view(_name, s.action_input(_spec.form)))


# ---------------------------------------------------------------- reference data


@api.get(
    "/units", response={200: list[s.UnitOut], 401: s.ErrorOut}, tags=["基础数据"], summary="单位"
)
def list_units(request: HttpRequest):
    return [
        {
            "id": u.pk,
            "code": u.code,
            "name": u.name,
            "parent_id": u.parent_id,
            "level": u.level,
            "level_label": u.get_level_display(),
            "kind": u.kind,
            "kind_label": u.get_kind_display(),
            "place_id": u.place_id,
        }
        for u in Unit.objects.order_by("path")
    ]


@api.get(
    "/categories",
    response={200: list[s.CategoryOut], 401: s.ErrorOut},
    tags=["基础数据"],
    summary="事项分类",
)
def list_categories(request: HttpRequest):
    return [
        {"id": c.pk, "code": c.code, "name": c.name, "full_name": str(c), "parent_id": c.parent_id}
        for c in Category.objects.select_related("parent").order_by("code")
    ]


# ---------------------------------------------------------------- rates (xinfang.reports)


class RatesQuery(Schema):
    date_from: dt.date | None = Field(
        None,
        description="统计期起（含），如 2026-01-01；默认本季度。2000—2100年，统计期最长三年",
        json_schema_extra={"pattern": s.RATES_DATE_PATTERN},
    )
    date_to: dt.date | None = Field(
        None,
        description="统计期止（含），不早于起始日期；默认本季度末",
        json_schema_extra={"pattern": s.RATES_DATE_PATTERN},
    )
    by: s.GroupingEnum | None = Field(
        None, description="分组：unit、place、category、channel 或 all"
    )

    _date_text = field_validator("date_from", "date_to", mode="before")(s.date_text)


@api.get(
    "/rates",
    response={200: dict[str, Any], 401: s.ErrorOut, 422: s.ErrorOut},
    tags=["统计"],
    summary="统计与考核指标（分子、分母、百分比）",
)
def list_rates(request: AuthedRequest, filters: Query[RatesQuery]):
    """与 /reports/rates/ 页面相同的指标表；各指标的定义随结果返回。"""
    from xinfang.reports.forms import RatesForm
    from xinfang.reports.selectors import rates_table, table_json

    f = filters
    form = RatesForm(
        {
            "from": f.date_from.isoformat() if f.date_from else "",
            "to": f.date_to.isoformat() if f.date_to else "",
            "by": f.by.value if f.by else "",
        }
    )
    if not form.is_valid():
        return _fail(422, "统计条件不正确", _form_errors(form))
    return table_json(
        rates_table(request.user, form.cleaned_data["period"], form.cleaned_data["by"])
    )


# ---------------------------------------------------------------- 督查督办 (xinfang.supervision)

from xinfang.api.supervision import router as _supervision_router  # noqa: E402

api.add_router("/supervision", _supervision_router)


# ---------------------------------------------------------------- assessment (xinfang.assessment)

from xinfang.api.assessment import register as _register_assessment  # noqa: E402

_register_assessment(api)
