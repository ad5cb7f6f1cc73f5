"""`xinfang answers load-starter|backfill|calibrate`: the reply knowledge base (答复知识库)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.answers import checks, conf, services


class Command(BaseCommand):
    help = "答复知识库：导入参考答复、补录本机构答复、在参考答复上校准草稿检查"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-starter", help="导入参考答复（重复导入不会重复添加）")
        load.add_argument("--csv", help="CSV 文件（默认 XINFANG_REPLIES_CSV）")
        sub.add_parser("backfill", help="把本应用启用前已答复的事项补录进知识库")
        calibrate = sub.add_parser("calibrate", help="各项检查在真实答复上的通过率（一行 JSON）")
        calibrate.add_argument("--csv", help="CSV 文件（默认 XINFANG_REPLIES_CSV）")

    def handle(self, *args, **options) -> None:
        action = options["action"].replace("-", "_")
        getattr(self, f"do_{action}")(options)

    def _path(self, options) -> Path | None:
        return Path(options["csv"]) if options.get("csv") else conf.replies_csv()

    def do_load_starter(self, options) -> None:
        try:
            result = services.starter_load(self._path(options))
        except services.StarterFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"参考答复：新增 {result.created} 条，更新 {result.updated} 条，"
            f"未变 {result.unchanged} 条，跳过 {result.skipped} 行（无标题或答复）"
        )

    def do_backfill(self, options) -> None:
        done = services.backfill()
        self.stdout.write(f"已补录 {done} 件已答复事项")

    def do_calibrate(self, options) -> None:
        try:
            rows = list(services.read_starter(self._path(options)))
        except services.StarterFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(checks.calibrate(rows), ensure_ascii=False))
