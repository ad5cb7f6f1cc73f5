"""Backlog pages: thin. Parse, call a selector or a service, render.

The board, flagging, the dashboard, the case page and its report here; the case page's forms
in action_views.py; the screening rounds (矛盾纠纷排查) in screening_views.py.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from xinfang.backlog import (
    conf,
    flagging,
    forms,
    permissions,
    privacy,
    selectors,
    services,
)
from xinfang.backlog.models import (
    BacklogCase,
    RuleKind,
)
from xinfang.backlog.report import write_report
from xinfang.backlog.viewerrors import _errors, _form_errors
from xinfang.cases import access
from xinfang.lib.xlsxcells import safe_row
from xinfang.orgs.http import AuthedRequest

EXPORT_HEADERS = [
    ("case_number", "事项编号"),
    ("title", "标题"),
    ("unit", "责任单位"),
    ("owner", "包案领导"),
    ("status", "状态"),
    ("rule", "认定规则"),
    ("reason", "认定理由"),
    ("registered_at", "登记日期"),
    ("flagged_at", "认定日期"),
    ("age_days", "积案天数"),
    ("age_bucket", "积案时长"),
]


def _board_filters(request: HttpRequest) -> tuple[forms.BoardFilterForm, selectors.BoardFilters]:
    form = forms.BoardFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    return form, selectors.BoardFilters(
        status=data.get("status") or "active",
        unit=data["unit"].pk if data.get("unit") else None,
        owner=data.get("owner"),
        bucket=data.get("bucket") or "",
        rule=data.get("rule") or "",
        stuck=bool(data.get("stuck")),
        page=data.get("page") or 1,
    )


@login_required
def board(request: AuthedRequest) -> HttpResponse:
    """积案台帐: by unit, owner and age, with filters; ?format=json and ?format=xlsx twins."""
    form, filters = _board_filters(request)
    fmt = request.GET.get("format", "")
    if fmt == "xlsx":
        return _board_xlsx(request, filters)
    result = selectors.board(request.user, filters)
    if fmt == "json":
        return JsonResponse(_board_json(result), json_dumps_params={"ensure_ascii": False})
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "backlog/board.html",
        {
            "form": form,
            "board": result,
            "buckets": selectors.BUCKETS,
            "query": params.urlencode(),
            "filters": filters,
            "flag_form": forms.FlagForm(),
            "stuck_days": conf.stuck_days(),
            "can_flag": request.user.role in permissions.LEADER_ROLES,
        },
    )


def _board_json(result: selectors.Board) -> dict:
    keys = [k for k, _l, _d in selectors.BUCKETS]
    return {
        "total": result.total,
        "buckets": {k: result.totals[k] for k in keys},
        "by_unit": [
            {
                "unit_id": r["unit_id"],
                "unit": r["name"],
                "total": r["total"],
                **{k: r[k] for k in keys},
            }
            for r in result.by_unit
        ],
        "by_owner": [
            {
                "owner_id": r["owner_id"],
                "owner": r["name"],
                "total": r["total"],
                **{k: r[k] for k in keys},
            }
            for r in result.by_owner
        ],
        "page": result.page,
        "pages": result.pages,
        "rows": [
            {
                "id": b.pk,
                "case_number": b.case.number,
                "title": b.case.title,
                "unit": b.unit.name,
                "owner": str(b.owner) if b.owner else "",
                "status": b.status,
                "rule": b.flag_rule,
                "age_days": b.age_days,
                "age_bucket": b.bucket,
                "stuck": b.stuck,
            }
            for b in result.rows
        ],
    }


def _board_xlsx(request: AuthedRequest, filters: selectors.BoardFilters) -> HttpResponse:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("积案台帐")
    ws.append([label for _k, label in EXPORT_HEADERS])
    for row in selectors.board_export_rows(request.user, filters):
        ws.append(safe_row(ws, [row[k] for k, _l in EXPORT_HEADERS]))  # "=..." stays text
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''backlog-{stamp}.xlsx"
    return response


@login_required
@require_POST
def flag(request: AuthedRequest) -> HttpResponse:
    """督查标记: a supervisor or head marks a matter as a backlog case, with a reason."""
    form = forms.FlagForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("backlog:board")
    case = access.case_by_number_for_user(request.user, form.cleaned_data["case_number"], "backlog")
    if case is None:
        messages.error(request, "找不到该事项编号，或您无权查看该事项")
        return redirect("backlog:board")
    try:
        backlog = flagging.backlog_flag(
            case=case, by=request.user, rule=RuleKind.MANUAL, reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("backlog:board")
    messages.success(request, f"已认定为积案：{case.number}")
    return redirect("backlog:detail", backlog.pk)


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """清仓见底: the open backlog by age bucket, month by month, against a target of zero."""
    series = selectors.dashboard_series(request.user)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "target": 0,
                "months": [
                    {
                        "month": row["month"].strftime("%Y-%m"),
                        "total": row["total"],
                        "buckets": dict(
                            zip([k for k, _l, _d in selectors.BUCKETS], row["counts"], strict=True)
                        ),
                    }
                    for row in series
                ],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request,
        "backlog/dashboard.html",
        {
            "series": series,
            "buckets": selectors.BUCKETS,
            "current": series[-1] if series else None,
        },
    )


def _detail_context(request: AuthedRequest, backlog: BacklogCase) -> dict:
    user = request.user
    plans = list(
        backlog.plans.select_related("lead_unit").prefetch_related(
            "secondary_units", "supporting_units"
        )
    )
    plan = plans[-1] if plans else None
    initial_plan = {"plan_date": timezone.localdate(), "deadline_days": conf.plan_days()}
    if plan:
        initial_plan |= {
            "lead_unit": plan.lead_unit_id,
            "path": plan.path,
            "funds_source": plan.funds_source,
            "funds_amount": plan.funds_amount,
            "secondary_units": [u.pk for u in plan.secondary_units.all()],
            "supporting_units": [u.pk for u in plan.supporting_units.all()],
        }
    else:
        initial_plan["lead_unit"] = backlog.unit_id
    today = timezone.localdate()
    stuck_before = timezone.now() - timezone.timedelta(days=conf.stuck_days())
    # Loaded here, so that what the viewer may not read about the petitioner is rewritten once.
    records = {
        "steps": list(backlog.steps.select_related("plan").prefetch_related("attendees")),
        "meetings": list(
            backlog.meetings.prefetch_related("attendee_units", "actions__owner", "actions__unit")
        ),
        "aids": list(backlog.aids.all()),
        "mediations": list(backlog.mediations.prefetch_related("sessions")),
        "hearings": list(backlog.hearings.prefetch_related("participants")),
        "summonses": list(backlog.summonses.select_related("unit")),
        "events": list(backlog.events.select_related("actor")),
    }
    privacy.redact_records(
        privacy.redactor_for(user, backlog), backlog=backlog, plans=plans, **records
    )
    return {
        "b": backlog,
        "case": backlog.case,
        "plans": plans,
        "plan": plan,
        "members": backlog.members.select_related("user", "user__unit"),
        **records,
        "problems": services.close_problems(backlog),
        "can_lead": permissions.can_lead(user, backlog.case),
        "can_work": permissions.can_work(user, backlog),
        "can_close": backlog.is_active and permissions.can_close(user, backlog),
        "stuck": backlog.is_active and backlog.last_activity_at < stuck_before,
        "stuck_days": conf.stuck_days(),
        "forms": {
            "owner": forms.OwnerForm(prefix="owner", initial={"owner": backlog.owner_id}),
            "member": forms.MemberForm(prefix="member"),
            "plan": forms.PlanForm(prefix="plan", initial=initial_plan),
            "executed": forms.ExecutedForm(prefix="executed", initial={"on": today}),
            "step": forms.StepForm(
                prefix="step", initial={"held_on": today, "plan": plan.version if plan else None}
            ),
            "meeting": forms.MeetingForm(prefix="meeting", initial={"held_on": today}),
            "aid": forms.AidForm(prefix="aid", initial={"approved_on": today}),
            "mediation": forms.MediationForm(prefix="mediation", initial={"session_on": today}),
            "session": forms.SessionForm(prefix="session", initial={"held_on": today}),
            "hearing": forms.HearingForm(prefix="hearing", initial={"held_on": today}),
            "summons": forms.SummonsForm(
                prefix="summons", initial={"held_on": today, "unit": backlog.unit_id}
            ),
            "acceptance": forms.AcceptanceForm(prefix="acceptance", initial={"on": today}),
        },
    }


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    backlog = selectors.backlog_for_user(request.user, pk)
    return render(request, "backlog/detail.html", _detail_context(request, backlog))


@login_required
def report(request: AuthedRequest, pk: int) -> HttpResponse:
    """The Word progress report (积案化解工作进展报告)."""
    backlog = selectors.backlog_for_user(request.user, pk)
    buffer = io.BytesIO()
    write_report(backlog, buffer, viewer=request.user)
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=f"积案进展报告-{backlog.case.number}.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
