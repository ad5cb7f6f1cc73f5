"""What the worker records for itself: the daily jobs it has run (one row a job a Beijing day)."""

from __future__ import annotations

from django.db import models


class DailyRun(models.Model):
    """A daily job (每日任务) taken by one worker for one Beijing day. The unique row is the claim:
    with several workers, the first to insert it runs the job; the others skip it."""

    job = models.CharField("任务", max_length=40)
    day = models.DateField("日期")
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    result = models.CharField("结果", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "每日任务记录"
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="daily_run_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.day}"
