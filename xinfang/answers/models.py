"""答复知识库: past replies (the office's own, and starter ones from a public data set), each
with the message it answered (masked), its unit, outcome, date and the draft checks' results."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from xinfang.cases.models import Case
from xinfang.orgs.models import Unit


class Source(models.TextChoices):
    OFFICE = "office", "本机构答复"
    STARTER = "starter", "参考答复"


class ReplyEntry(models.Model):
    """One past reply and the message it answered (答复知识条目).

    Office entries are written when a matter is replied (the `answers` reaction), one per
    matter; starter entries by `xinfang answers load-starter`, keyed by the file's id. Texts are
    stored masked (ID and phone numbers, the petitioner's name): the knowledge base is shown to
    units that are not the matter's, so no personal data enters it.
    """

    source = models.CharField("来源", max_length=10, choices=Source.choices)
    external_id = models.CharField("外部编号", max_length=40, blank=True)
    case = models.OneToOneField(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField("来信标题", max_length=200)
    message = models.TextField("来信内容")
    reply = models.TextField("答复内容")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    unit_name = models.CharField("答复单位", max_length=100, blank=True)
    outcome = models.CharField("处理结果", max_length=20, blank=True)
    asked_at = models.DateTimeField("来信时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    on_time = models.BooleanField("按期答复", null=True, blank=True)
    relevant = models.BooleanField("切题", default=False)
    outcome_time = models.BooleanField("写明结果与时限", default=False)
    policy = models.BooleanField("写明政策依据", default=False)
    similarity = models.FloatField("与来信相似度", default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "答复知识条目"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(source="starter"),
                name="answers_starter_unique",
            )
        ]
        indexes = [
            # the monthly report: the office's replies of a month, per unit
            models.Index(fields=["replied_at", "unit"], name="answers_replied"),
            # the in-memory index's freshness check reads max(updated_at) from here
            models.Index(fields=["updated_at"], name="answers_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}：{self.title[:20]}"
