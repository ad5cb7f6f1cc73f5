"""The weekly retrain no longer holds the worker: a slow daily job runs in a thread of its own
while the worker's passes go on (finality, messages); its claim is kept while it runs, taken up
again after RETRY_AFTER when its worker died, and given back when the worker stops cleanly."""

from __future__ import annotations

import datetime as dt
import io
import signal
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import bj, register
from xinfang.cases import services
from xinfang.cases.models import State
from xinfang.notify import delivery
from xinfang.notify import services as notify
from xinfang.notify.models import Outbox
from xinfang.worker import daily
from xinfang.worker.management.commands.worker import Command
from xinfang.worker.models import DailyRun

pytestmark = pytest.mark.django_db(transaction=True)  # the job's thread has its own connection


class SlowJob:
    """A stand-in for the retrain: blocks until released; counts its runs."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def __call__(self, now: dt.datetime) -> str:
        self.calls += 1
        self.started.set()
        assert self.release.wait(30)
        return "智能分派重训：已启用 测试版本"

    def job(self) -> daily.DailyJob:
        return daily.DailyJob("routing_retrain", self, background=True)


def _forget() -> None:
    for r in list(daily._running.values()):
        r.thread.join(30)
    daily._running.clear()
    while not daily._said.empty():
        daily._said.get()


@pytest.fixture(autouse=True)
def _no_jobs_left():
    _forget()
    yield
    _forget()


@pytest.fixture
def slow(monkeypatch):
    job = SlowJob()
    monkeypatch.setattr(daily, "JOBS", (job.job(),))
    yield job
    job.release.set()


def _replied_matter(county, people):
    """A matter whose review window closed unused, with its reply's SMS in the outbox."""
    case = register(county, people.clerk, bj(2026, 9, 1, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 2, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 9, 3, 9))
    return services.case_reply(
        case=case, by=people.officer, outcome="supported", text="已解决", at=bj(2026, 9, 10, 9)
    )


def test_a_pass_does_its_other_duties_while_the_retrain_runs(county, people, slow):
    case = _replied_matter(county, people)
    assert Outbox.objects.filter(case=case, status="pending").exists()
    out = io.StringIO()
    command = Command(stdout=out)
    began = time.monotonic()
    command._pass(notify.worker_name(), once=False, seconds=1)
    assert time.monotonic() - began < 20  # the retrain is still blocked
    assert slow.started.wait(10) and daily.running() == ["routing_retrain"]
    case.refresh_from_db()
    assert case.state == State.FINAL  # finality went on
    assert not Outbox.objects.filter(case=case, status="pending").exists()  # and the SMS
    run = DailyRun.objects.get(job="routing_retrain")
    assert run.finished_at is None
    command._pass(notify.worker_name(), once=False, seconds=1)  # still running: not again
    assert slow.calls == 1
    slow.release.set()
    daily._running["routing_retrain"].thread.join(10)
    command._pass(notify.worker_name(), once=False, seconds=1)
    assert "智能分派重训：已启用 测试版本" in out.getvalue()  # said by the pass after it ended
    run.refresh_from_db()
    assert run.finished_at is not None and run.result.startswith("智能分派重训")


def test_a_live_worker_keeps_its_claim_however_long_the_job_takes(county, slow):
    start = timezone.now()
    assert daily.run_due(now=start) == []
    assert slow.started.wait(10)
    later = start + daily.RETRY_AFTER * 3  # past RETRY_AFTER, the thread still alive
    assert daily.run_due(now=later) == []
    assert slow.calls == 1
    run = DailyRun.objects.get(job="routing_retrain")
    assert run.started_at == later and run.finished_at is None  # renewed: no one retakes it


def test_a_dead_workers_retrain_is_taken_up_after_retry_after(county, slow):
    start = timezone.now()
    today = timezone.localtime(start, daily.LOCAL).date()
    DailyRun.objects.create(job="routing_retrain", day=today, started_at=start)  # died mid-way
    assert daily.run_due(now=start + dt.timedelta(minutes=59)) == []
    assert slow.calls == 0
    daily.run_due(now=start + dt.timedelta(minutes=61))
    assert slow.started.wait(10) and slow.calls == 1
    slow.release.set()
    daily._running["routing_retrain"].thread.join(10)
    assert DailyRun.objects.get(job="routing_retrain").finished_at is not None


def test_a_retrain_that_raised_in_the_background_is_retried_later(county, monkeypatch):
    calls: list[int] = []

    def boom(now):
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(daily, "JOBS", (daily.DailyJob("routing_retrain", boom, background=True),))
    start = timezone.now()
    daily.run_due(now=start)
    daily._running["routing_retrain"].thread.join(10)
    assert daily.run_due(now=start + dt.timedelta(minutes=30)) == []
    assert calls == [1] and DailyRun.objects.get().finished_at is None
    daily.run_due(now=start + dt.timedelta(minutes=61))
    daily._running["routing_retrain"].thread.join(10)
    assert calls == [1, 1]


def test_a_worker_that_stops_gives_its_running_job_back(county, people, slow):
    """SIGTERM (the stop event): the worker exits without waiting for the retrain, and the
    claim is given back so the next worker retakes it at once."""
    stop = delivery.STOP
    out = io.StringIO()
    handlers = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGINT)}
    stopper = threading.Thread(target=lambda: slow.started.wait(20) and stop.set())
    stopper.start()
    began = time.monotonic()
    try:
        call_command("worker", interval=0.2, poll=0.1, stdout=out)  # returns once stopped
    finally:
        stop.clear()
        for n, handler in handlers.items():
            signal.signal(n, handler)
    assert slow.started.is_set() and slow.calls == 1
    assert time.monotonic() - began < 25
    assert "已交回" in out.getvalue()
    run = DailyRun.objects.get(job="routing_retrain")
    assert run.finished_at is None
    assert run.started_at < timezone.now() - daily.RETRY_AFTER  # any worker retakes it now


def test_once_runs_the_retrain_in_line(county, people, monkeypatch):
    said: list[str] = []
    job = daily.DailyJob(
        "routing_retrain", lambda now: said.append("x") or "重训完成", background=True
    )
    monkeypatch.setattr(daily, "JOBS", (job,))
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert said == ["x"] and "重训完成" in out.getvalue()
    assert DailyRun.objects.get().finished_at is not None
