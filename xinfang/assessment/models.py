"""考核: the scheme (indicators, weights, deductions and credits), and the assessments computed from it.

A scheme is configuration an administrator changes in the admin. An assessment freezes the scheme
it was computed with (`scheme_snapshot`) and one line per unit with its whole breakdown, so a
published ranking never moves when the scheme or the timeline changes later.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from xinfang.assessment.items import ITEM_CHOICES
from xinfang.orgs.models import Unit
from xinfang.reports.rates import RATES

POINTS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))]
RATE_CHOICES = [(r.name, f"{r.label}（{r.name}）") for r in RATES]


class Scheme(models.Model):
    """One assessment scheme (考核办法). The active one is offered first when computing."""

    name = models.CharField("方案名称", max_length=80)
    description = models.TextField("说明", blank=True)
    active = models.BooleanField("当前使用", default=True)
    urge_response_days = models.PositiveSmallIntegerField(
        "催办响应天数",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="催办后这么多日内事项没有任何办理动作，计为“催办未落实”",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "考核方案"
        ordering = ["-active", "-pk"]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """A rate of `xinfang.reports.rates`, worth `weight` points at 100%."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="indicators")
    rate = models.CharField("指标", max_length=40, choices=RATE_CHOICES)
    weight = models.DecimalField("分值", max_digits=6, decimal_places=2, validators=POINTS)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "考核指标"
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "rate"], name="assessment_indicator_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_rate_display()} {self.weight}分"


class Adjustment(models.Model):
    """Points per counted event (a deduction or a credit, as its item declares), with a cap."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="adjustments")
    item = models.CharField("扣分/加分项", max_length=40, choices=ITEM_CHOICES)
    points = models.DecimalField("每件分值", max_digits=6, decimal_places=2, validators=POINTS)
    cap = models.DecimalField(
        "累计上限",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POINTS,
        help_text="本项最多扣（加）多少分；空为不设上限",
    )
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "扣分与加分项"
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "item"], name="assessment_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()} 每件{self.points}分"


class Assessment(models.Model):
    """One computed assessment of the units under `unit` (all units when empty) for a period."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        REVIEWED = "reviewed", "已复核"
        PUBLISHED = "published", "已发布"

    scheme = models.ForeignKey(
        Scheme, verbose_name="考核方案", on_delete=models.PROTECT, related_name="+"
    )
    scheme_snapshot = models.JSONField("计算时的方案", default=dict)
    unit = models.ForeignKey(
        Unit,
        verbose_name="考核范围",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="该单位及其下级单位；空为全部单位",
    )
    period_start = models.DateField("统计期起")
    period_end = models.DateField("统计期止")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    computed_at = models.DateTimeField("计算时间")
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="计算人", on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    supersedes = models.ForeignKey(
        "self",
        verbose_name="重新计算自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "考核结果"
        ordering = ["-period_end", "-pk"]
        indexes = [models.Index(fields=["status", "-period_end"], name="assessment_status_period")]

    def __str__(self) -> str:
        return f"{self.scope_name} {self.period_start}至{self.period_end} 考核（{self.get_status_display()}）"

    @property
    def scope_name(self) -> str:
        return self.unit.name if self.unit else "全部单位"

    @property
    def frozen(self) -> bool:
        return self.status == self.Status.PUBLISHED


class AssessmentLine(models.Model):
    """One unit's result: scores, counts and the breakdown exactly as computed."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="lines")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    has_data = models.BooleanField("有数据", default=True)
    indicator_score = models.DecimalField(
        "指标得分", max_digits=8, decimal_places=2, default=Decimal(0)
    )
    deductions = models.DecimalField("扣分", max_digits=8, decimal_places=2, default=Decimal(0))
    credits = models.DecimalField("加分", max_digits=8, decimal_places=2, default=Decimal(0))
    total = models.DecimalField("总分", max_digits=8, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField("名次", null=True, blank=True)
    # {"indicators": [{rate, label, weight, numerator, denominator, pct, score}],
    #  "items": [{item, label, sign, count, points, cap, amount}]}
    breakdown = models.JSONField("明细", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "考核结果明细"
        ordering = ["pk"]  # lines are written in ranking order (ranked first, then 无数据)
        constraints = [
            models.UniqueConstraint(fields=["assessment", "unit"], name="assessment_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.total}"
