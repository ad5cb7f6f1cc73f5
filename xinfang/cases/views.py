"""Staff pages: thin. Parse the request, call a selector or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from xinfang.cases import access, notices, selectors, services
from xinfang.cases.forms import AccusedForm, QueueFilterForm, RegisterForm, RevealForm
from xinfang.cases.models import Case, Channel, Kind, State
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.cases.workflow import ACTIONS, FORM_ACTIONS, TransitionNotAllowed
from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Category, Place


def _case_for_user(request: AuthedRequest, pk: int) -> Case:
    """The only way a view gets a matter: 404 unless the user may see it."""
    case = access.case_for_user(request.user, pk)
    if case is None:
        raise Http404("没有找到该事项，或您无权查看")
    return case


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    data = _valid_filters(form)
    scope, items, next_cursor = selectors.user_queue(request.user, data)
    params = request.GET.copy()
    params.pop("after", None)
    return render(
        request,
        "cases/queue.html",
        {
            "form": form,
            "items": items,
            "scope": scope,
            "scopes": QUEUE_TABS,
            "selects": _filter_selects(request.GET),
            "current": request.GET,
            "next_query": _with(params, after=next_cursor) if next_cursor else "",
            "export_query": params.urlencode(),
            "is_first_page": not data.get("after"),
        },
        # a cursor no page wrote is a bad request (the page shows why, and the first page)
        status=400 if "after" in form.errors else 200,
    )


def _select_html(name: str, label: str, options: list[tuple[str, str]], current: str) -> str:
    """One drop-down as HTML. Built in Python: widget templates cost ~1 ms an option here."""
    parts = [f'<label>{escape(label)}<select name="{name}">']
    for value, text in options:
        selected = " selected" if str(value) == current else ""
        parts.append(f'<option value="{escape(value)}"{selected}>{escape(text)}</option>')
    parts.append("</select></label>")
    return "".join(parts)


def _filter_selects(params) -> str:
    """The queue's drop-downs with the current choices selected."""
    categories = [
        (str(c.pk), f"{c.parent.name}/{c.name}" if c.parent_id else c.name)
        for c in Category.objects.select_related("parent")
    ]
    places = [(str(pk), name) for pk, name in Place.objects.values_list("pk", "name")]
    selects = [
        ("state", "状态", [("", "全部状态"), *State.choices]),
        ("due", "时限", [("", "全部时限"), ("due_soon", "即将到期"), ("overdue", "已超期")]),
        ("kind", "类型", [("", "全部类型"), *Kind.choices]),
        ("channel", "渠道", [("", "全部渠道"), *Channel.choices]),
        ("category", "分类", [("", "全部分类"), *categories]),
        ("place", "属地", [("", "全部属地"), *places]),
    ]
    return mark_safe(  # noqa: S308 - every value is escaped in _select_html
        "".join(_select_html(n, label, opts, params.get(n, "")) for n, label, opts in selects)
    )


def _valid_filters(form) -> dict:
    """The filters that parsed; a bad one is reported on the page and the rest still apply."""
    form.is_valid()
    return dict(getattr(form, "cleaned_data", {}))


def _with(params, **extra) -> str:
    params = params.copy()
    for key, value in extra.items():
        params[key] = value
    return params.urlencode()


QUEUE_TABS = [
    *((key, label) for key, (label, _lookup) in access.QUEUE_SCOPES.items()),
    ("co", "协办"),
]


@login_required
def register(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not access.may_register(user):
        messages.error(request, "只有信访机构的登记员可以登记事项")
        return redirect("cases:queue")
    form = RegisterForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        reg = form.registration(office=user.unit, attachments=request.FILES.getlist("attachments"))
        try:
            result = services.case_register(reg, by=user, at=form.cleaned_data["registered_at"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if result.created:
                code = services.case_issue_query_code(case=result.case)
                messages.success(
                    request,
                    f"已登记，事项编号 {result.case.number}，查询码 {code}"
                    "（查询码只显示这一次，请当场告知信访人，凭编号和查询码可在群众门户查询进度）",
                )
            else:
                notice = {
                    "in_progress": "原事项正在办理中，已关联并告知信访人",
                    "not_accepted_again": "原事项已终结，已关联并出具不再受理告知",
                }[result.notice]
                messages.warning(request, f"重复信访：{notice}（{result.case.number}）")
            return redirect("cases:detail", pk=result.case.pk)
    return render(request, "cases/register.html", {"form": form})


def _form_errors(form, exc: ValidationError) -> None:
    mapping = {"registered_at": "registered_at", "representatives": "representatives"}
    for field, errors in exc.message_dict.items():
        name = mapping.get(field, field)
        form.add_error(name if name in form.fields else None, errors)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _case_for_user(request, pk))


def _detail_page(request: AuthedRequest, case: Case, *, revealed: bool = False) -> HttpResponse:
    """The case page. ID number and phone are masked unless `revealed` (after `reveal`)."""
    user = request.user
    show_person = access.can_see_petitioner(user, case, known_visible=True)
    allowed = access.allowed_actions(user, case)
    events = list(selectors.case_timeline(case))
    actions = [
        (
            name,
            ACTIONS[name].label,
            FORM_ACTIONS[name].form(prefix=name, initial=_initial(case, name), user=user),
        )
        for name in allowed
        if name in FORM_ACTIONS
    ]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "show_person": show_person,
            "revealed": revealed and show_person,
            "masked_id": mask_id_number(case.petitioner_id_number),
            "masked_phone": mask_phone(case.petitioner_phone),
            "reveal_form": RevealForm(),
            "accused_form": (
                AccusedForm(initial=_accused_initial(case))
                if access.may_record_accused(user, case)
                else None
            ),
            "accused_units": access.accused_units(case),
            "due_state": selectors.case_due_state(case),
            "clock_label": selectors.clock_rules()[case.clock].label if case.clock else "",
            "events": events,
            "co_handlers": case.co_handlers.select_related("unit"),
            "representatives": case.representatives.all() if show_person else [],
            "attachments": case.attachments.all() if show_person else [],
            "actions": actions,
            "notices": _notices(case, events),
            "same_petitioner": selectors.same_petitioner_cases(
                user,
                id_number=case.petitioner_id_number,
                phone=case.petitioner_phone,
                exclude_id=case.pk,
            )
            if show_person
            else [],
        },
    )


def _accused_initial(case: Case) -> dict:
    units = [u.pk for u in access.accused_units(case)]
    return {"units": units, "person": case.accused_person}


@login_required
@require_POST
def reveal(request: AuthedRequest, pk: int) -> HttpResponse:
    """查看完整身份信息: the full ID number and phone, after a stated reason; audited.

    Only a POST writes the audit row (a link cannot make one in someone's name), and the
    answer is the page itself, so the numbers are never kept in a session or a URL.
    """
    case = _case_for_user(request, pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请说明查看完整身份信息的理由")
        return redirect("cases:detail", pk=pk)
    if not services.personal_data_reveal(
        case=case, by=request.user, reason=form.cleaned_data["reason"]
    ):
        raise Http404("没有找到该事项，或您无权查看")
    return _detail_page(request, case, revealed=True)


@login_required
@require_POST
def record_accused(request: AuthedRequest, pk: int) -> HttpResponse:
    """记录/更正被反映单位 (the registering office)."""
    case = _case_for_user(request, pk)
    form = AccusedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("cases:detail", pk=pk)
    d = form.cleaned_data
    try:
        services.case_record_accused(
            case=case,
            by=request.user,
            units=list(d["units"]),
            person=d["person"],
            no_unit=d["no_unit"],
            reason=d["reason"],
            expected_version=_posted_version(request),
        )
    except (TransitionNotAllowed, services.ConcurrentChange) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已记录被反映单位")
    return redirect("cases:detail", pk=pk)


def _posted_version(request: HttpRequest) -> int | None:
    """The matter's version the form was loaded with (a stale one is refused as a concurrent
    change); None when the form did not send one."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _initial(case: Case, action: str) -> dict:
    if action == "route":
        unit = selectors.dispatch_suggestion(case)
        return {"unit": unit.pk} if unit else {}
    return {}


def _notices(case: Case, events: list) -> list[tuple[str, str]]:
    available = notices.available_notices(case, events=events)
    return [(slug, notices.NOTICE_KINDS[slug][0]) for slug in available]


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    case = _case_for_user(request, pk)
    spec = FORM_ACTIONS.get(action)
    if spec is None:
        raise Http404("未知操作")
    form = spec.form(request.POST, prefix=action, user=request.user)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{spec.label}：{label} {'；'.join(errors)}")
        return redirect("cases:detail", pk=pk)
    try:
        services.case_transition(
            case=case,
            name=action,
            by=request.user,
            params=form.cleaned_data,
            expected_version=_posted_version(request),
        )
    except (TransitionNotAllowed, services.ConcurrentChange) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已完成：{spec.label}")
        if access.case_for_user(request.user, pk) is None:  # e.g. 异议退回: no longer this unit's
            return redirect("cases:queue")
    return redirect("cases:detail", pk=pk)


@login_required
def notice(request: AuthedRequest, pk: int, notice: str) -> HttpResponse:
    case = _case_for_user(request, pk)
    if notice not in notices.available_notices(case):
        raise Http404("该文书尚不能生成")
    data = notices.render_notice(case, notice, viewer=request.user)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    from urllib.parse import quote

    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(notices.notice_filename(case, notice))}"
    )
    return response


@login_required
def outcome_report(request: AuthedRequest, pk: int) -> HttpResponse:
    """处理结果报告 (.docx) of a matter the user may see; the petitioner as `can_see_petitioner` allows."""
    from urllib.parse import quote

    from xinfang.cases import outcome_report as report

    case = _case_for_user(request, pk)
    response = HttpResponse(
        report.render(case, viewer=request.user), content_type=notices.DOCX_CONTENT_TYPE
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.filename(case))}"
    return response


@login_required
def attachment(request: AuthedRequest, pk: int, attachment_id: int) -> HttpResponse:
    """Attachments are served only through the access check, never as public media."""
    case = _case_for_user(request, pk)
    item = case.attachments.filter(pk=attachment_id).first()
    if item is None or not access.can_see_petitioner(request.user, case):
        raise Http404("附件不存在或无权查看")
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)
