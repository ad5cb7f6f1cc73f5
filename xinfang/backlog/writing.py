"""What every backlog write shares: the clock, the timeline row (积案日志), who may record, dates and money.

The helpers keep their leading underscore: they belong to the backlog's write modules
(services, flagging, planning, methods), not to callers outside the app.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from xinfang.backlog import permissions
from xinfang.backlog.models import (
    BacklogCase,
    BacklogEvent,
)
from xinfang.cases import clocks
from xinfang.orgs.models import User


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(_now(at))


def _start_of(day: dt.date) -> dt.datetime:
    """The first instant of `day` in Beijing time: clocks count from the day after."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=clocks.LOCAL)


def _event(backlog: BacklogCase, kind: str, by: User | None, at: dt.datetime, /, **details) -> None:
    BacklogEvent.objects.create(backlog=backlog, kind=kind, at=at, actor=by, details=details)
    BacklogCase.objects.filter(pk=backlog.pk).update(last_activity_at=at)
    backlog.last_activity_at = at


def _require_work(by: User, backlog: BacklogCase) -> None:
    if not permissions.can_work(by, backlog):
        raise PermissionDenied("您不是该积案的包案领导、专班成员或督查人员，无权记录")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号，不能再修改；如同一事项再次信访，将自动重新化解")


def _not_future(day: dt.date | None, what: str, at: dt.datetime | None = None) -> None:
    if day is None:
        raise ValidationError(f"请填写{what}")
    if day > _today(at):
        raise ValidationError(f"{what}不能晚于今天")


def _money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as exc:
        raise ValidationError(f"{what}应为数字（单位：元）") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{what}应为不小于零的金额，最多两位小数")
    return amount
