"""Delivering the outbox: claim due messages, send each once, record the outcome.

- `outbox_claim` takes up to a batch of due messages for one worker, most urgent first
  (`Outbox.priority`, then the oldest due). On PostgreSQL it selects them with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so several workers (on several machines) claim different
  rows without waiting on each other; on SQLite the select and the conditional UPDATE run in one
  `BEGIN IMMEDIATE` transaction, which holds the database's single write lock. Either way a row
  goes to one worker only, for a lease (XINFANG_NOTIFY_LEASE_SECONDS).
- `outbox_deliver` sends one claimed message and marks it sent (or schedules a retry with
  exponential backoff, or marks it failed after XINFANG_NOTIFY_MAX_ATTEMPTS).
- `drain` repeats claim-and-send while messages are due, so a backlog goes out at full speed and
  the worker sleeps only when the queue is empty.

**The guarantee.** A message is marked sent only after the gateway accepted it, and a claimed
message whose worker died returns to the queue when its lease ends: every message is delivered
at least once. The only way to deliver one twice is a worker killed in the instant between the
gateway's acceptance and the UPDATE that marks the row sent: at most the one message it had in
flight. Each hand-over carries the message's idempotency key (`message_key`: the row's id and
creation time), as the HTTP gateway's `id` field and `Idempotency-Key` header, in the file
backend's JSON line and as the e-mail's Message-ID; a gateway that drops a key it has seen makes
that rare second hand-over harmless, and the citizen gets each message exactly once.
tests/test_worker_crash.py kills real workers at random points and checks exactly this.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from xinfang.notify import conf
from xinfang.notify.backends import DeliveryError, get_sender
from xinfang.notify.models import Outbox

log = logging.getLogger(__name__)

REDACTED = "（本条为含查询码的提交回执，处理完毕后内容已清除）"

# Set by a worker asked to stop (SIGTERM): the message being sent is finished and marked, the
# rest of the batch is handed back at once, not after its lease.
STOP = threading.Event()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def message_key(row: Outbox) -> str:
    """The idempotency key of a message: the same on every attempt, different for every row
    (the creation time keeps it unique across a restored database that reuses ids)."""
    return f"xinfang-{row.pk}-{int(row.created_at.timestamp() * 1000)}"


def _pending(now: dt.datetime) -> Q:
    return Q(status=Outbox.Status.PENDING, next_attempt_at__lte=now)


def _expired(now: dt.datetime) -> Q:
    return Q(status=Outbox.Status.SENDING, claimed_until__lt=now)


def _due(now: dt.datetime) -> Q:
    return _pending(now) | _expired(now)


def _due_ids(now: dt.datetime, limit: int, skip_locked: bool) -> list[int]:
    """Up to `limit` due ids, most urgent first: messages whose worker died (their lease ran out)
    and pending ones, each read by its own index (`outbox_lease`, the partial `outbox_queue`)."""
    found: list[int] = []
    for due, order in (
        (_expired(now), ("priority", "claimed_until", "id")),
        (_pending(now), ("priority", "next_attempt_at", "id")),
    ):
        rows = Outbox.objects.filter(due)
        if skip_locked:
            rows = rows.select_for_update(skip_locked=True, no_key=True)
        found += rows.order_by(*order).values_list("id", flat=True)[: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def outbox_claim(
    *, worker: str, now: dt.datetime | None = None, limit: int | None = None
) -> list[Outbox]:
    """Claim up to `limit` (XINFANG_NOTIFY_BATCH) due messages for `worker`, most urgent first.

    A row is due when it is pending and its time has come, or when the worker that claimed it
    let its lease run out (it died). The UPDATE repeats the due condition, so a row another
    worker took in the meantime is never taken twice.
    """
    now = now or timezone.now()
    limit = limit or conf.batch_size()
    until = now + dt.timedelta(seconds=conf.lease_seconds())
    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        ids = _due_ids(now, limit, skip_locked)
        if not ids:
            return []
        Outbox.objects.filter(_due(now), pk__in=ids).update(
            status=Outbox.Status.SENDING,
            claimed_by=worker,
            claimed_until=until,
            attempts=F("attempts") + 1,
        )
    rows = Outbox.objects.filter(
        pk__in=ids, claimed_by=worker, claimed_until=until, status=Outbox.Status.SENDING
    )
    return sorted(rows, key=lambda r: (r.priority, r.next_attempt_at, r.pk))


def backoff(attempts: int) -> dt.timedelta:
    """Exponential: the base delay, then twice it, four times... (capped at one day)."""
    return dt.timedelta(seconds=min(conf.backoff_seconds() * 2 ** max(attempts - 1, 0), 86400))


def _held(row: Outbox, worker: str) -> Q:
    return Q(pk=row.pk, claimed_by=worker, status=Outbox.Status.SENDING)


def _still_held(row: Outbox, worker: str) -> bool:
    """Whether `worker` still holds `row`. While more than half its lease is left nobody else
    can have taken it, and nothing is written; after that the lease is renewed with a
    conditional UPDATE, which fails when another worker took the row over."""
    now = timezone.now()
    lease = dt.timedelta(seconds=conf.lease_seconds())
    if row.claimed_until is not None and row.claimed_until - now > lease / 2:
        return True
    row.claimed_until = now + lease
    return bool(Outbox.objects.filter(_held(row, worker)).update(claimed_until=row.claimed_until))


def outbox_deliver(row: Outbox, *, worker: str) -> str:
    """Send one claimed message and record the outcome. Returns the new status ("lost" when
    the lease ran out and another worker took the message over: then nothing is sent)."""
    if not _still_held(row, worker):
        return "lost"
    try:
        get_sender(row.channel).send(
            recipient=row.recipient, subject=row.subject, body=row.body, key=message_key(row)
        )
    except DeliveryError as exc:
        return _failed(row, worker, str(exc))
    done = {
        "status": Outbox.Status.SENT,
        "sent_at": timezone.now(),
        "claimed_by": "",
        "claimed_until": None,
        "last_error": "",
    }
    if row.sensitive:
        done["body"] = REDACTED
    Outbox.objects.filter(_held(row, worker)).update(**done)
    return Outbox.Status.SENT


def _failed(row: Outbox, worker: str, error: str) -> str:
    attempts = Outbox.objects.values_list("attempts", flat=True).get(pk=row.pk)
    change: dict[str, object] = {
        "last_error": error[:2000],
        "claimed_by": "",
        "claimed_until": None,
    }
    if attempts >= conf.max_attempts():
        change["status"] = Outbox.Status.FAILED
        if row.sensitive:
            change["body"] = REDACTED
    else:
        change["status"] = Outbox.Status.PENDING
        change["next_attempt_at"] = timezone.now() + backoff(attempts)
    Outbox.objects.filter(_held(row, worker)).update(**change)
    log.warning("消息 %s 发送失败（第%s次）：%s", row.pk, attempts, error)
    return str(change["status"])


def deliver_due(
    *, worker: str | None = None, now: dt.datetime | None = None, limit: int | None = None
) -> dict[str, int]:
    """One batch: claim what is due and send it. Returns counts per outcome."""
    worker = worker or worker_name()
    counts: dict[str, int] = {}
    rows = outbox_claim(worker=worker, now=now, limit=limit)
    for done, row in enumerate(rows):
        if STOP.is_set():
            _release(rows[done:], worker)
            break
        status = outbox_deliver(row, worker=worker)
        counts[status] = counts.get(status, 0) + 1
    return counts


def _release(rows: list[Outbox], worker: str) -> None:
    """Hand claimed, unsent messages back to the queue (the attempt did not happen)."""
    Outbox.objects.filter(
        pk__in=[row.pk for row in rows], claimed_by=worker, status=Outbox.Status.SENDING
    ).update(
        status=Outbox.Status.PENDING,
        claimed_by="",
        claimed_until=None,
        attempts=F("attempts") - 1,
    )


def drain(*, worker: str, seconds: float | None = None) -> dict[str, int]:
    """Claim and send batch after batch while messages are due (for at most `seconds`, so the
    worker's other duties keep their rhythm). Returns the counts per outcome."""
    deadline = None if seconds is None else time.monotonic() + seconds
    counts: dict[str, int] = {}
    while True:
        batch = deliver_due(worker=worker)
        for status, count in batch.items():
            counts[status] = counts.get(status, 0) + count
        if not batch or STOP.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return counts
