"""台帐导入: an Excel ledger in.

Import (台帐导入): the first row is the header (Chinese column names, any order, unknown
columns ignored). Every row is checked with the registration form's rules and the look-ups, and
every problem is reported as "第12行 身份证号：…"; a file with any problem registers nothing.

Reading and checking run in a forked process (`_checked`) while this process, which holds the
database connection, writes the clean rows it receives, so the two cores work at once. A file of
up to ATOMIC_ROWS rows is written in one transaction as it is being checked and rolled back on
the first problem; a killed import leaves nothing. A bigger file is checked whole first (its
batches wait in a temporary spool file), then written in batches, each one transaction together
with its `ImportJob` progress, so a killed import resumes after the last committed batch when
the same file is imported again.

Rows come from calamine (Rust) when it can read the file; otherwise, and for very large
sheets, openpyxl opens and checks the package and the worksheet XML is streamed with lxml, one
row at a time, which also gives the Chinese messages for broken files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import bulk, validators
from xinfang.cases.models import ImportJob
from xinfang.ledger.columns import EMPTY, NO_ROWS, ImportResult, LedgerError, LedgerIssue
from xinfang.ledger.reading import _FastSheet, _open, _sha256
from xinfang.ledger.validation import _header, _Lookups, _RowReader, _text
from xinfang.orgs.models import Unit, User

BATCH_SIZE = 5000
FIRST_BATCH = 1000
MAX_REPORTED_ERRORS = 500
# Files up to this many rows are written in one transaction while they are still being checked
# (about five seconds of holding SQLite's write lock; other writers wait up to 20 s).
ATOMIC_ROWS = settings.XINFANG_IMPORT_ATOMIC_ROWS
# Below this size a file is checked in this process: forking would cost more than it saves.
PARALLEL_MIN_BYTES = 256 * 1024
CHECK_FAILED = "检查台帐时出错，未导入任何事项，请重试；如仍失败请联系管理员"

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ checking (the first side)

Message = tuple  # ("size", rows or None) | ("rows", [Prepared]) | ("done", issues, count, rows) | ("error", text)


def _produce(stream: IO[bytes], lookups: _Lookups) -> Iterator[Message]:
    """Read and check every row; clean rows come out prepared for the writer, in batches.

    After the first problem no more batches are sent (nothing will be written), but every row
    is still checked so that the clerk sees all the problems at once.
    """
    try:
        sheet = _FastSheet(stream)
        yield ("size", sheet.size)
        rows = sheet.rows()
        header_row = next(rows, None)
        while header_row is not None and not any(_text(v) for v in header_row[1]):
            header_row = next(rows, None)
        if header_row is None:
            raise LedgerError(EMPTY)
        reader = _RowReader(_header(header_row[1]), lookups)
        issues: list[LedgerIssue] = []
        count = total = 0
        batch: list[bulk.Prepared] = []
        limit = min(FIRST_BATCH, BATCH_SIZE)  # a small first batch sets the writer going sooner
        prepare = bulk.Preparer()
        for number, values in rows:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            total += 1
            row, problems = reader.read(values)
            if problems:
                count += len(problems)
                room = MAX_REPORTED_ERRORS - len(issues)
                issues.extend(LedgerIssue(m, number, c) for c, m in problems[: max(room, 0)])
            elif not count:
                batch.append(prepare(row))
                if len(batch) >= limit:
                    yield ("rows", batch)
                    batch, limit = [], BATCH_SIZE
        if batch and not count:
            yield ("rows", batch)
        if total == 0:
            raise LedgerError(NO_ROWS)
        yield ("done", issues, count, total)
    except LedgerError as exc:
        yield ("error", exc.message)


def _produce_into(sender, stream: IO[bytes], lookups: _Lookups) -> None:
    """The checking process: sends `_produce`'s messages, pickled, through a pipe."""
    try:
        for message in _produce(stream, lookups):
            sender.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    except BrokenPipeError:  # the importer has stopped listening
        pass
    except Exception:
        logger.exception("ledger check failed")
        sender.send_bytes(pickle.dumps(("error", CHECK_FAILED)))
    finally:
        sender.close()


def _fork_checker(stream: IO[bytes], lookups: _Lookups):
    """(pipe end, process) of a forked `_produce_into`, or None where this process cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    validators.warm_up()  # loaded once here, so that the checking process inherits the table
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_produce_into, args=(sender, stream, lookups), daemon=True)
    try:
        process.start()
    except (AssertionError, OSError):  # a daemonic process may not fork; no memory for a fork
        receiver.close()
        return None
    finally:
        sender.close()
    return receiver, process


def _checked(stream: IO[bytes], lookups: _Lookups) -> Iterator[Message]:
    """`_produce`'s messages; from a forked process when the file is big enough to gain.

    The writer (this process, which holds the database connection) then registers batch n
    while the other core reads and checks batch n+1. The child never touches the database.
    """
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)  # before the fork: the checking process reads from here
    forked = _fork_checker(stream, lookups) if size >= PARALLEL_MIN_BYTES else None
    if forked is None:
        yield from _produce(stream, lookups)
        return
    receiver, process = forked
    try:
        while True:
            try:
                message = pickle.loads(receiver.recv_bytes())  # noqa: S301 (our own child process)
            except EOFError:
                raise LedgerError(CHECK_FAILED) from None
            yield message
            if message[0] in ("done", "error"):
                return
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


# ------------------------------------------------------------------ writing (the second side)


class _Spool:
    """Checked batches kept on disk until the whole file is known to be clean."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())

    def add(self, batch: list[bulk.Prepared]) -> None:
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def batches(self) -> Iterator[list[bulk.Prepared]]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)  # noqa: S301 (our own temporary file)
            except EOFError:
                return

    def close(self) -> None:
        self.file.close()


class _Refused(Exception):
    """Rolls back an import whose file turned out to have problems."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("refused")
        self.result = result


def _already_imported(job: ImportJob) -> str:
    when = timezone.localtime(job.finished_at or job.started_at)
    return f"该文件已于{when:%Y年%m月%d日 %H:%M}导入，共{job.committed_rows}件；如确需再次导入，请选择强制导入（--force）"


def import_ledger(
    source: str | os.PathLike | IO[bytes],
    *,
    office: Unit,
    by: User | None = None,
    force: bool = False,
    file_name: str = "",
) -> ImportResult:
    """台帐导入: every row checked with the form's rules; all rows registered, or none.

    A file of up to ATOMIC_ROWS rows is written in one transaction while it is being checked,
    and rolled back if any row has a problem. A bigger one is checked whole first, then written
    in batches, each committed with the job's progress; the same file again continues such an
    import after its last committed batch. A completed file is refused unless `force`.
    """
    stream, owned = _open(source)
    try:
        digest = _sha256(stream)
        job = ImportJob.objects.filter(office=office, sha256=digest).order_by("-id").first()
        if job is not None and job.status == ImportJob.Status.DONE and not force:
            return ImportResult(
                ok=False, errors=[LedgerIssue(_already_imported(job))], error_count=1, job=job
            )
        if job is not None and job.status == ImportJob.Status.DONE:
            job = None
        name = file_name or (
            os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else ""
        )
        new_job = ImportJob(office=office, sha256=digest, file_name=name[:200], created_by=by)
        messages = _checked(stream, _Lookups.load())
        try:
            _kind, rows = _expect(next(messages), "size")
            if job is None and rows is not None and rows <= ATOMIC_ROWS:
                return _import_at_once(messages, new_job, office=office, by=by)
            return _import_in_batches(messages, job or new_job, office=office, by=by)
        finally:
            messages.close()
    except LedgerError as exc:
        return ImportResult(ok=False, errors=[LedgerIssue(exc.message)], error_count=1)
    finally:
        if owned:
            stream.close()


def _expect(message: Message, *kinds: str) -> Message:
    if message[0] == "error":
        raise LedgerError(message[1])
    if message[0] not in kinds:
        raise LedgerError(CHECK_FAILED)
    return message


def _import_at_once(
    messages: Iterator[Message], job: ImportJob, *, office: Unit, by: User | None
) -> ImportResult:
    """Write each clean batch as soon as it is checked, all in one transaction."""
    created, clocks = 0, {}
    try:
        with transaction.atomic(), _large_cache():
            job.save()
            for message in messages:
                kind, *payload = _expect(message, "rows", "done")
                if kind == "rows":
                    bulk.register_prepared(office=office, by=by, rows=payload[0], clocks=clocks)
                    created += len(payload[0])
                    continue
                issues, count, total = payload
                if count:
                    raise _Refused(
                        ImportResult(ok=False, errors=issues, error_count=count, total_rows=total)
                    )
            job.total_rows = job.committed_rows = created
            job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
            job.save(update_fields=["total_rows", "committed_rows", "status", "finished_at"])
    except _Refused as refused:
        return refused.result
    return ImportResult(ok=True, total_rows=created, created=created, job=job)


def _import_in_batches(
    messages: Iterator[Message], job: ImportJob, *, office: Unit, by: User | None
) -> ImportResult:
    """Spool the checked batches; when the whole file is clean, commit them one by one."""
    spool = _Spool()
    try:
        for message in messages:
            kind, *payload = _expect(message, "rows", "done")
            if kind == "rows":
                spool.add(payload[0])
                continue
            issues, count, total = payload
            if count:
                return ImportResult(ok=False, errors=issues, error_count=count, total_rows=total)
        if job.pk is None:
            job.total_rows = total
            job.save()
        resumed_from = job.committed_rows
        created = _write_batches(spool, job, office=office, by=by)
        return ImportResult(
            ok=True, total_rows=total, created=created, resumed_from=resumed_from, job=job
        )
    finally:
        spool.close()


# SQLite page cache (KiB, as a negative PRAGMA value) while an import writes: a matter touches
# 11 b-trees (the table and its indexes), which the default 2 MiB cache keeps re-reading.
# Only this connection's cache size changes, and only for the write; durability is untouched.
IMPORT_CACHE_KIB = 131072


@contextmanager
def _large_cache() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _write_batches(spool: _Spool, job: ImportJob, *, office: Unit, by: User | None) -> int:
    """Each batch after the job's last committed one, with the job's progress, in one transaction."""
    skip, done, created, clocks = job.committed_rows, 0, 0, {}
    with _large_cache():
        for batch in spool.batches():
            if done + len(batch) <= skip:
                done += len(batch)
                continue
            rows = batch[max(skip - done, 0) :]
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.committed_rows != done + len(batch) - len(rows):
                    raise LedgerError("该文件正由另一个导入任务处理，请稍后查看结果")
                bulk.register_prepared(office=office, by=by, rows=rows, clocks=clocks)
                ImportJob.objects.filter(pk=job.pk).update(
                    committed_rows=F("committed_rows") + len(rows)
                )
            done += len(batch)
            created += len(rows)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return created
