"""xinfang export_ledger OUT.xlsx --user USERNAME [filters]: 台帐导出."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases import access
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Kind, State
from xinfang.cases.selectors import overdue_cases
from xinfang.ledger.exporting import export_cases
from xinfang.orgs.models import User


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期“{value}”格式不正确，应为 2026-03-01") from exc
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL)


class Command(BaseCommand):
    help = "导出该用户可见的事项为Excel台帐（.xlsx）"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件（.xlsx）")
        parser.add_argument("--user", required=True, help="以该用户的权限导出")
        parser.add_argument("--state", choices=State.values, help="只导出该状态")
        parser.add_argument("--kind", choices=Kind.values, help="只导出该事项类型")
        parser.add_argument("--since", help="登记日期不早于（2026-03-01）")
        parser.add_argument("--until", help="登记日期不晚于（2026-03-31）")
        parser.add_argument("--overdue", action="store_true", help="只导出已超期的事项")

    def handle(self, *args, out: str, user: str, state, kind, since, until, overdue, **options):
        by = User.objects.filter(username=user).first()
        if by is None:
            raise CommandError(f"找不到用户“{user}”")
        qs = access.visible_cases(by)
        if state:
            qs = qs.filter(state=state)
        if kind:
            qs = qs.filter(kind=kind)
        if since:
            qs = qs.filter(registered_at__gte=_date(since))
        if until:
            qs = qs.filter(registered_at__lt=_date(until) + dt.timedelta(days=1))
        if overdue:
            qs = overdue_cases(qs)
        count = export_cases(qs.order_by("-registered_at", "-id"), out, user=by)
        self.stdout.write(f"已导出{count}件事项到 {out}")
