"""Export jobs (导出任务): a large .xlsx written by the worker, row by row, with its progress."""

from __future__ import annotations

from django.db import models

from xinfang.orgs.models import User


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在导出"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        EXPIRED = "expired", "已过期"

    owner = models.ForeignKey(
        User, verbose_name="申请人", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("导出内容", max_length=40)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField("已写行数", default=0)
    rows_total = models.PositiveIntegerField("总行数", null=True, blank=True)
    file_path = models.CharField("文件", max_length=500, blank=True)
    worker = models.CharField("执行进程", max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["owner", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"导出任务 {self.pk}（{self.kind}，{self.get_status_display()}）"

    @property
    def pct(self) -> int | None:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return None
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED}


class ExportDownload(models.Model):
    """Audit log of downloads of exports holding petitioners' names (like PersonalDataView, which
    is per matter: an export of 100,000 matters is one row here)."""

    job = models.ForeignKey(
        ExportJob, verbose_name="导出任务", on_delete=models.CASCADE, related_name="downloads"
    )
    user = models.ForeignKey(
        User, verbose_name="下载人", on_delete=models.PROTECT, related_name="+"
    )
    rows = models.PositiveIntegerField("行数", default=0)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出文件下载记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user_id} 下载导出 {self.job_id}（{self.rows} 行）"
