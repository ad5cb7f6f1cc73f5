"""Pages of 矛盾纠纷排查 (screening rounds): the rounds, a round's entries, import, conversion."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from xinfang.backlog import (
    forms,
    permissions,
    screening,
    selectors,
)
from xinfang.backlog.models import (
    ScreeningEntry,
)
from xinfang.backlog.viewerrors import _errors, _form_errors
from xinfang.lib.masking import mask_personal_data
from xinfang.orgs.http import AuthedRequest


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
    entries = list(
        round_.entries.select_related(
            "place", "responsible", "converted_case", "converted_case__backlog"
        ).prefetch_related("units")
    )
    for e in entries:  # ID and mobile numbers typed into the text, also in rows saved before
        e.issue = mask_personal_data(e.issue)
        e.location = mask_personal_data(e.location)
        e.plan = mask_personal_data(e.plan)
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
        messages.success(request, f"已认定为积案：{backlog.case.number}")
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
