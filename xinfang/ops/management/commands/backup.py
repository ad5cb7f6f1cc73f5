"""`xinfang backup [PATH]`: the database and the attachments in one .tar.gz."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "备份数据库和附件到一个 .tar.gz 文件（默认 var/backups/xinfang-时间.tar.gz）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", help="备份文件路径")

    def handle(self, *args, path: str | None = None, **options) -> None:
        try:
            written, manifest = backup_create(Path(path) if path else None)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        c = manifest["counts"]
        self.stdout.write(
            f"已备份到 {written}：{c['matters']} 件事项、{c['events']} 条办理过程、"
            f"{c['attachments']} 个附件（{len(manifest['files']) - 1} 个文件）"
        )
