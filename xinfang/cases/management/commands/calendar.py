"""`xinfang calendar check|load FILE|recompute`: holiday years the calendar does not know.

- `check` lists each year an open clock (or a matter registered today) may run into that neither
  the holiday library nor an admin's entered notice covers, with the matters concerned; it exits
  with status 1 when there is any, so a cron job can alert.
- `load FILE` reads a year's notice as date ranges (see `calendar.parse_notice`), replaces that
  year's override rows and recomputes the open clocks it touches.
- `recompute` recomputes every open clock on the current calendar (safe to run again).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.cases import holidays
from xinfang.cases.calendar import NoticeError, parse_notice


class Command(BaseCommand):
    help = "节假日年份检查（check）、录入节假日安排（load 文件）、重算进行中的期限（recompute）"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="列出节假日库未包含、期限可能进入的年份")
        load = sub.add_parser("load", help="从文本文件录入一年的节假日安排（放假、调休上班）")
        load.add_argument("file", help="UTF-8 文本文件，每行如：春节 放假 2027-02-06 至 2027-02-14")
        load.add_argument("--title", default="", help="说明（默认取每行的节日名称）")
        sub.add_parser("recompute", help="按当前节假日重算全部进行中的期限（只顺延，不提前）")

    def handle(self, *args, action: str, **options) -> None:
        if action == "check":
            self._check()
        elif action == "load":
            self._load(options["file"], options["title"])
        else:
            changes = holidays.clocks_recompute(days=None)
            self._report(changes)

    def _check(self) -> None:
        result = holidays.calendar_check()
        if result.ok:
            self.stdout.write(
                f"节假日安排齐全：进行中的时限和今天登记的事项（至{result.horizon:%Y-%m-%d}）均不涉及未知年份"
            )
            return
        for gap, line in zip(result.gaps, result.lines(), strict=True):
            self.stdout.write(line)
            for number in gap.numbers:
                self.stdout.write(f"  {number}")
            if gap.clocks > len(gap.numbers):
                self.stdout.write(f"  ……共{gap.clocks}件")
        raise SystemExit(1)

    def _load(self, file: str, title: str) -> None:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取文件{file}：{exc}") from None
        try:
            notice = parse_notice(text, title=title)
        except NoticeError as exc:
            raise CommandError("\n".join(exc.problems)) from None
        result = holidays.notice_load(notice=notice)
        self.stdout.write(result.summary())
        self._report(result.changes)

    def _report(self, changes) -> None:
        for c in changes:
            if c.kept:
                self.stdout.write(
                    f"{c.number} 按新安排为{c.new_day:%Y-%m-%d}，早于已告知的{c.old_day:%Y-%m-%d}，保持不变"
                )
            else:
                self.stdout.write(
                    f"{c.number} 期限由{c.old_day:%Y-%m-%d}顺延至{c.new_day:%Y-%m-%d}"
                )
        self.stdout.write(f"共{sum(not c.kept for c in changes)}个期限顺延")
