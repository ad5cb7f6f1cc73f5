"""The daily jobs (每日任务) the worker runs once a Beijing day: today the backlog scan
(`xinfang backlog_scan`: 积案认定 by the rules, and the month's snapshot). Reminders, digests and
finality need no entry here: every worker pass does them.

A job is claimed by inserting its (job, day) row: with several workers only one runs it. A job
whose worker died before it finished is taken up again after `RETRY_AFTER`; a job that raised
is logged and tried again the same way, and the worker carries on with its other duties.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.backlog.flagging import backlog_scan
from xinfang.cases.clocks import LOCAL
from xinfang.ops.audit import purge_expired_audit
from xinfang.ops.retention import anonymise_expired
from xinfang.routing.versions import scheduled_retrain
from xinfang.worker.models import DailyRun

log = logging.getLogger(__name__)

RETRY_AFTER = dt.timedelta(hours=1)


def _backlog_scan(now: dt.datetime) -> str:
    return f"积案扫描：新认定积案 {backlog_scan(now=now).total} 件"


@dataclass(frozen=True)
class DailyJob:
    name: str
    run: Callable[[dt.datetime], str]
    hour: int = 0  # Beijing hour from which it runs that day


def _retention(now: dt.datetime) -> str:
    """保存期限 (xinfang/ops): anonymise closed matters past XINFANG_RETENTION_YEARS, purge audit
    rows past XINFANG_AUDIT_RETENTION_DAYS."""
    return f"保存期限：匿名化 {anonymise_expired(now, limit=5000)} 件，删除过期查看记录 {purge_expired_audit(now)} 条"


# 智能分派重训 (xinfang/routing/versions.py): weekly, when enough new matters were confirmed
JOBS = (
    DailyJob("backlog_scan", _backlog_scan),
    DailyJob("retention", _retention, hour=2),
    DailyJob("routing_retrain", scheduled_retrain, hour=3),
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


def run_due(*, now: dt.datetime | None = None, jobs: tuple[DailyJob, ...] = JOBS) -> list[str]:
    """Run each job not yet run today (Beijing) once its hour has come. Returns what they said."""
    now = now or timezone.now()
    local = timezone.localtime(now, LOCAL)
    said = []
    for job in jobs:
        if local.hour < job.hour or not _claim(job, local.date(), now):
            continue
        try:
            result = job.run(now)
        except Exception:  # one job's failure must not stop the worker; retried after RETRY_AFTER
            log.exception("每日任务 %s 失败", job.name)
            continue
        DailyRun.objects.filter(job=job.name, day=local.date()).update(
            finished_at=timezone.now(), result=result[:200]
        )
        said.append(result)
    return said
