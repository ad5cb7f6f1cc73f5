"""The portal's writes: an online submission, a query-code look-up with its rate limit.

Every change to a matter goes through xinfang.cases.services; messages through xinfang.notify.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from xinfang.cases import querycode
from xinfang.cases import services as case_services
from xinfang.cases.models import Case, Channel
from xinfang.cases.reactions import ReactionContext
from xinfang.notify import budget
from xinfang.notify import services as notify
from xinfang.orgs.models import Unit
from xinfang.portal import conf, limits

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
    # channel ("sms", "email") -> whether the receipt goes on it (False: skipped by the SMS budget)
    receipt: dict[str, bool]


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
    return Submission(result.case, code, budget.receipt_channels(result.case.pk))


# ---------------------------------------------------------------- look-up with a query code


def case_by_code(*, number: str, code: str) -> Case | None:
    """The matter with this number if `code` is its query code; None otherwise.

    A digest is computed every time, for nothing when the number does not exist or has no
    code, so the answer and its timing say nothing about whether the number exists.
    """
    case = Case.objects.filter(number=number.strip().upper()).only("id", "query_code_hash").first()
    if case is None or not case.query_code_hash:
        querycode.check_nothing(code)
        return None
    return case if case_services.case_check_query_code(case=case, code=code) else None


_hit = limits.hit
_digest = limits.digest


def _number_key(number: str) -> str:
    return _digest(number.strip().upper())


def lookup_allowed(*, ip: str, number: str) -> bool:
    """Count one look-up; False when this client address is over its limit, or when the number
    is braked and this address has already had its try at it in the window.

    The limit is per client address: an attacker spends his own, never the owner's. A number
    that many addresses keep getting wrong (XINFANG_PORTAL_LOOKUP_BRAKE failures in a window)
    is braked: each address gets one try at it a window. That slows a spread-out guesser to
    one guess per address per window and still never locks the owner out: from an address
    that has not tried the number, the right code always opens it.
    """
    limit, window = conf.rate_limit(), conf.rate_window()
    key = _number_key(number)
    if _hit(f"portal:lookup:ip:{_digest(ip)}", window) > limit:
        return False  # and no more keys for it: a refused address cannot flood the cache
    by_pair = _hit(f"portal:lookup:pair:{key}:{_digest(ip)}", window)
    braked = (cache.get(f"portal:lookup:fail:{key}") or 0) >= conf.lookup_brake()
    return not braked or by_pair <= 1


def lookup_failed(*, number: str) -> None:
    """A wrong number or code: counts towards the number's brake (never a lock)."""
    _hit(f"portal:lookup:fail:{_number_key(number)}", conf.rate_window())


# ---------------------------------------------------------------- submission limits
# One rule for every road from outside (the portal, Open311): `xinfang.portal.limits`.
submission_refusal = limits.submission_refusal
