"""Open311 GeoReport v2 views at /open311/v2/: thin, each answers in .json or .xml.

GET never writes. POST requests needs an api_key (`xinfang open311_key NAME`). The OpenAPI
description of the endpoints is at /open311/v2/openapi.json.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from xinfang.api import conf, georeport, open311_openapi, services
from xinfang.api.models import Open311Request
from xinfang.cases.clocks import LOCAL
from xinfang.orgs.http import client_address

MAX_IDS = 200


def _method(request: HttpRequest, fmt: str, allowed: set[str]) -> HttpResponse | None:
    if request.method in allowed:
        return None
    response = georeport.errors(fmt, 405, f"不支持 {request.method} 方法")
    response["Allow"] = ", ".join(sorted(allowed))
    return response


@csrf_exempt  # no cookies or sessions: an unsupported method is a 405, not a CSRF 403
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3 description of these endpoints (`open311_openapi`), Chinese left readable."""
    if refused := _method(request, "json", {"GET", "HEAD"}):
        return refused
    return JsonResponse(open311_openapi.document(), json_dumps_params={"ensure_ascii": False})


def _nul(*values: str) -> bool:
    """A NUL character, which no database column takes (PostgreSQL refuses the query)."""
    return any("\x00" in value for value in values)


@csrf_exempt
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD"}):
        return refused
    base = request.build_absolute_uri("/open311/v2/").rstrip("/")
    return georeport.render(fmt, georeport.discovery(base), root="discovery", item="discovery")


@csrf_exempt
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD"}):
        return refused
    data = [georeport.service(c) for c in georeport.service_categories()]
    return georeport.render(fmt, data, root="services", item="service")


@csrf_exempt
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD"}):
        return refused
    category = None if _nul(code) else georeport.service_categories().filter(code=code).first()
    if category is None:
        return georeport.errors(fmt, 404, f"服务代码 {code} 不存在")
    return georeport.render(
        fmt, georeport.service_definition(category), root="service_definition", item="attribute"
    )


@csrf_exempt
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD", "POST"}):
        return refused
    if request.method == "POST":
        return _create(request, fmt)
    try:
        rows = _search(request)
    except services.Open311Error as exc:
        return georeport.errors(fmt, exc.status, exc.description)
    return georeport.render(
        fmt, georeport.request_rows(rows), root="service_requests", item="request"
    )


def _field(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or request.GET.get(name) or "").strip()


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    key = services.open311_key_check(_field(request, "api_key"))
    if key is None:
        return georeport.errors(fmt, 403, "api_key 无效或已吊销，不能提交诉求")
    names = [
        "service_code",
        "description",
        "lat",
        "long",
        "address_string",
        "email",
        "first_name",
        "last_name",
        "phone",
        "media_url",
    ]
    sub = services.Open311Submission(**{name: _field(request, name) for name in names})
    try:
        made = services.open311_submit(sub=sub, key=key, client=client_address(request))
    except services.Open311Error as exc:
        response = georeport.errors(fmt, exc.status, exc.description)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    case = made.case
    notice = f"已登记，事项编号 {case.number}。{georeport.service_notice(case)}".rstrip("。")
    answer: dict = {"service_notice": notice, "account_id": None}
    if conf.respond_with_token():
        answer = {"token": made.token, **answer}
    else:
        answer = {"service_request_id": case.number, **answer}
    return georeport.render(fmt, [answer], root="service_requests", item="request")


def _parse_time(raw: str, name: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "+") if "T" in raw else raw)
    except ValueError as exc:
        raise services.Open311Error(
            400, f"{name} 不是有效的 ISO 8601 时间（如 2026-11-02T09:00:00+08:00）"
        ) from exc
    if not 1900 <= moment.year <= 2999:
        raise services.Open311Error(400, f"{name} 的年份超出范围")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL)
    return moment


def _window(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    """start_date..end_date; by default the last 90 days; never wider than 90 days."""
    days = dt.timedelta(days=conf.max_days())
    start = _parse_time(request.GET.get("start_date", ""), "start_date")
    end = _parse_time(request.GET.get("end_date", ""), "end_date")
    if start is None and end is None:
        end = timezone.now()
    if end is None:
        end = start + days
    if start is None:
        start = end - days
    if start > end:
        raise services.Open311Error(400, "start_date 不能晚于 end_date")
    if end - start > days:
        raise services.Open311Error(
            400, f"start_date 与 end_date 的间隔不能超过{conf.max_days()}天"
        )
    return start, end


def _search(request: HttpRequest) -> list[Open311Request]:
    if _nul(*request.GET.values()):
        raise services.Open311Error(400, "查询参数含有无效字符")
    qs = georeport.requests_queryset()
    ids = [x.strip() for x in request.GET.get("service_request_id", "").split(",") if x.strip()]
    if ids:  # the specification: a list of ids overrides every other parameter
        if len(ids) > MAX_IDS:
            raise services.Open311Error(400, f"service_request_id 一次最多{MAX_IDS}个")
        return list(qs.filter(case__number__in=ids).order_by("-requested_at", "-id"))
    codes = [x.strip() for x in request.GET.get("service_code", "").split(",") if x.strip()]
    if codes:
        qs = qs.filter(service_code__in=codes)
    statuses = {x.strip(" ") for x in request.GET.get("status", "").split(",") if x.strip(" ")}
    if statuses - {"open", "closed"}:
        raise services.Open311Error(400, "status 只能是 open 或 closed")
    if statuses == {"open"}:
        qs = qs.exclude(case__state__in=georeport.CLOSED)
    elif statuses == {"closed"}:
        qs = qs.filter(case__state__in=georeport.CLOSED)
    start, end = _window(request)
    qs = qs.filter(requested_at__gte=start, requested_at__lte=end)
    return list(qs.order_by("-requested_at", "-id")[: conf.max_records()])


@csrf_exempt
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD"}):
        return refused
    rows = (
        []
        if _nul(request_id)
        else list(georeport.requests_queryset().filter(case__number=request_id))
    )
    if not rows:
        return georeport.errors(fmt, 404, f"诉求 {request_id} 不存在")
    return georeport.render(
        fmt, georeport.request_rows(rows), root="service_requests", item="request"
    )


@csrf_exempt
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    if refused := _method(request, fmt, {"GET", "HEAD"}):
        return refused
    made = (
        None
        if _nul(token)
        else Open311Request.objects.select_related("case").filter(token=token).first()
    )
    if made is None:
        return georeport.errors(fmt, 404, f"令牌 {token} 不存在")
    data = [{"service_request_id": made.case.number, "token": made.token}]
    return georeport.render(fmt, data, root="service_requests", item="request")


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    fmt = "xml" if rest.endswith(".xml") else "json"
    return georeport.errors(fmt, 404, "没有这个接口；请以 .json 或 .xml 结尾，参见 discovery")
