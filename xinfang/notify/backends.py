"""Senders for SMS (短信) and e-mail (电子邮件) behind one small interface.

A sender either delivers the message or raises `DeliveryError`; the outbox worker decides what
to do next (retry later, or mark the message failed). Choose the SMS sender with
XINFANG_SMS_BACKEND and the e-mail backend with XINFANG_EMAIL_BACKEND (see `conf`).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.core.mail import EmailMessage, get_connection

from xinfang.notify import conf

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message could not be delivered this time."""


class Sender(Protocol):
    """What every channel's backend offers: send one message or raise DeliveryError."""

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        """`key` is the message's idempotency key: the same on every attempt of one message."""
        ...


class ConsoleSms:
    """Prints each SMS to standard output: the default, for development."""

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        sys.stdout.write(f"[短信] 发送至 {recipient}：{body}\n")
        sys.stdout.flush()


@dataclass
class SentSms:
    recipient: str
    body: str
    key: str = ""


class MemorySms:
    """Keeps messages in `MemorySms.sent` (tests). Set `MemorySms.fail` to make it refuse."""

    sent: list[SentSms] = []
    fail: str = ""
    _lock = threading.Lock()

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        if MemorySms.fail:
            raise DeliveryError(MemorySms.fail)
        with MemorySms._lock:
            MemorySms.sent.append(SentSms(recipient, body, key))

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.fail = ""


class FileSms:
    """Appends one JSON line per message to XINFANG_SMS_FILE (tests across processes, dev):
    {"phone", "text", "id"}, where "id" is the message's idempotency key."""

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        delay = conf.sms_file_delay()
        if delay:
            time.sleep(delay)
        record = {"phone": recipient, "text": body} | ({"id": key} if key else {})
        line = json.dumps(record, ensure_ascii=False)
        try:
            with open(conf.sms_file(), "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
        except OSError as exc:
            raise DeliveryError(f"写入短信文件失败：{exc}") from exc


class HttpSms:
    """POSTs {"phone", "text", "id"} as JSON to an SMS gateway; any non-2xx answer is a failure.

    "id" (also sent as the `Idempotency-Key` header) is the message's idempotency key: a retry
    of one message carries the same key, so a gateway that remembers keys sends it only once."""

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: int | None = None
    ):
        self.url = url if url is not None else conf.sms_gateway_url()
        self.token = token if token is not None else conf.sms_gateway_token()
        self.timeout = timeout if timeout is not None else conf.sms_timeout()
        if not self.url.startswith(("http://", "https://")):
            raise DeliveryError("未配置短信网关地址（XINFANG_SMS_GATEWAY_URL）")

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        payload = {"phone": recipient, "text": body} | ({"id": key} if key else {})
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if key:
            headers["Idempotency-Key"] = key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310 - the scheme is checked http(s) above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only, see above
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"短信网关返回 {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"短信网关无法连接：{exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"短信网关返回 {status}")


class DjangoEmail:
    """E-mail through a Django e-mail backend (SMTP settings come from Django's EMAIL_* settings)."""

    def __init__(self, backend: str | None = None):
        self.backend = backend or conf.email_backend()

    def send(self, *, recipient: str, subject: str, body: str, key: str = "") -> None:
        try:
            connection = get_connection(self.backend, fail_silently=False)
            message = EmailMessage(
                subject or "信访事项通知",
                body,
                conf.email_from(),
                [recipient],
                connection=connection,
                # the same Message-ID on a resend: mail systems and clients drop the duplicate
                headers={"Message-ID": f"<{key}@xinfang>"} if key else None,
            )
            sent = message.send()
        except Exception as exc:  # SMTP errors, refused connections, bad addresses
            raise DeliveryError(f"邮件发送失败：{exc}") from exc
        if not sent:
            raise DeliveryError("邮件发送失败：后端未接受该邮件")


SMS_BACKENDS = {"console": ConsoleSms, "memory": MemorySms, "file": FileSms, "http": HttpSms}


def get_sender(channel: str) -> Sender:
    """The configured sender for "sms" or "email"."""
    if channel == "email":
        return DjangoEmail()
    name = conf.sms_backend()
    try:
        return SMS_BACKENDS[name]()
    except KeyError:
        raise DeliveryError(f"未知的短信后端：{name}（可选 console、http、file、memory）") from None
