"""导出任务: my jobs, one job's progress (auto-refresh, ?format=json), the download, retry."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.exports import kinds, selectors, services
from xinfang.exports.kinds import ExportError
from xinfang.exports.models import ExportJob
from xinfang.orgs.http import AuthedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFRESH_SECONDS = 3


def _job(request: AuthedRequest, pk: int) -> ExportJob:
    job = selectors.job_for_user(request.user, pk)
    if job is None:
        raise Http404("没有找到该导出任务")
    return job


def _label(job: ExportJob) -> str:
    return kinds.label_of(job.kind)


@login_required
def jobs(request: AuthedRequest) -> HttpResponse:
    items = list(selectors.jobs_for_user(request.user))
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"jobs": [selectors.job_json(j) for j in items]},
            json_dumps_params={"ensure_ascii": False},
        )
    response = render(request, "exports/jobs.html", {"items": [(j, _label(j)) for j in items]})
    if any(not j.finished for j in items):
        response["Refresh"] = str(REFRESH_SECONDS)  # progress moves without a click
    return response


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if request.GET.get("format") == "json":
        return JsonResponse(selectors.job_json(job), json_dumps_params={"ensure_ascii": False})
    refresh = 0 if job.finished else REFRESH_SECONDS
    response = render(
        request, "exports/job.html", {"job": job, "label": _label(job), "refresh": refresh}
    )
    if refresh:
        response["Refresh"] = str(refresh)  # the browser reloads the page: progress without a click
    return response


@login_required
def download(request: AuthedRequest, pk: int) -> HttpResponse | FileResponse:
    job = _job(request, pk)
    try:
        path = services.export_download(job=job, by=request.user)
    except ExportError as exc:
        messages.error(request, str(exc))
        return redirect("exports:detail", pk=job.pk)
    stamp = timezone.localtime(job.finished_at or job.created_at).strftime("%Y%m%d-%H%M")
    name = f"{_label(job)}-{stamp}.xlsx"
    response = FileResponse(path.open("rb"), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_POST
def retry(request: AuthedRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        services.export_retry(job=job, by=request.user)
    except ExportError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已重新排队导出")
    return redirect("exports:detail", pk=job.pk)
