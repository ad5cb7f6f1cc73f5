"""`xinfang notify_worker`: delivers the outbox, and queues staff reminders and digests.

Each pass claims due messages with a conditional update and a lease, sends them, and marks
them sent or schedules a retry with exponential backoff. A worker killed mid-pass loses
nothing: its claimed messages are taken up again when their lease runs out.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from xinfang.notify import services


class Command(BaseCommand):
    help = "发送消息发件箱中的短信和邮件，并生成时限提醒和每日汇总（--once 只执行一轮）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="只执行一轮后退出")
        parser.add_argument("--interval", type=float, default=5, help="两轮之间的秒数")
        parser.add_argument("--no-reminders", action="store_true", help="不生成时限提醒和每日汇总")

    def handle(self, *args, once: bool = False, interval: float = 5, no_reminders: bool = False,
               **options) -> None:
        worker = services.worker_name()
        while True:
            reminders = digests = 0
            if not no_reminders:
                reminders = services.queue_reminders()
                digests = services.queue_digests()
            counts = services.deliver_due(worker=worker)
            if once or counts or reminders or digests:
                self.stdout.write(
                    f"提醒 {reminders} 条，汇总 {digests} 条；已发送 {counts.get('sent', 0)} 条，"
                    f"待重试 {counts.get('pending', 0)} 条，失败 {counts.get('failed', 0)} 条"
                )
                self.stdout.flush()
            if once:
                return
            time.sleep(interval)
