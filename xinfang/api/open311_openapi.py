"""The OpenAPI 3 description of the Open311 GeoReport v2 endpoint, served at
/open311/v2/openapi.json and checked against the server by tests/api/test_open311_schemathesis.py.

It says what the server accepts (`open311.py`, `services._check`) and answers, for the .json
form of each endpoint; every endpoint also answers in XML when the path ends in .xml (the
specification's second format), with the same fields. Errors are the specification's list of
{code, description}, the description in Chinese.
"""

from __future__ import annotations

from typing import Any

from xinfang.api import conf, georeport, services

# Texts never carry a NUL character (no database column takes one); a required text also needs
# a character that is not a space, as the server strips spaces before it checks.
ANY_TEXT = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
# A W3C date and time (ISO 8601, offset optional: Beijing time without one) in the years the
# server takes, 1900 to 2999; empty is the default window.
DATETIME_PATTERN = (
    r"^$|^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
# open, closed or both, comma-separated (spaces around each allowed, empty items skipped).
STATUS_LIST = r"^ *((open|closed) *)?(, *((open|closed) *)?)*$"
ERROR_STATUSES = {
    400: "请求有误（缺少或无效的参数）",
    403: "api_key 无效或已吊销",
    404: "服务代码或诉求不存在",
    429: "提交次数超过限制（每个地址、每个电话或邮箱）；Retry-After 为可重试前的秒数",
    503: "系统尚未配置受理机构或行政区划",
}


def _text(description: str, *, required: bool = False, **extra: Any) -> dict:
    pattern = NOT_BLANK if required else ANY_TEXT
    return {"type": "string", "pattern": pattern, "description": description, **extra}


def _errors(*statuses: int) -> dict:
    answers: dict[str, Any] = {}
    for status in statuses:
        answer: dict[str, Any] = {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
        }
        if status == 429:
            answer["headers"] = {
                "Retry-After": {
                    "description": "可重试前的秒数",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            }
        answers[str(status)] = answer
    return answers


def _ok(description: str, schema: dict) -> dict:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": schema}}}
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def _path_text(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "pattern": r"^[^\x00/]+$"},
    }


def _query(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _schemas() -> dict:
    string = {"type": "string"}
    stamp = {"type": "string", "format": "date-time"}
    return {
        "Error": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": string},
        },
        "Errors": _array("Error"),
        "Endpoint": {
            "type": "object",
            "required": ["specification", "url", "changeset", "type", "formats"],
            "properties": {
                "specification": string,
                "url": string,
                "changeset": stamp,
                "type": {"type": "string", "enum": ["production", "test"]},
                "formats": {"type": "array", "items": string},
            },
        },
        "Discovery": {
            "type": "object",
            "required": ["changeset", "contact", "key_service", "endpoints"],
            "properties": {
                "changeset": stamp,
                "contact": string,
                "key_service": string,
                "endpoints": _array("Endpoint"),
            },
        },
        "Service": {
            "type": "object",
            "required": ["service_code", "service_name", "description", "metadata", "type"],
            "properties": {
                "service_code": string,
                "service_name": string,
                "description": string,
                "metadata": {"type": "boolean"},
                "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                "keywords": string,
                "group": string,
            },
        },
        "ServiceDefinition": {
            "type": "object",
            "required": ["service_code", "attributes"],
            "properties": {
                "service_code": string,
                "attributes": {"type": "array", "items": {"type": "object"}},
            },
        },
        "ServiceRequest": {
            "type": "object",
            "description": "诉求（不含任何人的姓名、电话、邮箱；description 已隐去个人信息）",
            "required": ["service_request_id", "status", "requested_datetime"],
            "properties": {
                "service_request_id": string,
                "status": {"type": "string", "enum": ["open", "closed"]},
                "status_notes": string,
                "service_name": string,
                "service_code": string,
                "description": string,
                "agency_responsible": string,
                "service_notice": string,
                "requested_datetime": stamp,
                "updated_datetime": _nullable(stamp),
                "expected_datetime": _nullable(stamp),
                "address": string,
                "address_id": string,
                "zipcode": string,
                "lat": _nullable({"type": "number"}),
                "long": _nullable({"type": "number"}),
                "media_url": string,
            },
        },
        "Submitted": {
            "type": "object",
            "description": "提交结果：service_request_id（或配置为令牌时的 token）",
            "required": ["service_notice", "account_id"],
            "properties": {
                "service_request_id": string,
                "token": string,
                "service_notice": string,
                "account_id": _nullable(string),
            },
        },
        "TokenAnswer": {
            "type": "object",
            "required": ["service_request_id", "token"],
            "properties": {"service_request_id": string, "token": string},
        },
        "NewRequest": _new_request(),
    }


def _new_request() -> dict:
    """POST requests: what `services._check` and the register accept."""
    return {
        "type": "object",
        "required": ["api_key", "service_code", "description"],
        "properties": {
            "api_key": _text(
                "信访机构签发的 api_key（xinfang open311_key）", required=True, maxLength=200
            ),
            "service_code": _text("服务代码（GET services）", required=True, maxLength=40),
            "description": _text("诉求内容", required=True, maxLength=services.DESCRIPTION_MAX),
            "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "纬度"},
            "long": {"type": "number", "minimum": -180, "maximum": 180, "description": "经度"},
            "address_string": _text("问题地点", maxLength=services.ADDRESS_MAX),
            "email": _text("电子邮箱（无电话时用于答复）", maxLength=services.EMAIL_MAX),
            "first_name": _text("名", maxLength=services.NAME_PART_MAX),
            "last_name": _text("姓", maxLength=services.NAME_PART_MAX),
            "phone": _text("中国大陆手机或固定电话号码", maxLength=services.PHONE_MAX),
            "media_url": {
                "type": "string",
                "maxLength": services.MEDIA_URL_MAX,
                "pattern": r"^( *|https?://[^\s\x00]+)$",
                "description": "图片网址（http 或 https）；不公开",
            },
        },
        "allOf": [
            {
                "description": "位置：lat 与 long，或 address_string",
                "anyOf": [
                    {"required": ["lat", "long"]},
                    {
                        "required": ["address_string"],
                        "properties": {"address_string": {"pattern": NOT_BLANK}},
                    },
                ],
            },
            {
                "description": "姓名（不接受匿名的服务）：last_name 或 first_name",
                "anyOf": [
                    {
                        "required": ["last_name"],
                        "properties": {"last_name": {"pattern": NOT_BLANK}},
                    },
                    {
                        "required": ["first_name"],
                        "properties": {"first_name": {"pattern": NOT_BLANK}},
                    },
                ],
            },
            {
                "description": "联系方式：phone 或 email",
                "anyOf": [
                    {"required": ["phone"], "properties": {"phone": {"pattern": NOT_BLANK}}},
                    {"required": ["email"], "properties": {"email": {"pattern": NOT_BLANK}}},
                ],
            },
        ],
    }


def document() -> dict:
    """The OpenAPI 3.0 document (a few dictionaries; it depends on no data, only settings)."""
    base = "/open311/v2"
    ids = _query(
        "service_request_id",
        f"逗号分隔的诉求编号（最多 {_max_ids()} 个）；给出时忽略其他参数",
        {"type": "string", "pattern": ANY_TEXT},
    )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "信访事项办理系统 Open311 GeoReport v2",
            "version": "v2",
            "description": (
                f"GeoReport v2（{georeport.SPECIFICATION}）。每个接口以 .json 或 .xml 结尾，"
                "字段相同；这里描述 .json。提交诉求（POST requests）须带 api_key，"
                "并与网上信访共用每个地址、每个电话或邮箱的提交次数限制。"
                "公开的诉求不含任何人的姓名、电话、邮箱和门牌地址。"
            ),
        },
        "paths": {
            f"{base}/discovery.json": {
                "get": {
                    "operationId": "discovery",
                    "summary": "接口发现",
                    "responses": _ok("接口信息", _ref("Discovery")),
                }
            },
            f"{base}/services.json": {
                "get": {
                    "operationId": "services",
                    "summary": "服务（事项分类）列表",
                    "responses": _ok("服务列表", _array("Service")),
                }
            },
            f"{base}/services/{{service_code}}.json": {
                "get": {
                    "operationId": "service_definition",
                    "summary": "服务定义",
                    "parameters": [_path_text("service_code", "服务代码")],
                    "responses": {**_ok("服务定义", _ref("ServiceDefinition")), **_errors(404)},
                }
            },
            f"{base}/requests.json": {
                "get": {
                    "operationId": "requests",
                    "summary": "查询诉求",
                    "description": (
                        f"默认最近 {conf.max_days()} 天；start_date 与 end_date 间隔不超过 "
                        f"{conf.max_days()} 天；最多返回 {conf.max_records()} 条。"
                    ),
                    "parameters": [
                        ids,
                        _query(
                            "service_code",
                            "逗号分隔的服务代码",
                            {"type": "string", "pattern": ANY_TEXT},
                        ),
                        _query(
                            "start_date",
                            "起始时间（W3C/ISO 8601，如 2026-11-02T09:00:00+08:00）",
                            {"type": "string", "pattern": DATETIME_PATTERN},
                        ),
                        _query(
                            "end_date",
                            "截止时间，同上",
                            {"type": "string", "pattern": DATETIME_PATTERN},
                        ),
                        _query(
                            "status",
                            "open、closed 或二者（逗号分隔）",
                            {"type": "string", "pattern": STATUS_LIST},
                        ),
                    ],
                    "responses": {**_ok("诉求列表", _array("ServiceRequest")), **_errors(400)},
                },
                "post": {
                    "operationId": "submit",
                    "summary": "提交诉求",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {"schema": _ref("NewRequest")}
                        },
                    },
                    "responses": {
                        **_ok("已登记", _array("Submitted")),
                        **_errors(400, 403, 404, 429, 503),
                    },
                },
            },
            f"{base}/requests/{{service_request_id}}.json": {
                "get": {
                    "operationId": "request",
                    "summary": "单个诉求",
                    "parameters": [_path_text("service_request_id", "诉求编号")],
                    "responses": {**_ok("诉求", _array("ServiceRequest")), **_errors(404)},
                }
            },
            f"{base}/tokens/{{token}}.json": {
                "get": {
                    "operationId": "token",
                    "summary": "由令牌查诉求编号",
                    "parameters": [_path_text("token", "提交时返回的令牌")],
                    "responses": {**_ok("诉求编号", _array("TokenAnswer")), **_errors(404)},
                }
            },
        },
        "components": {"schemas": _schemas()},
    }


def _max_ids() -> int:
    from xinfang.api.open311 import MAX_IDS  # the views import this module

    return MAX_IDS
