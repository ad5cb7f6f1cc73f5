"""`xinfang worker`: the one background process a deployment needs.

Each pass: makes final the matters whose review window closed unused, queues staff reminders
and daily digests, delivers the notification outbox, (every five minutes) computes this month's
hot-issue page and each supervisor's default dashboard into the shared cache, and (hourly) refreshes the database's planner statistics. Work is claimed with conditional updates, so two workers never do the
same thing twice, and a killed worker loses nothing (claimed messages return after a lease).
`xinfang notify_worker` runs only the delivery part, for offices that scale it separately.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from xinfang.cases.services import finalize_expired
from xinfang.exports import services as exports
from xinfang.notify import services as notify
from xinfang.reports import panels, rollup
from xinfang.routing import selectors as routing
from xinfang.supervision import services as supervision
from xinfang.worker.maintenance import refresh_statistics

STATISTICS_EVERY = 720  # passes: hourly at the default 5-second interval
HOT_EVERY = 60  # passes: every five minutes, inside the hot page's ten-minute cache life


class Command(BaseCommand):
    help = "后台任务：期满终结、时限提醒与每日汇总、发送短信邮件（--once 只执行一轮）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="只执行一轮后退出")
        parser.add_argument("--interval", type=float, default=5, help="两轮之间的秒数")

    def handle(self, *args, once: bool = False, interval: float = 5, **options) -> None:
        worker = notify.worker_name()
        passes = 0
        while True:
            if passes % STATISTICS_EVERY == 0:
                refresh_statistics()
            if passes % HOT_EVERY == 0:
                routing.refresh_hot()
                panels.refresh_dashboards()  # each supervisor's default 统计看板
            passes += 1
            finalized = finalize_expired()
            escalated = supervision.escalate_overdue()  # 督办单 past their deadline (逾期升级)
            rollup.refresh()  # the rates' counted rows and day cells (xinfang/reports/rollup.py)
            done = notify.run_pass(worker)
            exported = (
                exports.run_pending(worker) if settings.XINFANG_WORKER_EXPORTS else 0
            )  # one a pass
            if once or finalized or escalated or done or exported:
                self.stdout.write(
                    f"期满终结 {finalized} 件；督办逾期 {escalated} 件；导出 {exported} 个；{done}"
                )
                self.stdout.flush()
            if once:
                return
            time.sleep(interval)
