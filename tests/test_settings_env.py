"""Settings are read and checked once at start, and every variable the code reads is documented.

A bad value must stop `xinfang` at boot with a Chinese message naming the variable, not fail later
inside a request or the worker loop. Each case starts a fresh interpreter with the variable set.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xinfang import env

ROOT = Path(__file__).resolve().parent.parent
BOOT = """
import sys
import django
from django.core.exceptions import ImproperlyConfigured
try:
    django.setup()
except ImproperlyConfigured as exc:
    sys.exit(f"ImproperlyConfigured: {{exc}}")
from django.conf import settings
print(settings.{name})
"""
# Read by Django itself or by the runtime, never by our code: not ours to document.
NOT_OURS = {"DJANGO_SETTINGS_MODULE"}


def boot(extra: dict[str, str], show: str = "DEBUG") -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ |= {"DJANGO_SETTINGS_MODULE": "xinfang.settings", **extra}
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", BOOT.format(name=show)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("XINFANG_NOTIFY_BATCH", "fifty", "整数"),
        ("XINFANG_NOTIFY_LEASE_SECONDS", "-5", "不小于 1"),
        ("XINFANG_DIGEST_HOUR", "24", "0 至 23"),
        ("DEBUG", "maybe", "布尔值"),
        ("XINFANG_SMS_BACKEND", "pigeon", "console"),
        ("XINFANG_SMS_FILE_DELAY", "soon", "数字"),
        ("XINFANG_SMS_GATEWAY_URL", "sms.example.gov.cn", "http://"),
        ("XINFANG_OPEN311_KINDS", "[1, 2]", "JSON 对象"),
        ("XINFANG_BACKLOG_RULES", '{"open_dayz": 30}', "open_days"),
        ("XINFANG_CLOCKS", "{not json", "JSON"),
        ("LOG_LEVEL", "loud", "warning"),
        ("DATABASE_URL", "mongo://x/y", "DATABASE_URL"),
    ],
)
def test_a_bad_value_stops_the_start_with_a_chinese_message(name, value, words):
    done = boot({name: value})
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last.startswith("ImproperlyConfigured: 配置错误"), last
    assert name in last and words in last, last


def test_good_values_are_typed_and_blank_means_the_default():
    done = boot(
        {"XINFANG_NOTIFY_BATCH": " 7 ", "DEBUG": "Yes", "XINFANG_SMS_FILE_DELAY": ""},
        show="XINFANG_NOTIFY_BATCH, settings.DEBUG, settings.XINFANG_SMS_FILE_DELAY",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["7", "True", "0.0"]


def test_the_readers_say_what_they_expect(monkeypatch):
    monkeypatch.setenv("X_TRIES", "0")
    with pytest.raises(env.SettingError, match=r"X_TRIES 应为不小于 1 的整数，实际为 '0'"):
        env.env_int("X_TRIES", 3, minimum=1)
    monkeypatch.setenv("X_RATIO", "nan")
    with pytest.raises(env.SettingError, match="X_RATIO"):
        env.env_float("X_RATIO", 0.5)
    monkeypatch.setenv("X_MODE", "HTTP")
    assert env.env_choice("X_MODE", "console", ("console", "http")) == "http"
    monkeypatch.delenv("X_TRIES")
    assert env.env_int("X_TRIES", 3, minimum=1) == 3


# ---------------------------------------------------------------- .env.example documents every read

READERS = {"env_str", "env_bool", "env_int", "env_float", "env_choice", "env_list", "env_json"}
READERS |= {"env_url", "getenv", "env_secret_key", "env_proxy_ssl_header"}


def _is_environ(node: ast.AST) -> bool:
    """`os.environ`, the mapping itself."""
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def names_read_in_python(source: str) -> set[str]:
    """Variable names this module reads: env.py's readers, os.getenv, os.environ.get / [...]."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            reads_environ = name == "get" and _is_environ(getattr(func, "value", None))
            if name in READERS or reads_environ:
                found.add(node.args[0].value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_environ(node.value)
            and isinstance(node.slice, ast.Constant)
        ):
            found.add(node.slice.value)
    return {name for name in found if isinstance(name, str)}


def names_read_in_shell(source: str) -> set[str]:
    """`${NAME:-default}` and `${NAME}` in shell scripts and the Makefile's `$${NAME...}`."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)(?::-[^}]*)?\}", source))


def names_read_by_the_code() -> dict[str, str]:
    """Every environment variable the project reads, with the first file that reads it."""
    seen: dict[str, str] = {}
    for folder in ("xinfang", "bench", "tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path.name == "env.py":
                continue
            for name in names_read_in_python(path.read_text()):
                seen.setdefault(name, str(path.relative_to(ROOT)))
    for path in [ROOT / "Makefile", *sorted((ROOT / "scripts").glob("*.sh"))]:
        for name in names_read_in_shell(path.read_text()):
            seen.setdefault(name, str(path.relative_to(ROOT)))
    for name in NOT_OURS | {"X_TRIES", "X_RATIO", "X_MODE"}:  # the made-up names above
        seen.pop(name, None)
    return seen


def names_documented() -> set[str]:
    """`# NAME=value` or `NAME=value` lines of .env.example."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_the_scanner_finds_each_way_of_reading():
    source = (
        'import os\nfrom xinfang.env import env_int\nA = env_int("A_INT", 1)\n'
        'B = os.environ.get("B_GET")\nC = os.environ["C_ITEM"]\nD = os.getenv("D_GET")\n'
        'os.environ["NOT_A_READ"] = "1"\nos.environ.setdefault("ALSO_NOT", "1")\n'
    )
    assert names_read_in_python(source) == {"A_INT", "B_GET", "C_ITEM", "D_GET"}
    assert names_read_in_shell('X="${PG_URL:-postgres://x}" $${DEMO_CASES:-300}') == {
        "PG_URL",
        "DEMO_CASES",
    }


def test_every_variable_read_is_in_env_example():
    missing = {n: f for n, f in names_read_by_the_code().items() if n not in names_documented()}
    assert not missing, f".env.example 缺少这些环境变量的说明：{missing}"


def test_env_example_lists_no_variable_that_nothing_reads():
    stale = names_documented() - set(names_read_by_the_code())
    assert not stale, f".env.example 列出了代码不再读取的环境变量：{sorted(stale)}"


def test_settings_is_the_only_app_module_that_reads_the_environment():
    readers = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "xinfang").rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "env.py"
        and names_read_in_python(path.read_text())
    }
    assert readers == {"xinfang/settings.py"}
