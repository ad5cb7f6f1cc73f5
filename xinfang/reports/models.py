"""Configuration of the measurements: the 12345 scoring rules an administrator may change."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

_SHARE = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class RateConfig(models.Model):
    """The 12345 three-rate rules (三率考核规则). One row; the defaults are the published ones:
    基本满意 counts 0.9 of 满意; the composite weighs 响应率 0.1, 解决率 0.5, 满意率 0.4."""

    basically_weight = models.DecimalField(
        "基本满意折算系数", max_digits=4, decimal_places=3, default=Decimal("0.9"), validators=_SHARE,
        help_text="12345 满意率中一件“基本满意”折算为多少件“满意”（默认 0.9）",
    )
    response_weight = models.DecimalField(
        "响应率权重", max_digits=4, decimal_places=3, default=Decimal("0.1"), validators=_SHARE
    )
    resolution_weight = models.DecimalField(
        "解决率权重", max_digits=4, decimal_places=3, default=Decimal("0.5"), validators=_SHARE
    )
    satisfaction_weight = models.DecimalField(
        "满意率权重", max_digits=4, decimal_places=3, default=Decimal("0.4"), validators=_SHARE
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "12345 三率考核规则"

    def __str__(self) -> str:
        return (f"基本满意×{self.basically_weight}；权重 {self.response_weight}/"
                f"{self.resolution_weight}/{self.satisfaction_weight}")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        total = (self.response_weight or 0) + (self.resolution_weight or 0) + (self.satisfaction_weight or 0)
        if total != Decimal("1"):
            raise ValidationError(f"三项权重之和应为 1（现为 {total}）")

    @classmethod
    def current(cls) -> RateConfig:
        """The one configuration row (created with the defaults when missing)."""
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()
