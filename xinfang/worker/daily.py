"""The daily jobs (每日任务) the worker runs once a Beijing day: today the backlog scan
(`xinfang backlog_scan`: 积案认定 by the rules, and the month's snapshot). Reminders, digests and
finality need no entry here: every worker pass does them.

A job is claimed by inserting its (job, day) row: with several workers only one runs it. A job
whose worker died before it finished is taken up again after `RETRY_AFTER`; a job that raised
is logged and tried again the same way, and the worker carries on with its other duties.

A slow job (`background=True`: the weekly retrain, up to XINFANG_ROUTING_RETRAIN_SECONDS) runs
in a thread of its own, so the worker's passes (reminders, SMS, finality, reactions) go on
meanwhile; its training runs in a child process besides (xinfang/routing/versions.py). While the
thread lives, each pass renews the claim (`started_at`, at most every `RENEW_EVERY`), so a live
worker keeps its job however long it takes and only a dead one's is taken up again after
`RETRY_AFTER`. What the job says when it ends is returned by the next `run_due`. A worker that
stops cleanly (SIGTERM) gives its unfinished jobs back at once (`release_running`).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from xinfang.backlog.flagging import backlog_scan
from xinfang.cases.clocks import LOCAL
from xinfang.ops.audit import purge_expired_audit
from xinfang.ops.retention import anonymise_expired
from xinfang.routing import versions
from xinfang.worker.models import DailyRun

log = logging.getLogger(__name__)

RETRY_AFTER = dt.timedelta(hours=1)
RENEW_EVERY = dt.timedelta(minutes=5)  # a running background job's claim, renewed by each pass


def _backlog_scan(now: dt.datetime) -> str:
    return f"积案扫描：新认定积案 {backlog_scan(now=now).total} 件"


@dataclass(frozen=True)
class DailyJob:
    name: str
    run: Callable[[dt.datetime], str]
    hour: int = 0  # Beijing hour from which it runs that day
    background: bool = False  # slow: in a thread of its own, the worker's passes go on


def _retention(now: dt.datetime) -> str:
    """保存期限 (xinfang/ops): anonymise closed matters past XINFANG_RETENTION_YEARS, purge audit
    rows past XINFANG_AUDIT_RETENTION_DAYS."""
    return f"保存期限：匿名化 {anonymise_expired(now, limit=5000)} 件，删除过期查看记录 {purge_expired_audit(now)} 条"


WEEKDAYS = "一二三四五六日"


def scheduled_retrain(now: dt.datetime) -> str:
    """智能分派重训 (xinfang/routing/versions.py), from 03:00 Beijing: on the weekday
    `XINFANG_ROUTING_RETRAIN_WEEKDAY` (1 Monday … 7 Sunday, 0 never) retrain when at least
    `XINFANG_ROUTING_RETRAIN_MIN_NEW` matters were confirmed since the last version; the
    training is stopped after `XINFANG_ROUTING_RETRAIN_SECONDS`. Returns what it did."""
    weekday = settings.XINFANG_ROUTING_RETRAIN_WEEKDAY
    if not weekday:
        return "智能分派重训：已关闭"
    if timezone.localtime(now, LOCAL).isoweekday() != weekday:
        return f"智能分派重训：每周{WEEKDAYS[weekday - 1]}进行，今天不训练"
    fresh, wanted = versions.confirmed_since_last(), settings.XINFANG_ROUTING_RETRAIN_MIN_NEW
    if fresh < wanted:
        return f"智能分派重训：上次训练后新确认事项 {fresh} 件，不足 {wanted} 件，不训练"
    return versions.retrain(now, by="worker").summary()


JOBS = (
    DailyJob("backlog_scan", _backlog_scan),
    DailyJob("retention", _retention, hour=2),
    DailyJob("routing_retrain", scheduled_retrain, hour=3, background=True),
)


def _claim(job: DailyJob, day: dt.date, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            DailyRun.objects.create(job=job.name, day=day, started_at=now)
        return True
    except IntegrityError:  # taken today: retake it only when it never finished
        return bool(
            DailyRun.objects.filter(
                job=job.name, day=day, finished_at__isnull=True, started_at__lt=now - RETRY_AFTER
            ).update(started_at=now)
        )


@dataclass(frozen=True)
class _Running:
    day: dt.date
    thread: threading.Thread


_running: dict[str, _Running] = {}  # background jobs of this process, by job name
_said: queue.SimpleQueue[str] = queue.SimpleQueue()  # what finished background jobs said


def _run(job: DailyJob, day: dt.date, now: dt.datetime) -> str | None:
    """Run a claimed job and mark it finished; None when it raised (retried after RETRY_AFTER)."""
    try:
        result = job.run(now)
    except Exception:  # one job's failure must not stop the worker; retried after RETRY_AFTER
        log.exception("每日任务 %s 失败", job.name)
        return None
    DailyRun.objects.filter(job=job.name, day=day).update(
        finished_at=timezone.now(), result=result[:200]
    )
    return result


def _run_in_thread(job: DailyJob, day: dt.date, now: dt.datetime) -> None:
    try:
        result = _run(job, day, now)
        if result is not None:
            _said.put(result)
    finally:
        connections.close_all()  # this thread's own connections


def _renew(name: str, running: _Running, now: dt.datetime) -> None:
    """Keep the claim of a job this process is still running (see the module's text)."""
    DailyRun.objects.filter(
        job=name, day=running.day, finished_at__isnull=True, started_at__lt=now - RENEW_EVERY
    ).update(started_at=now)


def run_due(
    *,
    now: dt.datetime | None = None,
    jobs: tuple[DailyJob, ...] | None = None,
    background: bool = True,
) -> list[str]:
    """Run each job not yet run today (Beijing) once its hour has come. Returns what they said,
    and what background jobs finished since the last call said. `background=False` (`xinfang
    worker --once`): every job in this thread, done when this returns."""
    now = now or timezone.now()
    jobs = JOBS if jobs is None else jobs  # read at call time (tests replace it)
    local = timezone.localtime(now, LOCAL)
    said = []
    while not _said.empty():
        said.append(_said.get())
    for job in jobs:
        running = _running.get(job.name)
        if running is not None and running.thread.is_alive():
            _renew(job.name, running, now)
            continue
        if local.hour < job.hour or not _claim(job, local.date(), now):
            continue
        if background and job.background:
            thread = threading.Thread(
                target=_run_in_thread,
                args=(job, local.date(), now),
                name=f"daily-{job.name}",
                daemon=True,  # a stopped worker leaves it unfinished: retaken as after a death
            )
            _running[job.name] = _Running(local.date(), thread)
            thread.start()
            log.info("每日任务 %s 已在后台开始", job.name)
            continue
        result = _run(job, local.date(), now)
        if result is not None:
            said.append(result)
    return said


def running() -> list[str]:
    """The background jobs this process is running now."""
    return [name for name, r in _running.items() if r.thread.is_alive()]


def release_running(now: dt.datetime | None = None) -> list[str]:
    """A worker stopping cleanly gives its unfinished background jobs back: the next worker
    takes them up at once instead of after RETRY_AFTER. Returns their names."""
    now = now or timezone.now()
    released = []
    for name, r in _running.items():
        if r.thread.is_alive():
            DailyRun.objects.filter(job=name, day=r.day, finished_at__isnull=True).update(
                started_at=now - RETRY_AFTER - dt.timedelta(seconds=1)
            )
            released.append(name)
    return released
