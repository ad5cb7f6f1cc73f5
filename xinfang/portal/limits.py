"""Submission limits (提交次数限制) on every road that registers a matter from outside.

One rule for the portal's form and Open311's `POST requests`: per client address (one machine
cannot flood the register) and per phone number and per e-mail address (nobody can make the
office send a stranger a stream of receipts: an SMS bomb at the office's cost). The counters
are shared by the roads: three portal submissions for a phone leave none for it on Open311.

The JSON API's registration is not one of these roads: only a registrar of a petition office
with a staff token may call it, and a clerk registering a regular visitor again is not abuse.

The counters live in Django's default cache (see `xinfang.portal.conf`); keys carry digests,
never a number, phone or address in the clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from xinfang.portal import conf

URGENT = "情况紧急的，请拨打12345热线或到信访接待场所反映。"


@dataclass(frozen=True)
class Refusal:
    """Why a submission is refused (Chinese, for the citizen) and when to try again."""

    message: str
    retry_after: int  # seconds, for the Retry-After header of the 429 answer


def digest(text: str) -> str:
    """Cache keys carry no number, phone or address in the clear."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def hit(key: str, window: int) -> int:
    """Count one event under `key` in a fixed window of `window` seconds; the count so far."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _hit_timed(key: str, window: int) -> tuple[int, int]:
    """`hit`, and the seconds left in the key's window (its start is kept beside the count)."""
    now = time.time()
    cache.add(f"{key}:since", now, timeout=window)
    count = hit(key, window)
    since = cache.get(f"{key}:since") or now
    return count, max(1, math.ceil(since + window - now))


def span(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"


def phone_key(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def submission_refusal(*, ip: str, phone: str = "", email: str = "") -> Refusal | None:
    """Count one submission for the client address and for each contact given; the refusal
    when one is over its limit, else None. A refused address does not count against the
    contacts it names."""
    limit, window = conf.submit_limit()
    count, left = _hit_timed(f"portal:submit:ip:{digest(ip)}", window)
    if count > limit:
        return Refusal(f"提交次数过多（每{span(window)}最多{limit}次），请稍后再试；{URGENT}", left)
    limit, window = conf.submit_contact_limit()
    refusal = None
    for label, value in (("手机号码", phone_key(phone)), ("电子邮箱", email.strip().lower())):
        if not value:
            continue
        count, left = _hit_timed(f"portal:submit:contact:{digest(value)}", window)
        if count > limit:
            message = (
                f"该{label}提交次数已达上限（{span(window)}内最多{limit}次），请稍后再试；{URGENT}"
            )
            refusal = Refusal(
                refusal.message if refusal else message,
                max(left, refusal.retry_after if refusal else 0),
            )
    return refusal
