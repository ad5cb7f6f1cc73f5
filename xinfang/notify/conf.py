"""Notification settings, read from the environment at the moment they are used.

Reading lazily (not at import) lets a test or a worker change them with the environment.

=============================  ================================================  =====================
variable                       meaning                                           default
=============================  ================================================  =====================
XINFANG_SMS_BACKEND            console | http | file | memory                    console
XINFANG_SMS_GATEWAY_URL        the HTTP SMS gateway (POST JSON {phone, text})    (none)
XINFANG_SMS_GATEWAY_TOKEN      sent as "Authorization: Bearer <token>"           (none)
XINFANG_SMS_TIMEOUT            seconds to wait for the gateway                   10
XINFANG_SMS_FILE               the file backend appends one JSON line here       var/sms-outbox.jsonl
XINFANG_SMS_FILE_DELAY         seconds the file backend waits per message (dev)  0
XINFANG_EMAIL_BACKEND          a Django e-mail backend class path                console backend
XINFANG_EMAIL_FROM             the sender address                                DEFAULT_FROM_EMAIL
XINFANG_NOTIFY_MAX_ATTEMPTS    tries before a message is marked failed           6
XINFANG_NOTIFY_BACKOFF_SECONDS first retry delay; doubles each try               60
XINFANG_NOTIFY_LEASE_SECONDS   how long a claimed message stays with a worker    300
XINFANG_NOTIFY_BATCH           messages claimed per pass                         50
XINFANG_PORTAL_URL             the public portal address printed in messages     http://127.0.0.1:8000/portal/
XINFANG_DIGEST_HOUR            Beijing hour from which the daily digest goes     8
=============================  ================================================  =====================
"""

from __future__ import annotations

from django.conf import settings

from xinfang.env import SettingError, env_int, env_str


def sms_backend() -> str:
    return env_str("XINFANG_SMS_BACKEND", "console").strip().lower()


def sms_gateway_url() -> str:
    return env_str("XINFANG_SMS_GATEWAY_URL", "")


def sms_gateway_token() -> str:
    return env_str("XINFANG_SMS_GATEWAY_TOKEN", "")


def sms_timeout() -> int:
    return env_int("XINFANG_SMS_TIMEOUT", 10)


def sms_file() -> str:
    return env_str("XINFANG_SMS_FILE", str(settings.VAR_DIR / "sms-outbox.jsonl"))


def sms_file_delay() -> float:
    raw = env_str("XINFANG_SMS_FILE_DELAY", "0") or "0"
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingError(f"环境变量 XINFANG_SMS_FILE_DELAY 应为秒数，实际为 {raw!r}") from exc


def email_backend() -> str:
    return env_str("XINFANG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")


def email_from() -> str:
    return env_str("XINFANG_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL


def max_attempts() -> int:
    return max(1, env_int("XINFANG_NOTIFY_MAX_ATTEMPTS", 6))


def backoff_seconds() -> int:
    return max(1, env_int("XINFANG_NOTIFY_BACKOFF_SECONDS", 60))


def lease_seconds() -> int:
    return max(1, env_int("XINFANG_NOTIFY_LEASE_SECONDS", 300))


def batch_size() -> int:
    return max(1, env_int("XINFANG_NOTIFY_BATCH", 50))


def portal_url() -> str:
    return env_str("XINFANG_PORTAL_URL", "http://127.0.0.1:8000/portal/")


def digest_hour() -> int:
    return env_int("XINFANG_DIGEST_HOUR", 8)
