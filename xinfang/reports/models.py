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
        "基本满意折算系数",
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.9"),
        validators=_SHARE,
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
        return (
            f"基本满意×{self.basically_weight}；权重 {self.response_weight}/"
            f"{self.resolution_weight}/{self.satisfaction_weight}"
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        total = (
            (self.response_weight or 0)
            + (self.resolution_weight or 0)
            + (self.satisfaction_weight or 0)
        )
        if total != Decimal("1"):
            raise ValidationError(f"三项权重之和应为 1（现为 {total}）")

    @classmethod
    def current(cls) -> RateConfig:
        """The one configuration row, or the published defaults (unsaved) when no one has
        changed them: reading the rates writes nothing."""
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls()


class RateFact(models.Model):
    """One counted row of one rate (a row of its denominator), as the declarations in `rates.py`
    define it: the rollup's memory of what it counted for each matter, so that a change to one
    matter recounts that matter only (统计明细). `hit`: 0 not in the numerator, 1 in it; for the
    weighted 12345 满意率, 1 满意 and 2 基本满意."""

    # No foreign-key constraint: the rollup is derived data, rebuilt from the event log, and a
    # constraint would only slow the bulk rebuild down.
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    rate = models.CharField(max_length=32)
    at = models.DateTimeField()
    day = models.DateField()  # Beijing date of `at`: a period is whole Beijing days
    unit_id = models.IntegerField(null=True)  # the unit the row is counted for
    place_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    channel = models.CharField(max_length=16, blank=True)
    hit = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["rate", "day", "unit_id"], name="ratefact_rate_day"),
            models.Index(fields=["case"], name="ratefact_case"),
        ]

    def __str__(self) -> str:
        return f"{self.rate} {self.day} 单位{self.unit_id} 事项{self.case_id}"


class RateCell(models.Model):
    """Per Beijing day, rate and unit: how many rows (denominator), how many counted (numerator)
    and, for the weighted 满意率, how many 基本满意. Recounted from `RateFact` for every day a
    refresh touched, so a cell always equals the facts (and the facts the event log)."""

    day = models.DateField()
    rate = models.CharField(max_length=32)
    unit_id = models.IntegerField(null=True)
    numerator = models.IntegerField(default=0)
    basically = models.IntegerField(default=0)
    denominator = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "rate", "unit_id"], name="ratecell_day")]

    def __str__(self) -> str:
        return f"{self.rate} {self.day} 单位{self.unit_id}: {self.numerator}/{self.denominator}"


class RollupState(models.Model):
    """Where the rollup stands: the last timeline event it has counted, and when."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    backlog_signature = models.CharField(
        max_length=200, blank=True
    )  # see rollup._backlog_signature

    def __str__(self) -> str:
        return f"统计汇总至事件 {self.last_event_id}（{self.refreshed_at}）"
