"""登录限制: staff login throttling, per account and per client address.

Failed logins are counted in `LoginLock` rows (the database every web process and machine
shares, so the limit holds however many there are). Within XINFANG_LOGIN_WINDOW seconds,
XINFANG_LOGIN_ACCOUNT_LIMIT failures lock the account and XINFANG_LOGIN_ADDRESS_LIMIT failures
lock the client address, each for XINFANG_LOGIN_LOCKOUT seconds; while locked every login is
refused without checking the password, the right one too. A good login clears its account's
count but not its address's, so one valid account cannot reset the address limit between
guesses. An administrator clears a lock in the admin (登录锁定).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from xinfang.orgs.models import LoginLock, User

UNKNOWN_ACCOUNT = "（不存在的账号）"
Kind = LoginLock.Kind


@dataclass(frozen=True)
class Lock:
    kind: str
    until: dt.datetime

    @property
    def message(self) -> str:
        when = f"{timezone.localtime(self.until):%H:%M}"
        who = "该账号" if self.kind == Kind.ACCOUNT else "本地址"
        return (
            f"登录失败次数过多，{who}已暂时锁定，请于{when}后再试；如需提前解除，请联系系统管理员。"
        )


def _account_key(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()


def login_lock(*, username: str, address: str, now: dt.datetime | None = None) -> Lock | None:
    """The lock that holds for this account or this address now, if any (the later one)."""
    now = now or timezone.now()
    row = (
        LoginLock.objects.filter(
            Q(kind=Kind.ACCOUNT, key=_account_key(username)) | Q(kind=Kind.ADDRESS, key=address),
            locked_until__gt=now,
        )
        .order_by("-locked_until")
        .first()
    )
    return Lock(row.kind, row.locked_until) if row and row.locked_until else None


def login_failed(*, username: str, address: str, now: dt.datetime | None = None) -> Lock | None:
    """Count one failed login for the account and for the address; the lock it caused, if any."""
    now = now or timezone.now()
    label = username if User.objects.filter(username=username).exists() else UNKNOWN_ACCOUNT
    counted = [
        _count(
            Kind.ACCOUNT, _account_key(username), label, settings.XINFANG_LOGIN_ACCOUNT_LIMIT, now
        ),
        _count(Kind.ADDRESS, address, address, settings.XINFANG_LOGIN_ADDRESS_LIMIT, now),
    ]
    _forget_stale(now)
    locks = [Lock(r.kind, r.locked_until) for r in counted if r.locked_until]
    return max(locks, key=lambda lock: lock.until) if locks else None


def login_succeeded(*, username: str) -> None:
    """A good login: the account's failures are forgotten (the address's are not)."""
    LoginLock.objects.filter(
        kind=Kind.ACCOUNT, key=_account_key(username), locked_until__isnull=True
    ).delete()


def login_unlock(*, ids: list[int], now: dt.datetime | None = None) -> int:
    """解除锁定 (the administrator): the locks end now and their counts start again."""
    now = now or timezone.now()
    return LoginLock.objects.filter(pk__in=ids).update(
        failures=0, locked_until=None, window_started_at=now
    )


def _count(kind: str, key: str, label: str, limit: int, now: dt.datetime) -> LoginLock:
    window = dt.timedelta(seconds=settings.XINFANG_LOGIN_WINDOW)
    with transaction.atomic():
        row = LoginLock.objects.select_for_update().filter(kind=kind, key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = LoginLock.objects.create(
                        kind=kind,
                        key=key,
                        label=label[:150],
                        window_started_at=now,
                        last_failure_at=now,
                    )
            except IntegrityError:  # another process counted the first failure a moment ago
                row = LoginLock.objects.select_for_update().get(kind=kind, key=key)
        expired = row.locked_until is not None and row.locked_until <= now
        if expired or row.window_started_at <= now - window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        row.last_failure_at = now
        row.label = label[:150]
        if row.failures >= limit and row.locked_until is None:
            row.locked_until = now + dt.timedelta(seconds=settings.XINFANG_LOGIN_LOCKOUT)
        row.save()
    return row


def _forget_stale(now: dt.datetime) -> None:
    """Rows whose window and lock are both over say nothing any more."""
    horizon = now - dt.timedelta(
        seconds=max(settings.XINFANG_LOGIN_WINDOW, settings.XINFANG_LOGIN_LOCKOUT)
    )
    LoginLock.objects.filter(last_failure_at__lt=horizon).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).delete()
