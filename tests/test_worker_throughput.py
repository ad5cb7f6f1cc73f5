"""The worker at production speed (issue 12): a backlog bigger than a batch goes out in one run,
with no pause between batches; the citizen waiting for a query code, staff reminders and digests
go ahead of a bulk backlog; several workers claiming at once never take one message twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from xinfang.notify import services
from xinfang.notify.backends import MemorySms
from xinfang.notify.models import Outbox

T0 = dt.datetime(2026, 9, 16, 2, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MemorySms.reset()
    yield
    MemorySms.reset()


def _bulk(n: int) -> None:
    """n messages to petitioners in one insert, as an import (or the demo's backlog) writes them."""
    services.outbox_insert(
        [("sms", f"138{i:08d}", "", f"批量{i}", "case.registered", None) for i in range(n)]
    )


@pytest.mark.django_db
def test_one_notify_worker_run_drains_a_backlog_ten_batches_long(settings):
    settings.XINFANG_NOTIFY_BATCH = 50
    _bulk(500)
    call_command("notify_worker", "--once", "--no-reminders")
    assert Outbox.objects.filter(status="sent").count() == 500
    assert len(MemorySms.sent) == 500
    assert len({m.key for m in MemorySms.sent}) == 500  # each with its own idempotency key


@pytest.mark.django_db
def test_one_worker_pass_drains_the_backlog_too(settings):
    settings.XINFANG_NOTIFY_BATCH = 50
    _bulk(300)
    call_command("worker", "--once", stdout=_Sink())
    assert not Outbox.objects.exclude(status="sent").exists()


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.mark.django_db
def test_receipts_reminders_digests_and_step_messages_go_ahead_of_a_bulk_backlog(county):
    with time_machine.travel(T0, tick=False):
        _bulk(100)  # an import's 已登记 messages, queued first
        services.outbox_queue(
            channel="sms", recipient="13800000001", body="您的事项已受理", kind="case.accepted"
        )
    later = T0 + dt.timedelta(hours=1)
    services.outbox_queue(
        channel="email",
        recipient="a@example.com",
        body="汇总",
        kind="digest",
        unit=county.hr,
        at=later,
    )
    services.outbox_queue(
        channel="email",
        recipient="b@example.com",
        body="已超期",
        kind="reminder.overdue",
        unit=county.hr,
        at=later + dt.timedelta(seconds=1),
    )
    services.outbox_queue(
        channel="sms",
        recipient="13800000002",
        body="查询码",
        kind="submission",
        sensitive=True,
        at=later + dt.timedelta(seconds=2),
    )
    now = later + dt.timedelta(minutes=1)
    first = services.outbox_claim(worker="w", now=now, limit=4)
    assert [row.kind for row in first] == [
        "submission",
        "digest",
        "reminder.overdue",
        "case.accepted",
    ]
    rest = services.outbox_claim(worker="w", now=now, limit=1000)
    assert {row.kind for row in rest} == {"case.registered"} and len(rest) == 100


@pytest.mark.django_db
def test_a_retry_keeps_its_idempotency_key(settings):
    settings.XINFANG_NOTIFY_BACKOFF_SECONDS = 1
    [row] = [services.outbox_queue(channel="sms", recipient="13800000001", body="一", kind="t")]
    MemorySms.fail = "网关繁忙"
    assert services.deliver_due(worker="w") == {"pending": 1}
    MemorySms.fail = ""
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        assert services.deliver_due(worker="w") == {"sent": 1}
    assert [m.key for m in MemorySms.sent] == [services.message_key(row)]
    assert services.message_key(row).startswith(f"xinfang-{row.pk}-")


@pytest.mark.django_db(transaction=True)
def test_three_workers_claiming_at_once_never_share_a_message(settings):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared-cache memory, whose table locks ignore the busy
        # timeout; tests/test_worker_crash.py runs real worker processes on a database file.
        pytest.skip("并发认领在 SQLite 上由 test_worker_crash.py 的真实进程测试")
    settings.XINFANG_NOTIFY_BATCH = 40
    _bulk(600)
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def claim(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            mine = taken.setdefault(name, [])
            while batch := services.outbox_claim(worker=name):
                mine += [row.pk for row in batch]
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    every = [pk for ids in taken.values() for pk in ids]
    assert len(every) == len(set(every)) == 600
    assert set(Outbox.objects.values_list("claimed_by", flat=True)) <= set(taken)
