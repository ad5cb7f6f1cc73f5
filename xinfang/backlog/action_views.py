"""The forms of the backlog case page (积案详情): each parsed, handed to its service, answered.

`act` dispatches through ACTIONS (action name -> form, handler); the handlers are thin.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from xinfang.backlog import (
    forms,
    methods,
    planning,
    selectors,
    services,
)
from xinfang.backlog.models import (
    BacklogCase,
    FollowUpAction,
    LawyerMediation,
    ResolutionPlan,
)
from xinfang.backlog.viewerrors import _errors, _form_errors
from xinfang.orgs.http import AuthedRequest


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
