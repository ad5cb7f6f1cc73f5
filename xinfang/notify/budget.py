"""短信限额: at most XINFANG_SMS_DAILY_LIMIT SMS to one phone number in a Beijing day.

Whatever path queues them (the portal, Open311, the API, the workflow's step messages, an
import), an SMS past the budget is written to the outbox as skipped (未发送), with the reason,
and the worker never sends it: nobody can make the office SMS-bomb a number at its cost.
The first submission receipt of the day to a number (the only message with a query code) is
always sent, even when step messages have used the budget up.

The check is made when a message is queued, by counting that number's SMS of the day that
were not skipped (an index on recipient and time). Two transactions queuing to one number at
the same instant can each see one below the budget, so a day can overshoot by the number of
such concurrent writers; the portal's own per-contact limit keeps that small.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count

from xinfang.cases.clocks import LOCAL
from xinfang.notify.models import Outbox

RECEIPT = "submission"
CHUNK = 500


def daily_limit() -> int:
    return settings.XINFANG_SMS_DAILY_LIMIT


def over_budget_reason() -> str:
    return f"超出每个号码每日短信限额（{daily_limit()} 条），未发送"


def _day(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day = at.astimezone(LOCAL).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL)
    return start, start + dt.timedelta(days=1)


def _sent_today(at: dt.datetime):
    start, end = _day(at)
    return Outbox.objects.filter(
        channel=Outbox.Channel.SMS, created_at__gte=start, created_at__lt=end
    ).exclude(status=Outbox.Status.SKIPPED)


def sms_skip_reason(*, recipient: str, kind: str, at: dt.datetime) -> str | None:
    """Why this SMS must not be sent (the budget is spent), or None when it may go."""
    today = _sent_today(at).filter(recipient=recipient)
    if kind == RECEIPT and not today.filter(kind=RECEIPT).exists():
        return None  # the citizen's first confirmation of the day always goes
    return over_budget_reason() if today.count() >= daily_limit() else None


def sms_used_today(recipients: Iterable[str], at: dt.datetime) -> Counter[str]:
    """How many SMS each of `recipients` has been queued today (not skipped): a batch's check."""
    wanted = sorted(set(recipients))
    used: Counter[str] = Counter()
    for i in range(0, len(wanted), CHUNK):
        rows = (
            _sent_today(at)
            .filter(recipient__in=wanted[i : i + CHUNK])
            .values_list("recipient")
            .annotate(n=Count("id"))
            .order_by()
        )
        used.update(dict(rows))
    return used


def receipt_channels(case_id: int) -> dict[str, bool]:
    """The channels this matter's submission receipt was queued on, each with whether it will
    go (False: the SMS budget skipped it when it was queued). The portal's receipt page says
    which, so it never tells a citizen a code was sent when it was not."""
    rows = Outbox.objects.filter(case_id=case_id, kind=RECEIPT).values_list("channel", "status")
    return {channel: status != Outbox.Status.SKIPPED for channel, status in rows}
