"""`xinfang worker`: the one background process a deployment needs.

Every `--interval` seconds (a "pass"): the daily jobs not yet run today (the backlog scan, see
xinfang/worker/daily.py; the weekly retrain runs in a thread of its own and the passes go on
meanwhile, `--once` runs it in line), makes final the matters whose review window closed unused, escalates
overdue supervision, refreshes the rates' rollup, queues staff reminders and daily digests, runs
one queued export, (every five minutes) computes this month's hot-issue page and each
supervisor's default dashboard into the shared cache, and (hourly) refreshes the database's
planner statistics. About every second, on SQLite, it merges the search index's segments and checkpoints the
write-ahead log, so that the web's commits seldom wait for either (`worker.maintenance`).

Between passes it delivers the outbox: batch after batch while messages are due, with no pause,
and when the queue is empty it looks again every `--poll` seconds. Messages go most urgent
first (the portal's receipt, then staff reminders and digests, then step messages, then bulk).
Work is claimed with conditional updates (and `SKIP LOCKED` on PostgreSQL), so several workers
never do the same thing twice, and a killed worker loses nothing (claimed messages return after
a lease). `xinfang notify_worker` runs only the delivery part, for offices that scale it
separately.

SIGTERM or SIGINT stops it cleanly: the message being sent is finished and marked, the rest of
its batch goes back to the queue at once, a daily job still running in the background is given
back (the next worker takes it up at once), and the process exits after the step it is in.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from xinfang.cases.services import finalize_expired
from xinfang.exports import services as exports
from xinfang.notify import delivery
from xinfang.notify import services as notify
from xinfang.reports import panels, rollup
from xinfang.routing import selectors as routing
from xinfang.supervision import services as supervision
from xinfang.worker import daily
from xinfang.worker.maintenance import checkpoint_wal, merge_search_index, refresh_statistics

STATISTICS_SECONDS = 3600  # hourly
HOT_SECONDS = 300  # every five minutes, inside the hot page's ten-minute cache life
CHECKPOINT_SECONDS = 1.0  # SQLite's log: short enough that a request's commit seldom copies it


class Command(BaseCommand):
    help = "后台任务：每日积案扫描、期满终结、时限提醒与每日汇总、发送短信邮件（--once 只执行一轮）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="只执行一轮（并发完到期消息）后退出"
        )
        parser.add_argument("--interval", type=float, default=5, help="两轮之间的秒数")
        parser.add_argument(
            "--poll", type=float, default=1, help="发件箱为空时，每隔几秒查看一次新消息"
        )

    def handle(
        self, *args, once: bool = False, interval: float = 5, poll: float = 1, **options
    ) -> None:
        worker = notify.worker_name()
        stop = delivery.STOP
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        last_statistics = last_hot = last_checkpoint = next_pass = float("-inf")
        while not stop.is_set():
            started = time.monotonic()
            if started - last_checkpoint >= CHECKPOINT_SECONDS:
                merge_search_index()
                checkpoint_wal()
                last_checkpoint = started
            if started >= next_pass:
                next_pass = started + interval
                if started - last_statistics >= STATISTICS_SECONDS:
                    refresh_statistics()
                    last_statistics = started
                if started - last_hot >= HOT_SECONDS:
                    routing.refresh_hot()
                    panels.refresh_dashboards()  # each supervisor's default 统计看板
                    last_hot = started
                self._pass(worker, once=once, seconds=None if once else interval)
                if once:
                    return
                continue
            # between passes: deliver while messages are due, look again every `poll` seconds
            left = next_pass - time.monotonic()
            delivered = notify.drain(worker=worker, seconds=max(left, 0.1))
            if delivered:
                self._say(str(notify.PassDone(0, 0, delivered)))
            else:
                stop.wait(max(min(poll, next_pass - time.monotonic()), 0))
        released = daily.release_running()
        if released:
            self._say(f"未完成的每日任务 {'、'.join(released)} 已交回，下次启动后台任务时重新执行")
        self._say("后台任务已停止")

    def _pass(self, worker: str, *, once: bool, seconds: float | None) -> None:
        for said in daily.run_due(background=not once):  # a slow job must not hold the pass
            self._say(said)
        finalized = finalize_expired()
        escalated = supervision.escalate_overdue()  # 督办单 past their deadline (逾期升级)
        rollup.refresh()  # the rates' counted rows and day cells (xinfang/reports/rollup.py)
        done = notify.run_pass(worker, seconds=seconds)
        exported = (
            exports.run_pending(worker) if settings.XINFANG_WORKER_EXPORTS else 0
        )  # one a pass
        if once or finalized or escalated or done or exported:
            self._say(
                f"期满终结 {finalized} 件；督办逾期 {escalated} 件；导出 {exported} 个；{done}"
            )

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
