"""`xinfang worker`: the background loop. Makes final the matters whose review window closed,
and keeps the database's planner statistics fresh.

Each pass claims work with conditional updates inside the service functions, so two workers
never finalize the same matter twice.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from xinfang.cases.services import finalize_expired


def refresh_statistics() -> None:
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this itself).

    Without them SQLite may walk a unit's whole index instead of the hits of a search.
    """
    from django.db import connection

    if connection.vendor == "sqlite":  # analysis_limit keeps this well under a second at 1M rows
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = "后台任务：期满终结等（--once 只执行一轮）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="只执行一轮后退出")
        parser.add_argument("--interval", type=int, default=60, help="两轮之间的秒数")

    def handle(self, *args, once: bool = False, interval: int = 60, **options) -> None:
        passes = 0
        while True:
            if passes % 60 == 0:
                refresh_statistics()
            passes += 1
            finalized = finalize_expired()
            if finalized or once:
                self.stdout.write(f"期满终结 {finalized} 件")
            if once:
                return
            time.sleep(interval)
