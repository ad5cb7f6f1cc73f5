"""xinfang import_ledger FILE.xlsx --office CODE [--user USERNAME] [--force]: 台帐导入."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from xinfang.ledger.importing import import_ledger
from xinfang.orgs.models import Unit, User


class Command(BaseCommand):
    help = (
        "导入Excel台帐（.xlsx）：先检查全部行，无误后分批登记；中断后再次导入同一文件会从断点继续"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="台帐文件（.xlsx）")
        parser.add_argument("--office", required=True, help="登记机构的单位代码")
        parser.add_argument("--user", help="登记人用户名（记入办理过程）")
        parser.add_argument("--force", action="store_true", help="已导入过的文件也再次导入")

    def handle(self, *args, file: str, office: str, user: str | None, force: bool, **options):
        unit = Unit.objects.filter(code=office).first()
        if unit is None:
            raise CommandError(f"找不到单位代码为“{office}”的登记机构")
        by = None
        if user:
            by = User.objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"找不到用户“{user}”")
        started = time.perf_counter()
        result = import_ledger(file, office=unit, by=by, force=force)
        if not result.ok:
            for message in result.messages:
                self.stderr.write(message)
            if result.error_count > len(result.errors):
                self.stderr.write(f"……共{result.error_count}处错误，仅列出前{len(result.errors)}处")
            raise CommandError("导入未完成，未写入任何事项" if result.job is None else "导入未执行")
        seconds = time.perf_counter() - started
        resumed = f"（从第{result.resumed_from + 1}件继续）" if result.resumed_from else ""
        self.stdout.write(
            f"导入完成{resumed}：新登记{result.created}件，文件共{result.total_rows}件，用时{seconds:.1f}秒"
        )
