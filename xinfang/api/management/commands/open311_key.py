"""`xinfang open311_key NAME`: issue an Open311 api_key for an outside system; printed once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.api.services import open311_key_issue


class Command(BaseCommand):
    help = "为接入系统签发 Open311 api_key（只显示一次，系统只保存其 SHA-256 摘要）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="接入系统名称，如“城市服务App”")

    def handle(self, *args, name: str, **options) -> None:
        if not name.strip():
            raise CommandError("请填写接入系统名称")
        key = open311_key_issue(name=name.strip()[:80])
        self.stderr.write(f"已为“{name}”签发 api_key。密钥只显示这一次，请妥善保存：")
        self.stdout.write(key)
