"""Who opened the audit viewer (个人信息查看记录的查阅记录): the audit log is itself audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLogAccess(models.Model):
    """One look at (or one export of) the personal-data audit log, with the filters used."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查阅人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    format = models.CharField("方式", max_length=10, default="html")
    rows = models.PositiveIntegerField("记录条数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "查看记录的查阅记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user_id} 查阅查看记录 {self.at:%Y-%m-%d %H:%M}"


class Anonymisation(models.Model):
    """A closed matter whose personal data was removed after the retention period (匿名化)."""

    case = models.OneToOneField(
        "cases.Case", verbose_name="事项", on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField("匿名化时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "已匿名化事项"

    def __str__(self) -> str:
        return f"{self.case_id} 已匿名化"
