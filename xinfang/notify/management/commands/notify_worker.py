"""`xinfang notify_worker`: delivers the outbox, and queues staff reminders and digests.

Each pass claims due messages with a conditional update and a lease (most urgent first), sends
them, and marks them sent or schedules a retry with exponential backoff; it goes on batch after
batch while messages are due, and sleeps `--interval` only when the queue is empty. A worker
killed mid-pass loses nothing: its claimed messages are taken up again when their lease runs
out (see xinfang/notify/delivery.py for what is guaranteed).
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

    def handle(
        self, *args, once: bool = False, interval: float = 5, no_reminders: bool = False, **options
    ) -> None:
        worker = services.worker_name()
        while True:
            done = services.run_pass(
                worker, reminders=not no_reminders, seconds=None if once else max(interval, 1)
            )
            if once or done:
                self.stdout.write(str(done))
                self.stdout.flush()
            if once:
                return
            if not done.delivered:  # no pause while messages are due
                time.sleep(interval)
