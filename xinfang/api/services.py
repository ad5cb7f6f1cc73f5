"""Writes of the api app: credentials, and Open311 requests becoming matters in the register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from xinfang.api import conf
from xinfang.api.models import ApiToken, Open311Key, Open311Request, digest, new_secret
from xinfang.cases import services as case_services
from xinfang.cases.models import Channel
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.portal import limits

TOUCH_EVERY = dt.timedelta(minutes=1)


def api_token_issue(*, user: User, name: str = "") -> str:
    """签发接口令牌: returns the plain token; only its SHA-256 is stored."""
    _row, raw = ApiToken.issue(user=user, name=name)
    return raw


def api_token_user(raw: str) -> User | None:
    """The active staff member a bearer token belongs to, or None. Notes when it was last used."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(token_hash=digest(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def open311_key_issue(*, name: str) -> str:
    _row, raw = Open311Key.issue(name=name)
    return raw


def open311_key_check(raw: str) -> Open311Key | None:
    if not raw or len(raw) > 200:
        return None
    key = Open311Key.objects.filter(key_hash=digest(raw), revoked=False).first()
    if key is not None:
        Open311Key.objects.filter(pk=key.pk).update(last_used=timezone.now())
    return key


# ---------------------------------------------------------------- Open311 → the register


class Open311Error(Exception):
    """A request Open311 answers with an error list: HTTP status, then Chinese description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after  # seconds, with a 429


@dataclass
class Open311Submission:
    service_code: str
    description: str
    lat: str = ""
    long: str = ""
    address_string: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""


def registering_office() -> Unit:
    """The office that registers Open311 requests: XINFANG_OPEN311_OFFICE, else the first one."""
    code = conf.office_code()
    offices = Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE).select_related("place")
    office = (
        Unit.objects.select_related("place").filter(code=code).first()
        if code
        else offices.order_by("id").first()
    )
    if office is None:
        raise Open311Error(503, "未配置受理 Open311 诉求的信访机构（XINFANG_OPEN311_OFFICE）")
    return office


def place_for(address: str, office: Unit) -> Place:
    """The most specific place named in the address (longest name), else the office's place."""
    address = address or ""
    best = None
    if address:
        for place in Place.objects.only("id", "name", "code"):
            if (
                place.name
                and place.name in address
                and (best is None or len(place.name) > len(best.name))
            ):
                best = place
    if best is not None:
        return best
    fallback = office.place or Place.objects.order_by("code").first()
    if fallback is None:
        raise Open311Error(503, "系统尚未配置行政区划")
    return fallback


def _coordinate(value: str, name: str, limit: int) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except ArithmeticError:
        number = None
    if number is None or not number.is_finite() or abs(number) > limit:
        raise Open311Error(400, f"{name} 不是有效的坐标（应为 -{limit} 至 {limit} 之间的数字）")
    return number.quantize(Decimal("0.000001"))


# Lines added under the citizen's text so that staff see where; Open311 readers get them as fields.
EXTRA_LINES = ("问题地点：", "位置坐标：", "图片：")


def _content(sub: Open311Submission, lat, long) -> str:
    lines = [sub.description.strip()]
    if sub.address_string.strip():
        lines.append(f"{EXTRA_LINES[0]}{sub.address_string.strip()}")
    if lat is not None and long is not None:
        lines.append(f"{EXTRA_LINES[1]}{lat}, {long}")
    if sub.media_url.strip():
        lines.append(f"{EXTRA_LINES[2]}{sub.media_url.strip()}")
    return "\n".join(lines)


def original_description(content: str) -> str:
    """The citizen's own text: the matter's content without the lines `_content` added."""
    lines = content.split("\n")
    while len(lines) > 1 and lines[-1].startswith(EXTRA_LINES):
        lines.pop()
    return "\n".join(lines)


def _petitioner(sub: Open311Submission) -> case_services.Petitioner:
    """姓在前名在后; an e-mail stands in as the contact address when no phone is given."""
    name = f"{sub.last_name.strip()}{sub.first_name.strip()}"
    email = sub.email.strip()
    address = f"电子邮箱：{email}" if email and not sub.phone.strip() else ""
    return case_services.Petitioner(
        name=name, phone=sub.phone.strip(), address=address, anonymous=not name
    )


# The register's messages speak of form fields; say them in Open311's terms.
_OPEN311_WORDS = {
    "petitioner_phone": {
        "请至少填写联系电话或住址之一，以便答复": "请提供联系电话（phone）或电子邮箱（email），以便答复"
    },
    "anonymous": {
        "只有建议意见、检举控告类事项可以匿名": "该服务不接受匿名提交，请填写姓名（first_name、last_name）和联系电话或电子邮箱"
    },
}


def _describe(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return "；".join(exc.messages)
    parts = []
    for field_name, messages in exc.message_dict.items():
        words = _OPEN311_WORDS.get(field_name, {})
        parts.extend(words.get(m, m) for m in messages)
    return "；".join(parts)


# The longest value of each field (also in the OpenAPI description, `open311_openapi`): the
# name's two parts fit the register's 40 characters, an e-mail its 200-character address line.
DESCRIPTION_MAX, ADDRESS_MAX, MEDIA_URL_MAX = 4000, 250, 500
NAME_PART_MAX, EMAIL_MAX, PHONE_MAX = 20, 100, 30


def _check(sub: Open311Submission) -> None:
    for name, value in vars(sub).items():
        if "\x00" in value:  # no database column takes a NUL character
            raise Open311Error(400, f"{name} 含有无效字符")
    if not sub.service_code.strip():
        raise Open311Error(400, "缺少 service_code（服务代码）")
    if not sub.description.strip():
        raise Open311Error(400, "缺少 description（诉求内容）")
    if len(sub.description) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description 不能超过{DESCRIPTION_MAX}字")
    has_point = bool(sub.lat.strip() and sub.long.strip())
    if not has_point and not sub.address_string.strip():
        raise Open311Error(400, "须提供位置：lat 与 long，或 address_string")
    if len(sub.address_string) > ADDRESS_MAX:
        raise Open311Error(400, f"address_string 不能超过{ADDRESS_MAX}字")
    for name, most in (
        ("first_name", NAME_PART_MAX),
        ("last_name", NAME_PART_MAX),
        ("email", EMAIL_MAX),
        ("phone", PHONE_MAX),
    ):
        if len(getattr(sub, name)) > most:
            raise Open311Error(400, f"{name} 不能超过{most}个字符")
    if sub.media_url.strip():
        from django.core.validators import URLValidator

        try:
            URLValidator(schemes=["http", "https"])(sub.media_url.strip())
        except ValidationError as exc:
            raise Open311Error(400, "media_url 不是有效的网址") from exc
        if len(sub.media_url) > MEDIA_URL_MAX:
            raise Open311Error(400, f"media_url 不能超过{MEDIA_URL_MAX}个字符")


def open311_submit(
    *,
    sub: Open311Submission,
    key: Open311Key | None,
    at: dt.datetime | None = None,
    client: str | None = None,
) -> Open311Request:
    """POST requests: register the matter (网上渠道) and keep the Open311 side of it.

    `client`: the caller's address, for the submission limits every road from outside shares
    with the portal (`portal.limits`), counted once the request is well formed; None (a caller
    inside the office, a test of the register) counts nothing.
    """
    _check(sub)
    category = (
        Category.objects.select_related("parent").filter(code=sub.service_code.strip()).first()
    )
    if category is None:
        raise Open311Error(404, f"服务代码 {sub.service_code} 不存在")
    lat = _coordinate(sub.lat, "lat", 90)
    long = _coordinate(sub.long, "long", 180)
    if client is not None:
        refusal = limits.submission_refusal(ip=client, phone=sub.phone, email=sub.email)
        if refusal is not None:
            raise Open311Error(429, refusal.message, refusal.retry_after)
    office = registering_office()
    at = at or timezone.now()
    title = f"{category.name}：{' '.join(sub.description.split())}"[:60]
    reg = case_services.Registration(
        office=office,
        channel=Channel.ONLINE,
        kind=conf.kind_for(category.code, category.parent.code if category.parent_id else ""),
        title=title,
        content=_content(sub, lat, long),
        place=place_for(sub.address_string, office),
        category=category,
        petitioner=_petitioner(sub),
    )
    with transaction.atomic():
        try:
            result = case_services.case_register(reg, by=None, at=at)
        except ValidationError as exc:
            raise Open311Error(400, _describe(exc)) from exc
        return Open311Request.objects.create(
            case=result.case,
            token=new_secret("t")[:40],
            key=key,
            service_code=category.code,
            address_string=sub.address_string.strip(),
            lat=lat,
            long=long,
            media_url=sub.media_url.strip(),
            requested_at=result.case.registered_at,
        )
