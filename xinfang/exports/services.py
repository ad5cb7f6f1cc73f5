"""Every write of the export jobs: request, claim, run (with progress), retry, download record,
expiry.

A job is claimed with a conditional update (queued → running), so two workers never run the
same job. While it runs, its heartbeat moves with each progress report; a job whose heartbeat
is older than LEASE (the process was killed) goes back to the queue and is written again from
the start by the next pass (an .xlsx cannot be appended to), so nothing is lost. The file is
written under XINFANG_EXPORT_DIR as `<id>.xlsx.part`, readable by the server's user only
(0600), and renamed when complete: a half-written file is never served.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from xinfang.exports import kinds, writer
from xinfang.exports.kinds import ExportError
from xinfang.exports.models import ExportDownload, ExportJob
from xinfang.orgs.models import User

log = logging.getLogger(__name__)

DIRECT_MAX = 5000  # rows: a smaller export is written in the request itself
LEASE = dt.timedelta(minutes=2)  # a running job silent this long was killed: queue it again
KEEP = dt.timedelta(days=7)  # a finished file is deleted after this
MAX_ATTEMPTS = 3
Status = ExportJob.Status


class LostClaim(Exception):
    """Another worker took the job over (ours was thought dead): stop writing."""


def export_dir() -> Path:
    path = Path(getattr(settings, "XINFANG_EXPORT_DIR", Path(settings.VAR_DIR) / "exports"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def is_large(qs) -> bool:
    """More than DIRECT_MAX rows? (Counts at most DIRECT_MAX + 1 of them.)"""
    return qs[: DIRECT_MAX + 1].count() > DIRECT_MAX


def export_request(*, owner: User, kind: str, filters: dict) -> ExportJob:
    """导出: queue an export of `kind` with `filters` for `owner`. The same request while one is
    still queued or running returns that job instead of a second one."""
    declared = kinds.find(kind)
    if declared is None:
        raise ExportError("没有这种导出内容")
    declared.source(owner, filters)  # bad filters fail here, in Chinese, not in the worker
    same = ExportJob.objects.filter(
        owner=owner, kind=kind, filters=filters, status__in=[Status.QUEUED, Status.RUNNING]
    ).first()
    return same or ExportJob.objects.create(owner=owner, kind=kind, filters=filters)


def export_start(*, owner: User, kind: str, query) -> ExportJob:
    """导出 from a page whose export is too large to write in the request: queue a job of `kind`
    with the kind's parameters taken from the page's query (ExportError, in Chinese, when the
    query cannot be exported)."""
    declared = kinds.find(kind)
    if declared is None:
        raise ExportError("没有这种导出内容")
    return export_request(owner=owner, kind=kind, filters=kinds.params_of(declared, query))


def handed_over_notice() -> str:
    """What the page tells its user when the export became a job."""
    return f"数据较多（{DIRECT_MAX} 行以上），已转为后台导出，完成后可在此下载"


def export_retry(*, job: ExportJob, by: User) -> ExportJob:
    """重新导出 a failed or expired job (its owner only)."""
    if job.owner_id != by.pk:
        raise ExportError("只能重新导出自己申请的任务")
    if job.status not in {Status.FAILED, Status.EXPIRED}:
        raise ExportError("该任务正在进行或已完成，无需重新导出")
    ExportJob.objects.filter(pk=job.pk, status=job.status).update(
        status=Status.QUEUED, rows_done=0, rows_total=None, error="", attempts=0, finished_at=None
    )
    job.refresh_from_db()
    return job


def requeue_stale(now: dt.datetime | None = None) -> int:
    """Jobs whose worker went silent (killed) go back to the queue, or fail after MAX_ATTEMPTS."""
    cutoff = (now or timezone.now()) - LEASE
    stale = ExportJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
    failed = stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED, error="导出多次中断，请稍后重新导出", finished_at=timezone.now()
    )
    return failed + stale.update(status=Status.QUEUED, rows_done=0, worker="")


def _claim(job_id: int, worker: str) -> bool:
    now = timezone.now()
    return bool(
        ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.RUNNING,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            rows_done=0,
            attempts=F("attempts") + 1,
            error="",
        )
    )


def _progress(job: ExportJob, worker: str):
    def report(done: int) -> None:
        moved = ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING, worker=worker).update(
            rows_done=done, heartbeat_at=timezone.now()
        )
        if not moved:
            raise LostClaim

    return report


def export_run(job: ExportJob, *, worker: str) -> ExportJob:
    """Run one queued job to its end (done or failed). Does nothing if another worker claimed it."""
    if not _claim(job.pk, worker):
        job.refresh_from_db()
        return job
    kind = kinds.find(job.kind)
    part = export_dir() / f"{job.pk}.xlsx.part"
    try:
        if kind is None:
            raise ExportError("没有这种导出内容")
        count, rows = kind.source(job.owner, job.filters)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=count())
        with writer.private_file(part) as out:
            written = writer.write_xlsx(
                out,
                sheet=kind.sheet,
                columns=kind.columns,
                rows=rows(),
                progress=_progress(job, worker),
            )
        final = part.with_suffix("")  # <id>.xlsx
        os.replace(part, final)
    except LostClaim:
        log.warning("export job %s was taken over by another worker", job.pk)
        part.unlink(missing_ok=True)
    except ExportError as exc:
        _fail(job, worker, str(exc), part)
    except Exception:  # the worker must go on; the owner sees a message, the log the cause
        log.exception("export job %s failed", job.pk)
        _fail(job, worker, "导出时出错，请重新导出；如仍失败请联系管理员", part)
    else:
        ExportJob.objects.filter(pk=job.pk, worker=worker).update(
            status=Status.DONE,
            rows_done=written,
            rows_total=written,
            file_path=str(final),
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def _fail(job: ExportJob, worker: str, message: str, part: Path) -> None:
    part.unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk, worker=worker).update(
        status=Status.FAILED, error=message[:500], finished_at=timezone.now()
    )


def run_pending(worker: str, *, limit: int = 1) -> int:
    """One worker pass: re-queue jobs of killed workers, then run up to `limit` queued jobs,
    oldest first. Returns how many were run."""
    purge_expired()
    requeue_stale()
    ran = 0
    queued = ExportJob.objects.filter(status=Status.QUEUED).order_by("created_at", "id")
    for job_id in list(queued.values_list("id", flat=True)[:limit]):
        job = ExportJob.objects.select_related("owner", "owner__unit").get(pk=job_id)
        if export_run(job, worker=worker).status in {Status.DONE, Status.FAILED}:
            ran += 1
    return ran


def export_download(*, job: ExportJob, by: User) -> Path:
    """The finished file of `by`'s own job; the download is recorded when the file holds
    petitioners' names. ExportError when there is nothing to download."""
    if job.owner_id != by.pk:
        raise ExportError("只能下载自己申请的导出文件")
    path = Path(job.file_path) if job.file_path else None
    if job.status != Status.DONE or path is None or not path.is_file():
        raise ExportError("导出文件尚未生成或已过期，请重新导出")
    kind = kinds.find(job.kind)
    if kind is None or kind.personal:
        ExportDownload.objects.create(job=job, user=by, rows=job.rows_done)
    return path


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than KEEP ago (personal data is not kept around)."""
    cutoff = (now or timezone.now()) - KEEP
    old = ExportJob.objects.filter(status=Status.DONE, finished_at__lt=cutoff)
    for path in old.values_list("file_path", flat=True):
        if path:
            Path(path).unlink(missing_ok=True)
    return old.update(status=Status.EXPIRED, file_path="")
