"""分析报告 page: pick a month, read the figures and the drafted recommendations, download the
.docx; `?format=json` gives the same figures (xinfang/reports/analysis.py)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from xinfang.cases.notices import DOCX_CONTENT_TYPE
from xinfang.orgs.http import AuthedRequest
from xinfang.reports import analysis


def _issuer(user) -> str:
    return user.unit.name if user.unit_id else "信访工作机构"


@login_required
def analysis_page(request: AuthedRequest) -> HttpResponse:
    fmt = request.GET.get("format", "")
    try:
        first = analysis.parse_month(request.GET.get("month"))
    except ValueError as exc:
        if fmt == "json":
            return JsonResponse(
                {"detail": "月份不正确", "errors": {"month": [str(exc)]}},
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return render(
            request,
            "reports/analysis.html",
            {"error": str(exc), "a": None, "month": request.GET.get("month", "")[:20]},
            status=400,
        )
    a = analysis.analysis_for(request.user, first)
    if fmt == "json":
        return JsonResponse(analysis.analysis_json(a), json_dumps_params={"ensure_ascii": False})
    if fmt == "docx":
        response = HttpResponse(
            analysis.render_docx(a, issuer=_issuer(request.user)), content_type=DOCX_CONTENT_TYPE
        )
        name = f"分析报告-{a.month}.docx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response
    return render(
        request, "reports/analysis.html", {"a": a, "month": a.month, "rules": analysis.RULES}
    )
