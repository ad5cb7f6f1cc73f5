"""The ledger's pages: 导入台帐 (the template, an upload, every problem listed) and 台帐导出 of the
queue. Their addresses and names stay under cases/ (xinfang/urls.py joins them there)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from xinfang.cases import access
from xinfang.exports import services as exports
from xinfang.exports.kinds import ExportError
from xinfang.ledger.columns import ledger_template
from xinfang.ledger.exporting import export_cases, ledger_queryset
from xinfang.ledger.importing import import_ledger
from xinfang.orgs.http import AuthedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def queue_export(request: AuthedRequest) -> HttpResponse:
    """台帐导出: up to DIRECT_MAX matters in the answer itself; more become an export job that the
    worker writes row by row (xinfang/exports), with the same rows and the same access."""
    qs = ledger_queryset(request.user, request.GET)
    if exports.is_large(qs):
        return _to_job(request)
    response = HttpResponse(content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''ledger-{stamp}.xlsx"
    export_cases(qs, response, user=request.user)
    return response


def _to_job(request: AuthedRequest) -> HttpResponse:
    """The export becomes a job (导出任务): its progress page, or the jobs with the reason."""
    try:
        job = exports.export_start(owner=request.user, kind="ledger", query=request.GET)
    except ExportError as exc:
        messages.error(request, str(exc))
        return redirect("exports:jobs")
    messages.info(request, exports.handed_over_notice())
    return redirect("exports:detail", pk=job.pk)


@login_required
def import_page(request: AuthedRequest) -> HttpResponse:
    """导入台帐: the registering office's clerks only."""
    office = request.user.unit
    if office is None or not access.may_register(request.user):
        messages.error(request, "只有信访机构的登记员可以导入台帐")
        return redirect("cases:queue")
    if request.method == "GET" and request.GET.get("template"):
        response = HttpResponse(ledger_template(), content_type=XLSX)
        response["Content-Disposition"] = "attachment; filename*=UTF-8''ledger-template.xlsx"
        return response
    result = None
    upload = request.FILES.get("file")
    if request.method == "POST" and isinstance(upload, UploadedFile):
        result = import_ledger(upload, office=office, by=request.user, file_name=upload.name or "")
    return render(request, "ledger/import.html", {"result": result})
