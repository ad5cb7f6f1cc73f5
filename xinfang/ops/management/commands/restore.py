"""`xinfang restore PATH [--force]`: put a backup back (an empty database only, unless --force)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.ops.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = "从备份文件恢复数据库和附件；目标数据库须为空，否则需加 --force"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="备份文件（xinfang backup 生成的 .tar.gz）")
        parser.add_argument("--force", action="store_true", help="覆盖非空数据库中的全部数据")
        parser.add_argument("--check", action="store_true", help="只校验备份文件，不恢复")

    def handle(self, *args, path: str, force: bool = False, check: bool = False, **options):
        try:
            if check:
                manifest = backup_verify(Path(path))
            else:
                manifest = backup_restore(Path(path), force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        c = manifest["counts"]
        done = "校验通过" if check else "已恢复"
        self.stdout.write(
            f"{done}：{c['matters']} 件事项、{c['events']} 条办理过程、{c['attachments']} 个附件"
            f"（备份时间 {manifest['created_at']}）"
        )
