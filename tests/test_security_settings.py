"""An unsafe production configuration does not start; files are private; headers are sent.

Issue 12: "var/secret_key, the SQLite database and attachments are created world-readable; a
missing SECRET_KEY with DEBUG=false is not refused (several hosts would each make their own
key); no CSP, no HSTS, secure cookies off by default". Each case below starts a fresh
interpreter with its own environment (and a umask of 022, the usual one), as a host would.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.factories import bj, register
from xinfang import env

ROOT = Path(__file__).resolve().parent.parent
STRONG = secrets.token_urlsafe(50)
# What a host's environment might already hold, removed so each case sets only its own.
OURS = (
    "SECRET_KEY",
    "DEBUG",
    "XINFANG_PROFILE",
    "DATABASE_URL",
    "XINFANG_VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests' conftest in this process
)


def run(code: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in OURS}
    environ |= {"XINFANG_VAR_DIR": str(tmp_path / "var"), "XINFANG_CACHE_DIR": "", **extra}
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        preexec_fn=lambda: os.umask(0o022),
    )


CLI = "import sys; from xinfang.cli import main; sys.argv = ['xinfang', *{args!r}]; main()"
WSGI = "import xinfang.wsgi; print('booted')"


def cli(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return run(CLI.format(args=list(args)), tmp_path, **extra)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------ refusing to start


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({}, "必须设置环境变量 SECRET_KEY"),
        ({"DEBUG": "false"}, "必须设置环境变量 SECRET_KEY"),
        ({"SECRET_KEY": "short-key"}, "太短或是示例值"),
        ({"SECRET_KEY": "django-insecure-" + STRONG}, "太短或是示例值"),
        ({"SECRET_KEY": "change-me-to-50-random-characters" + "x" * 20}, "示例值"),
        ({"SECRET_KEY": STRONG, "DEBUG": "true"}, "不能设置 DEBUG=true"),
    ],
)
def test_the_web_entry_point_refuses_an_unsafe_production_configuration(tmp_path, extra, words):
    booted = run(WSGI, tmp_path, **extra)
    assert booted.returncode != 0
    assert words in booted.stderr, booted.stderr[-2000:]
    assert not (tmp_path / "var" / "secret_key").exists()  # no host makes its own key


def test_xinfang_serve_is_production_too(tmp_path):
    served = cli(tmp_path, "serve", "--help")
    assert served.returncode != 0 and "必须设置环境变量 SECRET_KEY" in served.stderr


def test_a_strong_key_starts_production_and_development_needs_none(tmp_path):
    assert run(WSGI, tmp_path, SECRET_KEY=STRONG, ALLOWED_HOSTS="x.gov.cn").returncode == 0
    dev = run(WSGI, tmp_path, XINFANG_PROFILE="development")
    assert dev.returncode == 0, dev.stderr[-2000:]
    assert mode(tmp_path / "var" / "secret_key") == 0o600


def test_make_run_keeps_working_with_no_environment(tmp_path):
    """`make run` runs `xinfang serve` in the development profile (the Makefile says so), and
    every other command is development by default."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")  # a recipe's lines joined
    serve = [line for line in makefile.splitlines() if "xinfang serve" in line]
    assert serve and all(
        "XINFANG_PROFILE=$${XINFANG_PROFILE:-development}" in line for line in serve
    )
    assert cli(tmp_path, "check").returncode == 0


# ------------------------------------------------------------------ file modes


def test_the_key_the_database_and_var_are_this_users_only(tmp_path):
    created = cli(
        tmp_path,
        "shell",
        "-c",
        "from django.db import connection; connection.ensure_connection();"
        "connection.cursor().execute('create table t (x)')",
    )
    assert created.returncode == 0, created.stderr[-2000:]
    var = tmp_path / "var"
    assert mode(var) == 0o700
    assert mode(var / "secret_key") == 0o600
    assert mode(var / "xinfang.sqlite3") == 0o600


def test_an_old_world_readable_key_is_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_text(STRONG)
    (var / "secret_key").chmod(0o644)
    assert cli(tmp_path, "check").returncode == 0
    assert mode(var / "secret_key") == 0o600


def test_attachments_and_their_folders_are_private(county, people, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    old = os.umask(0o022)
    try:
        case = register(
            county,
            people.clerk,
            bj(2026, 3, 2, 9),
            attachments=[SimpleUploadedFile("证据.pdf", b"%PDF-1.4 x")],
        )
    finally:
        os.umask(old)
    stored = Path(case.attachments.get().file.path)
    assert mode(stored) == 0o600
    folder = stored.parent
    while folder != tmp_path:
        assert mode(folder) == 0o700, folder
        folder = folder.parent


# ------------------------------------------------------------------ deploy checks, headers


def test_check_deploy_is_clean_in_the_production_profile(tmp_path):
    checked = cli(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        XINFANG_PROFILE="production",
        SECRET_KEY=STRONG,
        ALLOWED_HOSTS="xinfang.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://xinfang.example.gov.cn",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_the_proxy_header_setting_is_read_strictly(monkeypatch):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    assert env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "https")
    with pytest.raises(env.SettingError, match="X-Forwarded-Proto: https"):
        env.env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")


def test_every_page_sends_a_csp_without_inline_scripts_and_a_referrer_policy(client, db):
    response = client.get("/portal/")
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_SSL_REDIRECT=True)
def test_hsts_on_https_and_a_redirect_from_http(client, db):
    assert "Strict-Transport-Security" not in client.get("/portal/", secure=False)
    assert client.get("/portal/", secure=False).status_code == 301
    secure = client.get("/portal/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


TEMPLATES = sorted((ROOT / "xinfang").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_has_an_inline_script_or_an_event_handler_attribute():
    found = [
        (str(path.relative_to(ROOT)), what)
        for path in TEMPLATES
        for what, pattern in (("<script>", INLINE_SCRIPT), ("on…=", HANDLER))
        if pattern.search(path.read_text())
    ]
    assert TEMPLATES and not found, found
