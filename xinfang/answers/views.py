"""答复知识库 pages: thin. Parse, call a selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from xinfang.answers import selectors, xlsx
from xinfang.cases import access
from xinfang.cases.models import Case
from xinfang.lib import bounds
from xinfang.orgs.http import AuthedRequest

DRAFT_MAX = 20_000  # characters of a draft that are checked
NOT_YOURS = "您无权答复该事项"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _case(request: AuthedRequest, pk: int) -> Case:
    case = access.case_for_user(request.user, pk)
    if case is None:
        raise Http404("没有找到该事项，或您无权查看")
    return case


def _panel_context(case: Case, draft: str = "", report=None) -> dict:
    return {
        "case": case,
        "similar": selectors.similar_replies(case),
        "counts": selectors.knowledge_counts(),
        "due_at": selectors.reply_due(case),
        "draft": draft,
        "report": report,
    }


@login_required
def case_panel(request: AuthedRequest, pk: int) -> HttpResponse:
    """答复参考 panel: similar past replies and the draft check form, as the fragment the case
    page loads (`?fragment=1`) or a page of its own. Only for those who may reply; a GET writes
    nothing."""
    case = _case(request, pk)
    if not selectors.may_draft(request.user, case):
        if request.GET.get("fragment") == "1":
            return HttpResponse("")  # the case page shows nothing for those who may not reply
        raise PermissionDenied(NOT_YOURS)
    context = _panel_context(case)
    template = "answers/_panel.html" if request.GET.get("fragment") == "1" else "answers/panel.html"
    return render(request, template, context)


@login_required
@require_POST
def check(request: AuthedRequest, pk: int) -> HttpResponse:
    """检查草稿: the checks of the draft in the body (`text`); JSON for the case page's script,
    the panel page with the results otherwise. Reads only: nothing is stored."""
    case = _case(request, pk)
    if not selectors.may_draft(request.user, case):
        return JsonResponse({"error": NOT_YOURS}, status=403)
    draft = request.POST.get("text", "")[:DRAFT_MAX]
    if not draft.strip():
        return JsonResponse({"error": "请先填写处理意见"}, status=400)
    report = selectors.draft_check(case, draft)
    if request.POST.get("format") == "html":
        # the panel page's own form (no JavaScript): the draft comes back with its checks
        return render(request, "answers/panel.html", _panel_context(case, draft, report))
    return JsonResponse(report.as_dict(), json_dumps_params={"ensure_ascii": False})


def _month(request: HttpRequest) -> str:
    month = request.GET.get("month") or ""
    if bounds.parse_month(month) is None:
        month = selectors.current_month()
    return month


@login_required
def report(request: AuthedRequest) -> HttpResponse:
    """答复质量月报 per unit (and its JSON twin with ?format=json)."""
    if not selectors.may_see_report(request.user):
        raise PermissionDenied("仅信访工作机构、督查人员可查看答复质量月报")
    data = selectors.monthly_report(_month(request))
    if request.GET.get("format") == "json":
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(content_type=XLSX)
        response["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''answers-{data['month']}.xlsx"
        )
        xlsx.write_report(data, response)
        return response
    return render(
        request, "answers/report.html", {"report": data, "counts": selectors.knowledge_counts()}
    )
