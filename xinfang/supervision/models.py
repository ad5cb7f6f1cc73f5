"""督查督办: supervision orders (督办单) and co-handlers' opinions (协办意见).

A supervision order names a matter, the unit supervised, what the supervisor requires and a
feedback deadline (24:00 of a working day). The unit answers in writing (反馈); a late answer is
escalated once by the worker; the supervisor closes it (办结) or sends it back (退回重办).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from xinfang.orgs.models import Unit


class SupervisionOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待反馈"
        ANSWERED = "answered", "已反馈"
        CLOSED = "closed", "已办结"

    case = models.ForeignKey(
        "cases.Case", verbose_name="督办事项", on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="被督办单位", on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督办人", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("督办时间")
    requirements = models.TextField("督办要求")
    # 24:00 of the last day (Beijing); a date on a rest day moves to the next working day.
    deadline = models.DateTimeField("反馈期限")
    deadline_note = models.CharField("期限说明", max_length=80, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    feedback = models.TextField("反馈情况", blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="反馈人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    # Set once by the worker when the deadline passed without feedback (逾期未反馈，已升级).
    escalated_at = models.DateTimeField("逾期升级时间", null=True, blank=True)
    redo_count = models.PositiveSmallIntegerField("退回重办次数", default=0)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办结人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    close_note = models.TextField("办结意见", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "督办单"
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="supervision_unit_status"),
            models.Index(fields=["case"], name="supervision_case"),
            # the worker's sweep: open orders past their deadline not yet escalated
            models.Index(
                fields=["deadline"],
                name="supervision_due",
                condition=Q(status="open", escalated_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"督办单 {self.pk}"

    @property
    def late(self) -> bool:
        """Escalated for missing its deadline (the answer, if any, came late)."""
        return self.escalated_at is not None


class CoHandlerOpinion(models.Model):
    """A co-handling unit's opinion or result for the lead unit (协办意见)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name="协办单位", on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("填报时间")
    text = models.TextField("协办意见")

    class Meta:
        verbose_name = verbose_name_plural = "协办意见"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "unit"], name="cohandler_opinion_case")]

    def __str__(self) -> str:
        return f"协办意见 {self.case_id}/{self.unit_id}"
