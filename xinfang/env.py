"""Strict, typed readers for settings that come from the environment (环境变量).

Only `xinfang/settings.py` calls them, once at start: a bad value stops the process at boot with a
Chinese `ImproperlyConfigured` message naming the variable, instead of failing later inside a
request or the worker loop. An unset or empty variable takes the default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingError(ImproperlyConfigured, ValueError):
    """A setting in the environment cannot be read (配置错误)."""


def _raw(name: str) -> str | None:
    """The variable's text, or None when it is unset or blank."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def _bad(name: str, expected: str, raw: str) -> SettingError:
    return SettingError(f"配置错误：环境变量 {name} 应为{expected}，实际为 {raw!r}")


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" {minimum} 至 {maximum} 之间的"
    if minimum is not None:
        return f"不小于 {minimum} 的"
    if maximum is not None:
        return f"不大于 {maximum} 的"
    return ""


def _check_range(
    name: str, value: float, raw: str, kind: str, minimum: float | None, maximum: float | None
) -> None:
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _bad(name, f"{_bounds(minimum, maximum)}{kind}", raw)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise _bad(name, "布尔值（true/false、yes/no、on/off、1/0）", raw)


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, f"{_bounds(minimum, maximum)}整数", raw) from None
    _check_range(name, value, raw, "整数", minimum, maximum)
    return value


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _bad(name, f"{_bounds(minimum, maximum)}数字", raw) from None
    if value != value:  # NaN passes every comparison below
        raise _bad(name, "数字", raw)
    _check_range(name, value, raw, "数字", minimum, maximum)
    return value


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    """One word out of `choices` (compared in lower case)."""
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() not in choices:
        raise _bad(name, "以下之一：" + "、".join(sorted(choices)), raw)
    return raw.lower()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_json(name: str, default: dict[str, Any]) -> dict[str, Any]:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingError(f"配置错误：环境变量 {name} 不是有效的 JSON：{exc}") from None
    if not isinstance(value, dict):
        raise _bad(name, "JSON 对象（{...}）", raw)
    return value


def env_url(name: str, default: str = "") -> str:
    """An http(s) address, or empty."""
    raw = _raw(name)
    if raw is None:
        return default
    if not raw.startswith(("http://", "https://")):
        raise _bad(name, "以 http:// 或 https:// 开头的地址", raw)
    return raw


MIN_SECRET_KEY = 50
PROFILES = ("development", "production")


def env_secret_key(name: str, *, production: bool) -> str:
    """The signing key from `name`, "" when unset outside production.

    In production the key must be set, the same on every web and worker process (each host
    making its own would break every session and signed link between them), and strong: at
    least 50 characters, not Django's "django-insecure-" placeholder nor the example's text.
    """
    raw = _raw(name) or ""
    if not production:
        return raw
    hint = (
        "，可用 python3 -c 'import secrets; print(secrets.token_urlsafe(50))' 生成，"
        "并在所有 Web 和后台进程中设置同一个值（见 .env.example）"
    )
    if not raw:
        raise SettingError(
            f"配置错误：生产环境（XINFANG_PROFILE=production）必须设置环境变量 {name}{hint}。"
            "开发或演示环境请设置 XINFANG_PROFILE=development"
        )
    if (
        len(raw) < MIN_SECRET_KEY
        or len(set(raw)) < 5
        or raw.startswith("django-insecure")
        or "change-me" in raw.lower()
    ):
        raise SettingError(
            f"配置错误：环境变量 {name} 太短或是示例值（至少 {MIN_SECRET_KEY} 个随机字符）{hint}"
        )
    return raw


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto: https` (the header a TLS-terminating proxy sets, and its value) as
    Django's SECURE_PROXY_SSL_HEADER ("HTTP_X_FORWARDED_PROTO", "https"); None when unset."""
    raw = _raw(name)
    if raw is None:
        return None
    header, sep, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not sep or not header or not value or not all(c.isalnum() or c in "-_" for c in header):
        raise _bad(name, "“请求头: 值”的形式（如 X-Forwarded-Proto: https）", raw)
    return "HTTP_" + header.upper().replace("-", "_"), value
