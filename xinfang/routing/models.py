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
