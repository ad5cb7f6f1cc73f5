"""`xinfang notify_reminders`: queue due-soon / overdue reminders and the daily digests once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinfang.notify import services


class Command(BaseCommand):
    help = "生成时限提醒（即将到期、已超期，每个时限各一次）和各单位每日汇总（每天一次）"

    def handle(self, *args, **options) -> None:
        reminders = services.queue_reminders()
        digests = services.queue_digests()
        self.stdout.write(f"时限提醒 {reminders} 条，每日汇总 {digests} 条已写入发件箱")
