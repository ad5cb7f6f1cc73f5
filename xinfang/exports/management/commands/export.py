"""`xinfang export run`: run the queued export jobs now (the worker also runs them, one a pass);
`--loop` keeps running them, for an office that runs exports apart from `xinfang worker`
(XINFANG_WORKER_EXPORTS=false), so a long export never holds up reminders and messages."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from xinfang.exports import services
from xinfang.exports.models import ExportJob
from xinfang.notify.services import worker_name


class Command(BaseCommand):
    help = "大批量导出：run 执行排队中的导出任务（--job 只执行一个；--loop 常驻运行）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["run"], help="run：执行排队中的导出任务")
        parser.add_argument("--job", type=int, help="只执行该编号的任务")
        parser.add_argument("--limit", type=int, default=100, help="每轮最多执行几个任务")
        parser.add_argument(
            "--loop", action="store_true", help="常驻运行，每轮之间等待 --interval 秒"
        )
        parser.add_argument("--interval", type=float, default=5, help="两轮之间的秒数")

    def handle(
        self,
        *args,
        job: int | None = None,
        limit: int = 100,
        loop: bool = False,
        interval: float = 5,
        **options,
    ) -> None:
        worker = worker_name()
        if job is not None:
            found = ExportJob.objects.filter(pk=job).select_related("owner").first()
            if found is None:
                raise CommandError(f"没有编号为 {job} 的导出任务")
            services.requeue_stale()
            done = services.export_run(found, worker=worker)
            self.stdout.write(
                f"任务 {done.pk}：{done.get_status_display()}，{done.rows_done} 行 {done.error}"
            )
            return
        while True:
            ran = services.run_pending(worker, limit=limit)
            if ran or not loop:
                self.stdout.write(f"执行导出任务 {ran} 个")
                self.stdout.flush()
            if not loop:
                return
            time.sleep(interval)
