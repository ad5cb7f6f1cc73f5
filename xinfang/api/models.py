"""Credentials of the open interfaces, and what an Open311 request carries beyond the matter.

Tokens and keys are shown once when they are made; only their SHA-256 digest is kept, so a
copy of the database gives nobody a working credential.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def digest(raw: str) -> str:
    """The SHA-256 hex digest under which a token or key is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret(prefix: str) -> str:
    """A new unguessable credential, e.g. ``xf_…`` (256 bits of randomness)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


class ApiToken(models.Model):
    """接口令牌: a staff member's bearer token for the JSON API. Acts with that member's rights."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField("用途", max_length=80, blank=True)
    token_hash = models.CharField("令牌摘要", max_length=64, unique=True, editable=False)
    created = models.DateTimeField("创建时间", auto_now_add=True)
    last_used = models.DateTimeField("最近使用", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} · {self.name or '令牌'}"

    @classmethod
    def issue(cls, *, user, name: str = "") -> tuple[ApiToken, str]:
        """Make a token for `user`; returns the row and the plain token (shown once)."""
        raw = new_secret("xf")
        return cls.objects.create(user=user, name=name, token_hash=digest(raw)), raw


class Open311Key(models.Model):
    """Open311 api_key of one outside system (e.g. a city app) that may submit requests."""

    name = models.CharField("接入系统", max_length=80)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True, editable=False)
    created = models.DateTimeField("创建时间", auto_now_add=True)
    last_used = models.DateTimeField("最近使用", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 接入密钥"
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, *, name: str) -> tuple[Open311Key, str]:
        raw = new_secret("o311")
        return cls.objects.create(name=name, key_hash=digest(raw)), raw


class Open311Request(models.Model):
    """What an Open311 POST carried besides the matter itself: where, the token, the photo link.

    The matter (信访事项) is registered through the normal register; this row only links it
    to the Open311 side. Contact details of the citizen live on the matter, never here.
    """

    case = models.OneToOneField(
        "cases.Case", verbose_name="事项", on_delete=models.CASCADE, related_name="open311"
    )
    token = models.CharField("受理令牌", max_length=40, unique=True)
    key = models.ForeignKey(
        Open311Key,
        verbose_name="接入系统",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    service_code = models.CharField("服务代码", max_length=20)
    address_string = models.CharField("地址", max_length=250, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    media_url = models.URLField("图片链接", max_length=500, blank=True)
    requested_at = models.DateTimeField("提交时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 诉求"
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return self.token
