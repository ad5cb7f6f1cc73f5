"""考核 pages: the list, one assessment, the scheme, the accountability record. Thin: parse, call a
selector or a service, render; each page has ?format=json (and the documents .xlsx/.docx) twins."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.assessment import exports, selectors, services
from xinfang.assessment.forms import ComputeForm, RecordForm
from xinfang.assessment.items import ITEMS
from xinfang.assessment.models import Scheme
from xinfang.orgs.http import AuthedRequest
from xinfang.reports.selectors import Period, current_quarter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CN = {"ensure_ascii": False}


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params=CN)


def _errors(form) -> dict[str, list[str]]:
    return {("from" if k == "from_" else k): [str(m) for m in v] for k, v in form.errors.items()}


def _file(content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


def _assessment(request: AuthedRequest, pk: int):
    found = selectors.assessment_for_user(request.user, pk)
    if found is None:
        raise Http404("没有找到该考核结果，或您无权查看")
    return found


@login_required
def assessments(request: AuthedRequest) -> HttpResponse:
    found = list(selectors.visible_assessments(request.user).order_by("-period_end", "-pk")[:200])
    if request.GET.get("format") == "json":
        return _json({"assessments": [selectors.assessment_summary(a) for a in found]})
    quarter = current_quarter()
    return render(
        request,
        "assessment/list.html",
        {
            "assessments": found,
            "may_compute": selectors.is_assessor(request.user),
            "schemes": Scheme.objects.order_by("-active", "-pk"),
            "quarter": quarter,
        },
    )


@login_required
@require_POST
def compute(request: AuthedRequest) -> HttpResponse:
    form = ComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("assessment:list")
    try:
        a = services.assessment_compute(
            request.user, form.cleaned_data["scheme"], form.cleaned_data["period"]
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc) or services.NOT_ASSESSOR)
        return redirect("assessment:list")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("assessment:list")
    messages.success(request, "考核结果已计算（草稿），请复核后发布")
    return redirect("assessment:detail", pk=a.pk)


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    a = _assessment(request, pk)
    fmt = request.GET.get("format", "")
    if fmt == "json":
        return _json(selectors.assessment_json(request.user, a))
    if fmt == "xlsx":
        response = _file(XLSX, f"assessment-{a.pk}.xlsx")
        exports.assessment_xlsx(response, request.user, a)
        return response
    if fmt == "docx":
        response = _file(DOCX, f"assessment-{a.pk}.docx")
        response.write(exports.assessment_docx(request.user, a))
        return response
    lines = selectors.lines_for_user(request.user, a)
    record_query = urlencode(
        {"from": a.period_start.isoformat(), "to": a.period_end.isoformat(), "assessment": a.pk}
    )
    return render(
        request,
        "assessment/detail.html",
        {
            "a": a,
            "lines": lines,
            "snap": a.scheme_snapshot,
            "may_manage": selectors.may_manage(request.user, a),
            "record_query": record_query,
        },
    )


ACTIONS = {
    "review": (services.assessment_review, "已复核"),
    "publish": (services.assessment_publish, "已发布，各单位可以查看排名和本单位明细"),
    "recompute": (services.assessment_recompute, "已重新计算"),
}


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    a = _assessment(request, pk)
    if action not in ACTIONS:
        raise Http404("没有这个操作")
    call, done = ACTIONS[action]
    try:
        result = call(request.user, a)
    except PermissionDenied:
        messages.error(request, services.NOT_ASSESSOR)
        return redirect("assessment:detail", pk=a.pk)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("assessment:detail", pk=a.pk)
    if result.pk != a.pk:
        done = "该考核结果已发布、不再变动；已按现行方案重新计算为新的草稿"
    messages.success(request, done)
    return redirect("assessment:detail", pk=result.pk)


@login_required
def scheme(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("id", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise Http404("没有这个考核方案")
    found = Scheme.objects.filter(pk=int(raw)).first() if raw else selectors.active_scheme()
    if found is None:
        raise Http404("没有这个考核方案")
    snap = selectors.scheme_snapshot(found)
    if request.GET.get("format") == "json":
        return _json(snap)
    return render(
        request,
        "assessment/scheme.html",
        {
            "scheme": found,
            "snap": snap,
            "schemes": Scheme.objects.order_by("-active", "-pk"),
            "full": sum(float(i["weight"]) for i in snap["indicators"]),
        },
    )


def _record_target(request: AuthedRequest, data: dict):
    """(unit, period, urge days, now) of the record asked for; None when the user may not read it."""
    units = {u.pk: u for u in selectors.record_units(request.user)}
    urge_days, now = 5, None
    period: Period = data["period"]
    if data.get("assessment"):
        a = selectors.assessment_for_user(request.user, data["assessment"])
        if a is None:
            return None
        period = Period(a.period_start, a.period_end)
        urge_days, now = a.scheme_snapshot.get("urge_response_days", 5), a.computed_at
    else:
        active = selectors.active_scheme()
        urge_days = active.urge_response_days if active else 5
    unit_id = data.get("unit") or request.user.unit_id
    unit = units.get(unit_id) if unit_id else None
    return (unit, period, urge_days, now, list(units.values()))


@login_required
def record(request: AuthedRequest) -> HttpResponse:
    form = RecordForm(request.GET)
    fmt = request.GET.get("format", "")
    if not form.is_valid():
        if fmt == "json":
            return _json({"detail": "查询条件不正确", "errors": _errors(form)}, 400)
        return render(
            request, "assessment/record.html", {"form": form, "entries": None}, status=400
        )
    target = _record_target(request, form.cleaned_data)
    if target is None:
        raise Http404("没有找到该考核结果，或您无权查看")
    unit, period, urge_days, now, units = target
    if unit is None:
        if fmt == "json":
            return _json(
                {"detail": "请选择您有权查看的单位", "errors": {"unit": ["单位不正确或无权查看"]}},
                400,
            )
        return render(
            request,
            "assessment/record.html",
            {"form": form, "entries": None, "units": units, "period": period, "no_unit": True},
        )
    full = fmt in {"xlsx", "docx"}
    entries = selectors.record(
        request.user,
        unit,
        period,
        urge_days=urge_days,
        now=now,
        limit=None if full else selectors.RECORD_LIMIT,
    )
    if fmt == "json":
        return _json(
            {
                "unit": {"id": unit.pk, "name": unit.name},
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "items": [
                    {
                        "item": item.name,
                        "label": item.label,
                        "sign": item.sign,
                        "count": count,
                        "definition": item.definition,
                        "matters": [
                            {
                                "id": r.case.pk,
                                "number": r.case.number,
                                "title": r.case.title,
                                "at": timezone.localtime(r.at).isoformat(),
                            }
                            if r.case
                            else {"id": None, "at": timezone.localtime(r.at).isoformat()}
                            for r in rows
                        ],
                    }
                    for item, count, rows in entries
                ],
            }
        )
    if fmt == "xlsx":
        response = _file(XLSX, f"record-{unit.pk}-{period.start}-{period.end}.xlsx")
        exports.record_xlsx(response, unit, period, entries)
        return response
    if fmt == "docx":
        response = _file(DOCX, f"record-{unit.pk}-{period.start}-{period.end}.docx")
        response.write(exports.record_docx(unit, period, entries))
        return response
    query = request.GET.copy()
    query.pop("format", None)
    query["unit"] = str(unit.pk)
    return render(
        request,
        "assessment/record.html",
        {
            "form": form,
            "entries": entries,
            "unit": unit,
            "units": units,
            "period": period,
            "query": query.urlencode(),
            "items": ITEMS,
            "limit": selectors.RECORD_LIMIT,
        },
    )
