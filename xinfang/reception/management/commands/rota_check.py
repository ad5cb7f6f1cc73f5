"""`xinfang rota_check`: print the working days ahead on which no leader receives (接访空档).

The notify app offers no staff-message function yet (no `queue_staff_message`), so the
warnings are printed only; a cron job can mail the output.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xinfang.reception import conf, selectors


class Command(BaseCommand):
    help = "检查接访排班：列出今后若干个工作日中无人接访的日期"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="检查今后多少个工作日（默认取 XINFANG_ROTA_WARN_DAYS）",
        )
        parser.add_argument("--office", default="", help="只检查该信访机构（单位代码）")

    def handle(self, *args, days: int | None, office: str, **options) -> None:
        days = conf.rota_warn_days() if days is None else days
        warnings = [
            w
            for w in selectors.all_rota_warnings(days=days)
            if not office or w.office.code == office
        ]
        for w in warnings:
            self.stdout.write(f"{w.office.code} {w.office.name} {w.date:%Y-%m-%d} {w.reason}")
        if warnings:
            self.stdout.write(f"共 {len(warnings)} 个工作日无人接访")
        else:
            self.stdout.write(f"今后 {days} 个工作日接访均已安排")
