"""`xinfang backlog_scan`: flag matters that the rules make backlog cases; snapshot the month."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinfang.backlog.flagging import backlog_scan
from xinfang.backlog.models import RuleKind


class Command(BaseCommand):
    help = "按积案认定规则扫描信访事项，认定积案（可重复运行，不会重复认定），并记录本月积案快照"

    def handle(self, *args, **options) -> None:
        result = backlog_scan()
        labels = dict(RuleKind.choices)
        for kind, count in result.flagged.items():
            self.stdout.write(f"  {labels.get(kind, kind)}：新认定 {count} 件")
        self.stdout.write(self.style.SUCCESS(f"扫描完成：新认定积案 {result.total} 件"))
