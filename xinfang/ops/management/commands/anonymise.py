"""`xinfang anonymise`: remove personal data from closed matters past XINFANG_RETENTION_YEARS."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from xinfang.ops.audit import purge_expired_audit
from xinfang.ops.retention import anonymise_expired


class Command(BaseCommand):
    help = "匿名化办结满 XINFANG_RETENTION_YEARS 年的事项，并删除超过保存期限的个人信息查看记录（每日一次）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=100_000, help="本次最多匿名化的事项数")

    def handle(self, *args, limit: int = 100_000, **options) -> None:
        years = settings.XINFANG_RETENTION_YEARS
        done = anonymise_expired(limit=limit) if years else 0
        purged = purge_expired_audit()
        rule = f"办结满 {years} 年" if years else "未设置 XINFANG_RETENTION_YEARS，不匿名化"
        self.stdout.write(f"已匿名化 {done} 件事项（{rule}）；删除过期查看记录 {purged} 条")
