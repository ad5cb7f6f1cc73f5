"""`xinfang api_token USERNAME [--name N]`: issue a JSON API token; it is printed once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.api.services import api_token_issue
from xinfang.orgs.models import User


class Command(BaseCommand):
    help = "为工作人员签发 JSON API 令牌（只显示一次，系统只保存其 SHA-256 摘要）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="工作人员用户名")
        parser.add_argument("--name", default="", help="令牌用途，如“对接某系统”")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户名为 {username} 的工作人员")
        if not user.is_active:
            raise CommandError(f"工作人员 {username} 已停用")
        token = api_token_issue(user=user, name=name)
        self.stderr.write(f"已为 {user}（{username}）签发令牌。令牌只显示这一次，请妥善保存：")
        self.stdout.write(token)
