"""Backlog and screening pages: thin. Parse, call a selector or a service, render."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from xinfang.backlog import (
    conf,
    flagging,
    forms,
    methods,
    permissions,
    planning,
    privacy,
    screening,
    selectors,
    services,
)
from xinfang.backlog.models import (
    BacklogCase,
    FollowUpAction,
    LawyerMediation,
    ResolutionPlan,
    RuleKind,
    ScreeningEntry,
)
from xinfang.backlog.report import write_report
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


def _errors(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc) or "您无权进行该操作")


def _form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


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


def _plan_version(backlog: BacklogCase, version: int | None) -> ResolutionPlan | None:
    if not version:
        return None
    plan = backlog.plans.filter(version=version).first()
    if plan is None:
        raise ValidationError(f"没有第{version}版方案")
    return plan


def _do_owner(r, b, d, f):
    services.backlog_assign_owner(backlog=b, by=r.user, owner=d["owner"])
    return "已指定包案领导"


def _do_member(r, b, d, f):
    services.taskforce_add(backlog=b, by=r.user, user=d["user"], role=d["role"])
    return "已加入工作专班"


def _do_plan(r, b, d, f):
    plan = planning.plan_save(
        backlog=b,
        by=r.user,
        lead_unit=d["lead_unit"],
        secondary_units=d["secondary_units"],
        supporting_units=d["supporting_units"],
        path=d["path"],
        funds_source=d["funds_source"],
        funds_amount=d["funds_amount"] or 0,
        plan_date=d["plan_date"],
        deadline_days=None if d["due_on"] else d["deadline_days"],
        due_on=d["due_on"],
    )
    return f"已保存化解方案第{plan.version}版，期限{plan.due_on:%Y-%m-%d}"


def _do_executed(r, b, d, f):
    planning.plan_mark_executed(backlog=b, by=r.user, on=d["on"])
    return "已标记方案落实"


def _do_step(r, b, d, f):
    plan = _plan_version(b, d["plan"]) if d["step"] in {"deliberate", "decide"} else None
    step = planning.cycle_step_record(
        backlog=b,
        by=r.user,
        step=d["step"],
        held_on=d["held_on"],
        attendees=d["attendees"],
        external_attendees=d["external_attendees"],
        notes=d["notes"],
        plan=plan,
        score=d["score"],
        grade=d["grade"],
        comment=d["comment"],
    )
    return f"已记录：{step.get_step_display()}"


def _do_meeting(r, b, d, f):
    actions = [
        methods.FollowUp(
            description=d[f"action{i}_description"],
            owner=d[f"action{i}_owner"],
            unit=d[f"action{i}_unit"],
            due_days=d[f"action{i}_due_days"],
            due_on=d[f"action{i}_due_on"],
        )
        for i in range(1, forms.FOLLOW_UP_ROWS + 1)
        if d.get(f"action{i}_description")
    ]
    meeting = methods.meeting_record(
        backlog=b,
        by=r.user,
        kind=d["kind"],
        held_on=d["held_on"],
        attendee_units=d["attendee_units"],
        decisions=d["decisions"],
        actions=actions,
    )
    return f"已记录{meeting.get_kind_display()}"


def _do_aid(r, b, d, f):
    methods.aid_record(
        backlog=b,
        by=r.user,
        kind=d["kind"],
        amount=d["amount"],
        source=d["source"],
        approved_by=d["approved_by"],
        approved_on=d["approved_on"],
        paid_on=d["paid_on"],
        note=d["note"],
    )
    return "已记录帮扶救助"


def _do_mediation(r, b, d, f):
    sessions = (
        [(d["session_on"], d["session_notes"])] if d["session_on"] and d["session_notes"] else []
    )
    methods.mediation_record(
        backlog=b,
        by=r.user,
        lawyer_name=d["lawyer_name"],
        law_firm=d["law_firm"],
        sessions=sessions,
        outcome=d["outcome"],
        outcome_note=d["outcome_note"],
    )
    return "已记录律师引导调解"


def _do_session(r, b, d, f):
    mediation = LawyerMediation.objects.filter(pk=d["mediation"], backlog=b).first()
    if mediation is None:
        raise ValidationError("没有找到该调解记录")
    methods.mediation_add_session(
        mediation=mediation, by=r.user, held_on=d["held_on"], notes=d["notes"], outcome=d["outcome"]
    )
    return "已记录调解情况"


def _do_hearing(r, b, d, f):
    methods.hearing_record(
        backlog=b,
        by=r.user,
        held_on=d["held_on"],
        place=d["place"],
        participants=f.participants(),
        minutes=d["minutes"],
        findings=d["findings"],
        decision=d["decision"],
    )
    return "已记录听证评议"


def _do_summons(r, b, d, f):
    methods.summons_record(
        backlog=b,
        by=r.user,
        unit=d["unit"],
        head_name=d["head_name"],
        held_on=d["held_on"],
        reason=d["reason"],
        commitments=d["commitments"],
    )
    return "已记录约谈"


def _do_acceptance(r, b, d, f):
    services.acceptance_record(
        backlog=b, by=r.user, on=d["on"], kind=d["kind"], note=d["note"], evidence=d["evidence"]
    )
    return "已记录息诉罢访"


def _do_close(r, b, d, f):
    services.backlog_close(backlog=b, by=r.user)
    return "已化解销号"


ACTIONS: dict[str, tuple[type | None, Callable]] = {
    "owner": (forms.OwnerForm, _do_owner),
    "member": (forms.MemberForm, _do_member),
    "plan": (forms.PlanForm, _do_plan),
    "executed": (forms.ExecutedForm, _do_executed),
    "step": (forms.StepForm, _do_step),
    "meeting": (forms.MeetingForm, _do_meeting),
    "aid": (forms.AidForm, _do_aid),
    "mediation": (forms.MediationForm, _do_mediation),
    "session": (forms.SessionForm, _do_session),
    "hearing": (forms.HearingForm, _do_hearing),
    "summons": (forms.SummonsForm, _do_summons),
    "acceptance": (forms.AcceptanceForm, _do_acceptance),
    "close": (None, _do_close),
}


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One form of the case page: parse it, call its service, say what happened."""
    backlog = selectors.backlog_for_user(request.user, pk)
    if action not in ACTIONS:
        raise Http404("未知操作")
    form_class, handler = ACTIONS[action]
    form = None
    if form_class is not None:
        form = form_class(request.POST, request.FILES, prefix=action)
        if not form.is_valid():
            _form_errors(request, form)
            return redirect(reverse("backlog:detail", args=[pk]) + f"#{action}")
    try:
        messages.success(
            request, handler(request, backlog, form.cleaned_data if form else {}, form)
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect(reverse("backlog:detail", args=[pk]) + f"#{action}")


@login_required
@require_POST
def action_done(request: AuthedRequest, pk: int) -> HttpResponse:
    action = FollowUpAction.objects.select_related("meeting__backlog").filter(pk=pk).first()
    if action is None:
        raise Http404("没有找到该落实事项")
    backlog = selectors.backlog_for_user(request.user, action.meeting.backlog_id)
    try:
        methods.follow_up_done(action=action, by=request.user)
        messages.success(request, "落实事项已办结")
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect(reverse("backlog:detail", args=[backlog.pk]) + "#meetings")


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


# ---------------------------------------------------------------- 矛盾纠纷排查


@login_required
def rounds(request: AuthedRequest) -> HttpResponse:
    form = forms.RoundForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                round_ = screening.round_create(by=request.user, **form.cleaned_data)
                messages.success(request, f"已创建：{round_.name}")
                return redirect("backlog:round", round_.pk)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
        else:
            _form_errors(request, form)
    items = selectors.visible_rounds(request.user).select_related("office")
    return render(
        request,
        "backlog/rounds.html",
        {
            "rounds": items,
            "form": form,
            "can_create": request.user.role in permissions.SCREENING_EDIT_ROLES
            and request.user.unit_id,
        },
    )


def _entry_data(d: dict) -> screening.EntryData:
    return screening.EntryData(
        issue=d["issue"],
        place=d["place"],
        location=d["location"],
        units=list(d["units"]),
        responsible=d["responsible"],
        plan=d["plan"],
        deadline=d["deadline"],
        status=d["status"],
        households=d["households"] or 0,
    )


@login_required
def round_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = selectors.round_for_user(request.user, pk)
    form = forms.EntryForm(request.POST or None, prefix="entry")
    if request.method == "POST":
        if form.is_valid():
            try:
                screening.entry_create(
                    round_=round_, by=request.user, data=_entry_data(form.cleaned_data)
                )
                messages.success(request, "已加入排查台帐")
                return redirect("backlog:round", pk)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
        else:
            _form_errors(request, form)
    entries = round_.entries.select_related(
        "place", "responsible", "converted_case", "converted_case__backlog"
    ).prefetch_related("units")
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        screening.export_entries(entries, buffer, title=round_.name)
        response = HttpResponse(
            buffer.getvalue(),
            content_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''screening-{round_.pk}.xlsx"
        return response
    return render(
        request,
        "backlog/round.html",
        {
            "round": round_,
            "entries": entries,
            "form": form,
            "import_form": forms.ImportForm(),
            "convert_form": forms.ConvertForm(),
            "can_edit": permissions.can_edit_round(request.user, round_),
            "can_flag": request.user.role in permissions.LEADER_ROLES,
            "households": sum(e.households for e in entries),
        },
    )


@login_required
def round_template(request: AuthedRequest) -> HttpResponse:
    buffer = io.BytesIO()
    screening.template(buffer, user=request.user)
    response = HttpResponse(
        buffer.getvalue(),
        content_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''screening-template.xlsx"
    return response


@login_required
@require_POST
def round_import(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = selectors.round_for_user(request.user, pk)
    form = forms.ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("backlog:round", pk)
    try:
        done = screening.import_entries(
            round_=round_, by=request.user, source=form.cleaned_data["file"]
        )
        messages.success(request, str(done))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "导入失败，未写入任何数据：")
        _errors(request, exc)
    return redirect("backlog:round", pk)


def _entry_for_user(request: AuthedRequest, pk: int) -> ScreeningEntry:
    entry = (
        ScreeningEntry.objects.select_related("round", "place", "converted_case")
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise Http404("没有找到该条目")
    selectors.round_for_user(request.user, entry.round_id)
    return entry


@login_required
@require_POST
def entry_convert(request: AuthedRequest, pk: int) -> HttpResponse:
    """The clerk confirms: the issue becomes a matter (建议意见, anonymous)."""
    entry = _entry_for_user(request, pk)
    form = forms.ConvertForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("backlog:round", entry.round_id)
    try:
        case = screening.entry_to_case(
            entry=entry, by=request.user, channel=form.cleaned_data["channel"]
        )
        messages.success(request, f"已登记为信访事项 {case.number}")
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("backlog:round", entry.round_id)


@login_required
@require_POST
def entry_backlog(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _entry_for_user(request, pk)
    try:
        backlog = screening.entry_to_backlog(entry=entry, by=request.user)
        messages.success(request, f"已认定为积案：{entry.converted_case.number}")
        return redirect("backlog:detail", backlog.pk)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("backlog:round", entry.round_id)


@login_required
@require_POST
def entry_status(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = _entry_for_user(request, pk)
    try:
        screening.entry_set_status(
            entry=entry, by=request.user, status=request.POST.get("status", "")
        )
        messages.success(request, "已更新状态")
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("backlog:round", entry.round_id)
