"""Reads of the export jobs: a user sees only their own."""

from __future__ import annotations

from django.db.models import QuerySet

from xinfang.exports import kinds
from xinfang.exports.models import ExportJob
from xinfang.orgs.models import User

RECENT = 50


def jobs_for_user(user: User) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(owner_id=user.pk).order_by("-created_at", "-id")[:RECENT]


def job_for_user(user: User, pk: int) -> ExportJob | None:
    """The job `pk` if `user` asked for it; None otherwise (the view answers 404 either way)."""
    return (
        ExportJob.objects.filter(pk=pk, owner_id=user.pk).first() if user.is_authenticated else None
    )


def job_json(job: ExportJob) -> dict:
    from django.urls import reverse

    return {
        "id": job.pk,
        "kind": job.kind,
        "label": kinds.label_of(job.kind),
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "pct": job.pct,
        "error": job.error,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "download": reverse("exports:download", args=[job.pk])
        if job.status == ExportJob.Status.DONE
        else None,
    }
