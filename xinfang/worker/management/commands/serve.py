"""`xinfang serve`: the whole system from one command.

Starts, as child processes:

- ``web``: gunicorn with `--workers` processes serving `xinfang.wsgi:application` on
  `--host`:`--port` (XINFANG_HOST, XINFANG_PORT, XINFANG_WEB_WORKERS); static files come from
  WhiteNoise inside the WSGI app, collected into STATIC_ROOT (var/static) at start;
- ``worker``: `xinfang worker`, which sends the SMS and e-mail of the outbox, queues reminders and
  digests, makes matters final, and runs the daily jobs (the backlog scan) once a Beijing day.

Each child's output is printed line by line with its name in front (``[web] ...``).
SIGINT (Ctrl-C) or SIGTERM stops them all together: each gets SIGTERM (gunicorn finishes the
requests in hand, the worker the message in hand), and whatever has not exited after
`STOP_GRACE` seconds is killed. A child that dies on its own is restarted after a pause that
doubles from one second to thirty; one that dies `MAX_RESTARTS` times within a minute stops
the whole service (exit status 1), so a supervisor such as systemd sees the failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE = 20.0  # seconds a child has to exit after SIGTERM
MAX_RESTARTS = 5  # deaths within RESTART_WINDOW that stop the service
RESTART_WINDOW = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    deaths: list[float] = field(default_factory=list)
    restart_at: float = 0.0


class Command(BaseCommand):
    help = "启动整个系统：Web 服务（gunicorn，多进程）和后台任务（发送消息、提醒、每日积案扫描），一起启动、一起停止"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--host", default=None, help="监听地址（默认 XINFANG_HOST 或 127.0.0.1）"
        )
        parser.add_argument(
            "--port", type=int, default=None, help="端口（默认 XINFANG_PORT 或 8000）"
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="Web 进程数（默认 XINFANG_WEB_WORKERS 或 2）"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="不启动后台任务（已另行运行 xinfang worker 时）",
        )
        parser.add_argument("--no-collectstatic", action="store_true", help="启动前不收集静态文件")

    def handle(self, *args, **options) -> None:
        host = options["host"] or settings.XINFANG_HOST
        port = options["port"] or settings.XINFANG_PORT
        workers = options["workers"] or settings.XINFANG_WEB_WORKERS
        if not 1 <= port <= 65535:
            raise CommandError(f"端口 {port} 无效：应为 1 到 65535 之间的整数")
        if not 1 <= workers <= 64:
            raise CommandError(f"Web 进程数 {workers} 无效：应为 1 到 64 之间的整数")
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        children = [Child("web", self._gunicorn(host, port, workers))]
        if not options["no_worker"]:
            children.append(Child("worker", [sys.executable, "-m", "xinfang.cli", "worker"]))
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stopping.set())
        self._say("serve", f"xinfang 已启动：http://{host}:{port}/ （Ctrl-C 停止全部进程）")
        failed = self._supervise(children)
        self._stop(children)
        if failed:
            raise CommandError(f"{failed} 在一分钟内退出 {MAX_RESTARTS} 次，已停止全部进程")

    @staticmethod
    def _gunicorn(host: str, port: int, workers: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "xinfang.wsgi:application",
            f"--bind={host}:{port}",
            f"--workers={workers}",
            "--graceful-timeout=15",
            "--timeout=120",
            "--access-logfile=-",
            "--error-logfile=-",
            "--no-control-socket",  # several instances (tests, sites) on one machine
        ]

    def _supervise(self, children: list[Child]) -> str:
        """Keep the children running until asked to stop. Returns the name of a child that
        died too often (then the service stops), or "" after a stop signal."""
        for child in children:
            self._start(child)
        while not self._stopping.wait(0.2):
            now = time.monotonic()
            for child in children:
                if child.process is None:
                    if now >= child.restart_at:
                        self._start(child)
                    continue
                code = child.process.poll()
                if code is None:
                    continue
                child.process = None
                child.deaths = [t for t in child.deaths if now - t < RESTART_WINDOW] + [now]
                if len(child.deaths) >= MAX_RESTARTS:
                    self._say(
                        "serve", f"{child.name} 一分钟内第 {len(child.deaths)} 次退出，停止全部进程"
                    )
                    return child.name
                pause = min(2 ** (len(child.deaths) - 1), 30)
                child.restart_at = now + pause
                self._say("serve", f"{child.name} 意外退出（退出码 {code}），{pause} 秒后重启")
        return ""

    def _start(self, child: Child) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
        process = child.process = subprocess.Popen(  # noqa: S603 - our own commands with fixed arguments
            child.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # Ctrl-C reaches serve only; serve stops the children
        )
        if process.stdout is not None:
            threading.Thread(
                target=self._relay, args=(child.name, process.stdout), daemon=True
            ).start()
        self._say("serve", f"{child.name} 已启动（进程 {process.pid}）")

    def _relay(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._say(name, raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def _say(self, name: str, text: str) -> None:
        with self._lock:
            self.stdout.write(f"[{name}] {text}")
            self.stdout.flush()

    def _stop(self, children: list[Child]) -> None:
        running = [(c.name, c.process) for c in children if c.process and c.process.poll() is None]
        if running:
            self._say("serve", "正在停止：" + "、".join(name for name, _p in running))
        for _name, process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for name, process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self._say("serve", f"{name} 未在 {STOP_GRACE:.0f} 秒内退出，强制结束")
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        self._say("serve", "已全部停止")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the child's whole process group (gunicorn's master and its web workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
