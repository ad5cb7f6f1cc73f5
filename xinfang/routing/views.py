"""Routing pages and endpoints: thin. Parse, call a selector or a service, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from xinfang.cases import access
from xinfang.cases import services as case_services
from xinfang.cases.models import Case
from xinfang.cases.workflow import TransitionNotAllowed
from xinfang.lib import bounds
from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Place, User
from xinfang.routing import conf, engine, hot, selectors, services

TRAIN_HINT = "尚未训练分派模型：请运行 xinfang routing train（用本机构已分类的事项）或 xinfang routing train --csv 文件.csv"


def _case(request: AuthedRequest, pk: int) -> Case:
    case = access.case_for_user(request.user, pk)
    if case is None:
        raise Http404("没有找到该事项，或您无权查看")
    return case


def _similar_json(items) -> list[dict]:
    return [
        {
            "id": s.case.pk,
            "number": s.case.number,
            "title": s.case.title,
            "state": s.case.get_state_display(),
            "registered_at": s.case.registered_at.isoformat(),
            "score": round(s.score, 1),
            "url": reverse("cases:detail", args=[s.case.pk]),
        }
        for s in items
    ]


# ---------------------------------------------------------------- the case page's panel


def _panel(user: User, case: Case) -> dict:
    """Context for routing/_case_panel.html (suggestions, similar, merge). A read: the
    suggestions shown are recorded by a POST (`shown`, `take`), never by this GET."""
    panel: dict = {
        "similar": [],
        "suggestions": None,
        "hint": "",
        "may_merge": False,
        "merged": [],
        "auto_paused": "",
    }
    if selectors.may_route(user, case):
        panel["auto_paused"] = selectors.auto_route_paused()
        found = selectors.suggestions_for_case(case)
        if found is None:
            panel["hint"] = TRAIN_HINT
        else:
            panel["suggestions"] = found
    panel["similar"] = selectors.similar_cases(
        user, title=case.title, content=case.content, place_id=case.place_id, exclude_ids=(case.pk,)
    )
    panel["may_merge"] = selectors.may_merge(user, case)
    panel["merged"] = selectors.merged_into(user, case)
    return panel


@login_required
def case_panel(request: AuthedRequest, pk: int) -> HttpResponse:
    """智能分派 panel of one matter: the fragment the case page loads (`?fragment=1`), or the
    same panel as a page of its own (the case page's link when JavaScript is off)."""
    case = _case(request, pk)
    context = {"case": case, "routing": _panel(request.user, case)}
    if request.GET.get("fragment") == "1":
        return render(request, "routing/_case_panel.html", context)
    return render(request, "routing/case_panel.html", context)


@login_required
@require_POST
def shown(request: AuthedRequest, pk: int) -> JsonResponse:
    """Record that the suggestions of model `version` were shown on the matter (the case page's
    script posts this once the panel is on screen); the take-rate report counts these."""
    case = _case(request, pk)
    if not selectors.may_route(request.user, case):
        return JsonResponse({"error": "您无权转送该事项"}, status=403)
    found = selectors.suggestions_for_case(case)
    if found is None or found.model_version != request.POST.get("version", ""):
        return JsonResponse({"error": "分派模型已更新，请刷新页面"}, status=409)
    row = services.suggestion_shown(case=case, suggestions=found)
    return JsonResponse({"id": row.pk, "model_version": row.model_version})


@login_required
@require_POST
def take(request: AuthedRequest, pk: int) -> JsonResponse:
    """The clerk takes a suggestion with a click: recorded; the page fills the route form."""
    case = _case(request, pk)
    if not selectors.may_route(request.user, case):
        return JsonResponse({"error": "您无权转送该事项"}, status=403)
    found = selectors.suggestions_for_case(case)
    if found is not None:  # recorded here too, should the panel's `shown` post not have arrived
        services.suggestion_shown(case=case, suggestions=found)
    try:
        row = services.suggestion_take(
            case=case, label=request.POST.get("label", ""), by=request.user
        )
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {
            "label": row.chosen_label,
            "unit_id": row.chosen_unit_id,
            "category_id": row.chosen_category_id,
            "taken_top1": row.taken_top1,
        }
    )


@login_required
@require_POST
def merge(request: AuthedRequest, pk: int) -> HttpResponse:
    """并单: merge this matter into an earlier one."""
    case = _case(request, pk)
    try:
        into = _case(request, int(request.POST.get("into", "0")))
    except (ValueError, Http404):
        messages.error(request, "找不到要并入的事项，或您无权查看")
        return redirect("cases:detail", pk=pk)
    try:
        case_services.case_merge(
            case=case, into=into, by=request.user, note=request.POST.get("note", "").strip()
        )
    except (TransitionNotAllowed, case_services.ConcurrentChange) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已并单：本事项并入 {into.number}，由主事项继续办理")
    return redirect("cases:detail", pk=pk)


# ---------------------------------------------------------------- registration helper


@login_required
@require_POST
def suggest(request: AuthedRequest) -> JsonResponse:
    """JSON for the registration form: suggested categories, similar and same-petitioner matters."""
    try:
        data = (
            json.loads(request.body or b"{}")
            if request.content_type == "application/json"
            else request.POST
        )
    except json.JSONDecodeError:
        return JsonResponse({"error": "请求格式有误"}, status=400)
    title, content = str(data.get("title", "")).strip(), str(data.get("content", "")).strip()
    try:
        place_id = int(data.get("place") or 0) or None
    except (TypeError, ValueError):
        place_id = None
    if place_id and not Place.objects.filter(pk=place_id).exists():
        place_id = None
    body: dict = {"suggestions": [], "similar": [], "same_petitioner": [], "hint": ""}
    if not (title or content):
        body["hint"] = "请先填写标题和诉求内容"
        return JsonResponse(body)
    found = engine.suggest(  # precedents only among the matters this user may see
        title=title, content=content, place_id=place_id, cases=access.visible_cases(request.user)
    )
    body["model_version"] = found.model_version if found else None
    body["suggestions"] = found.as_dicts() if found else []
    body["hint"] = "" if found else TRAIN_HINT
    body["similar"] = _similar_json(
        selectors.similar_cases(request.user, title=title, content=content, place_id=place_id)
    )
    same = services.same_petitioner_lookup(
        request.user,
        id_number=str(data.get("petitioner_id_number", "")).strip().upper(),
        phone=str(data.get("petitioner_phone", "")).strip(),
    )
    body["same_petitioner"] = [
        {
            "id": c.pk,
            "number": c.number,
            "title": c.title,
            "state": c.get_state_display(),
            "url": reverse("cases:detail", args=[c.pk]),
        }
        for c in same
    ]
    return JsonResponse(body)


# ---------------------------------------------------------------- reports


def _month(request: HttpRequest) -> str:
    month = request.GET.get("month") or ""
    if bounds.parse_month(month) is None:  # 20-digit years overflow the calendar
        month = selectors.current_month()
    return month


@login_required
def report(request: AuthedRequest) -> HttpResponse:
    """建议采纳情况与智能派单月报 (and its JSON twin with ?format=json). A POST with
    `resume` is an administrator resuming 智能派单 after it paused itself."""
    if request.method == "POST":
        return _resume(request)
    data = selectors.suggestion_report(_month(request))
    data["auto_status"] = selectors.auto_route_status()
    if request.GET.get("format") == "json":
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    return render(
        request,
        "routing/report.html",
        {
            "report": data,
            "model": selectors.model_info(),
            "hint": TRAIN_HINT,
            "may_resume": services.may_resume_auto_routing(request.user),
        },
    )


def _resume(request: AuthedRequest) -> HttpResponse:
    if request.POST.get("resume"):
        try:
            services.auto_routing_resume(by=request.user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "已恢复智能派单，准确率自此重新统计")
    return redirect("routing:report")


@login_required
def hot_issues(request: AuthedRequest) -> HttpResponse:
    """热点问题: this month's clusters of the matters the user may see."""
    page = selectors.hot_for_month(request.user, _month(request))
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "month": page.month,
                "total": page.total,
                "truncated": page.truncated,
                "clusters": [{"rank": i, **c.as_dict()} for i, c in enumerate(page.clusters, 1)],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    wanted = [k for c in page.clusters for k in c.keys[:5]]
    cases = access.visible_cases(request.user).in_bulk(wanted) if wanted else {}
    rows = [(c, [cases[k] for k in c.keys[:5] if k in cases]) for c in page.clusters]
    return render(
        request, "routing/hot.html", {"page": page, "rows": rows, "threshold": conf.hot_threshold()}
    )


@login_required
def hot_export(request: AuthedRequest) -> HttpResponse:
    """The hot-issue list as an Excel file (same selector as the page)."""
    page = selectors.hot_for_month(request.user, _month(request))
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''hot-{page.month}.xlsx"
    hot.write_xlsx(page.clusters, response, title=f"{page.month} 热点问题（共 {page.total} 件）")
    return response
