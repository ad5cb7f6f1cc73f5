"""Notification settings: Django settings read from the environment once at start
(xinfang/settings.py, which rejects a bad value at boot). Reading `settings` at call time lets a
test change them with pytest-django's `settings` fixture.

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
XINFANG_NOTIFY_BATCH           messages claimed per batch                        200
XINFANG_PORTAL_URL             the public portal address printed in messages     http://127.0.0.1:8000/portal/
XINFANG_DIGEST_HOUR            Beijing hour from which the daily digest goes     8
=============================  ================================================  =====================
"""

from __future__ import annotations

from django.conf import settings


def sms_backend() -> str:
    return settings.XINFANG_SMS_BACKEND


def sms_gateway_url() -> str:
    return settings.XINFANG_SMS_GATEWAY_URL


def sms_gateway_token() -> str:
    return settings.XINFANG_SMS_GATEWAY_TOKEN


def sms_timeout() -> int:
    return settings.XINFANG_SMS_TIMEOUT


def sms_file() -> str:
    return settings.XINFANG_SMS_FILE


def sms_file_delay() -> float:
    return settings.XINFANG_SMS_FILE_DELAY


def email_backend() -> str:
    return settings.XINFANG_EMAIL_BACKEND


def email_from() -> str:
    return settings.XINFANG_EMAIL_FROM or settings.DEFAULT_FROM_EMAIL


def max_attempts() -> int:
    return settings.XINFANG_NOTIFY_MAX_ATTEMPTS


def backoff_seconds() -> int:
    return settings.XINFANG_NOTIFY_BACKOFF_SECONDS


def lease_seconds() -> int:
    return settings.XINFANG_NOTIFY_LEASE_SECONDS


def batch_size() -> int:
    return settings.XINFANG_NOTIFY_BATCH


def portal_url() -> str:
    return settings.XINFANG_PORTAL_URL


def digest_hour() -> int:
    return settings.XINFANG_DIGEST_HOUR
