"""What the router suggested for a matter and what the clerk chose (for retraining and the report)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.models import Case
from xinfang.orgs.models import Category, Unit


class RoutingSuggestion(models.Model):
    """智能分派建议记录: the top three shown on a matter, and the clerk's choice.

    Created when the suggestions are first shown on the matter's page; completed when the
    clerk takes one with a click and/or when the matter is routed (转送/交办).
    `taken_top1`: the chosen category is the first suggestion; `taken_top3`: it is one of the three.
    """

    case = models.ForeignKey(Case, verbose_name="事项", on_delete=models.CASCADE, related_name="+")
    model_version = models.CharField("模型版本", max_length=60)
    suggestions = models.JSONField(
        "建议", default=list, help_text="[{label, confidence, category_id, unit_id}]，按置信度排序"
    )
    shown_at = models.DateTimeField("展示时间")
    clicked_label = models.CharField("点选的建议", max_length=60, blank=True)
    chosen_label = models.CharField("最终一级分类", max_length=60, blank=True)
    chosen_category = models.ForeignKey(
        Category,
        verbose_name="选定分类",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    chosen_unit = models.ForeignKey(
        Unit,
        verbose_name="选定单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    taken_top1 = models.BooleanField("采纳首选建议", default=False)
    taken_top3 = models.BooleanField("采纳前三建议之一", default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="选择人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("选择时间", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "智能分派建议"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "model_version"], name="routing_suggestion_once"
            ),
        ]

    def __str__(self) -> str:
        top = self.suggestions[0]["label"] if self.suggestions else "—"
        return f"{self.case_id}: {top} → {self.chosen_label or '未选'}"

    @property
    def top_labels(self) -> list[str]:
        return [s["label"] for s in self.suggestions]


class AutoRoute(models.Model):
    """智能派单记录: one automatic route at registration, and how it turned out.

    Written by routing's reactions: created on the 转送/交办 event marked `auto`; `wrong` when
    the office undoes it (撤回智能派单) or the unit objects (异议退回), whereupon a clerk
    routes the matter again (`rerouted_unit`); `right` when the matter moves on from the
    unit (受理, 不予受理, 不再受理, 并单). Pending otherwise. The monthly report and the
    self-pause read these rows, never the timeline.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "待确认"
        RIGHT = "right", "正确"
        WRONG = "wrong", "错误"

    case = models.ForeignKey(Case, verbose_name="事项", on_delete=models.CASCADE, related_name="+")
    routed_at = models.DateTimeField("派单时间", db_index=True)
    model_version = models.CharField("模型版本", max_length=60)
    label = models.CharField("一级分类", max_length=60)
    confidence = models.FloatField("置信度")
    unit = models.ForeignKey(
        Unit, verbose_name="派往单位", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    outcome = models.CharField(
        "结果", max_length=8, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_event = models.CharField("结果事件", max_length=40, blank=True)
    decided_at = models.DateTimeField("确认时间", null=True, blank=True, db_index=True)
    rerouted_unit = models.ForeignKey(
        Unit,
        verbose_name="改派单位",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "智能派单记录"

    def __str__(self) -> str:
        return f"{self.case_id}: {self.label} → {self.get_outcome_display()}"


class AutoRouting(models.Model):
    """智能派单状态: one row (pk=1). Paused by itself when the precision measured in practice
    falls below the model's target (`routing.auto.check_precision`), with the reason in
    Chinese; an administrator resumes it. No row: running."""

    paused_at = models.DateTimeField("暂停时间", null=True, blank=True)
    reason = models.CharField("暂停原因", max_length=200, blank=True)
    resumed_at = models.DateTimeField("恢复时间", null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="恢复人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "智能派单状态"

    def __str__(self) -> str:
        return f"已暂停：{self.reason}" if self.paused_at else "运行中"

    @property
    def paused(self) -> bool:
        return self.paused_at is not None
