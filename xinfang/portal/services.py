"""The portal's writes: an online submission, a query-code look-up with its rate limit.

Every change to a matter goes through xinfang.cases.services; messages through xinfang.notify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from xinfang.cases import services as case_services
from xinfang.cases.models import Case, Channel
from xinfang.cases.reactions import ReactionContext
from xinfang.notify import services as notify
from xinfang.orgs.models import Unit
from xinfang.portal import conf

# Service error keys -> the portal form's field names.
FIELD_MAP = {
    "kind": "kind",
    "title": "title",
    "content": "content",
    "anonymous": "anonymous",
    "petitioner_name": "name",
    "petitioner_phone": "phone",
    "petitioner_id_number": "id_number",
    "attachments": "attachments",
}


def portal_office() -> Unit:
    """The unit that registers online matters: XINFANG_PORTAL_OFFICE, else the first petition office."""
    code = conf.office_code()
    qs = (
        Unit.objects.filter(code=code)
        if code
        else Unit.objects.filter(kind=Unit.Kind.PETITION_OFFICE)
    )
    office = qs.order_by("path", "id").first()
    if office is None:
        raise ImproperlyConfigured(
            f"未找到网上信访登记机构（XINFANG_PORTAL_OFFICE={code or '未设置'}）"
        )
    return office


@dataclass
class Submission:
    case: Case
    code: str


def portal_submit(*, data: dict, files: list) -> Submission:
    """网上信访: register the matter, issue its query code and queue the receipt, all or nothing.

    Raises django ValidationError (Chinese messages keyed by the service's field names).
    """
    reg = case_services.Registration(
        office=portal_office(),
        channel=Channel.ONLINE,
        kind=data["kind"],
        title=data["title"],
        content=data["content"],
        place=data["place"],
        petitioner=case_services.Petitioner(
            name=data.get("name", ""),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            address=data.get("address", ""),
            anonymous=bool(data.get("anonymous")),
        ),
        attachments=tuple(files),
    )
    with transaction.atomic():
        result = case_services.case_register(
            reg,
            by=None,
            context=ReactionContext(receipt_by_caller=True),  # the receipt below says 已登记
        )
        code = case_services.case_issue_query_code(case=result.case)
        notify.contact_save(case=result.case, email=data.get("email", ""))
        notify.queue_submission_receipt(case=result.case, code=code)
    return Submission(result.case, code)


# ---------------------------------------------------------------- look-up with a query code


@lru_cache(maxsize=4)
def _dummy_hash(hasher_key: str) -> str:
    return make_password("portal-dummy-query-code")


def _hasher_key() -> str:
    from django.conf import settings

    return settings.PASSWORD_HASHERS[0]


def case_by_code(*, number: str, code: str) -> Case | None:
    """The matter with this number if `code` is its query code; None otherwise.

    A password hash is checked every time, against a dummy hash when the number does not exist
    or has no code, so the answer and its timing say nothing about whether the number exists.
    """
    case = Case.objects.filter(number=number.strip().upper()).only("id", "query_code_hash").first()
    if case is None or not case.query_code_hash:
        check_password(code.strip().upper(), _dummy_hash(_hasher_key()))
        return None
    return case if case_services.case_check_query_code(case=case, code=code) else None


def _hit(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def lookup_allowed(*, ip: str, number: str) -> bool:
    """Count one look-up for the client IP and for the case number; False once either is over.

    Both counters always advance, so trying many numbers from one address and one number from
    many addresses are both held back.
    """
    limit, window = conf.rate_limit(), conf.rate_window()
    digest = hashlib.sha256(number.strip().upper().encode()).hexdigest()[:32]
    by_ip = _hit(f"portal:lookup:ip:{ip}", window)
    by_number = _hit(f"portal:lookup:no:{digest}", window)
    return by_ip <= limit and by_number <= limit
