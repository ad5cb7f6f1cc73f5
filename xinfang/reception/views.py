"""Pages of leader reception: thin. Parse, check access, call a service or a selector, render.

The rota, records, instructions and group visits here; slots and the public booking pages
(/reception/book/..., the only ones without a login) in booking_views.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.cases import access, deadlines
from xinfang.cases.selectors import work_calendar
from xinfang.lib import bounds
from xinfang.orgs.http import AuthedRequest
from xinfang.reception import conf, ics, selectors, services
from xinfang.reception.forms import (
    CompleteForm,
    InstructionForm,
    LinkCaseForm,
    RecordForm,
    RegisterCaseForm,
    RotaDayForm,
    RotaFillForm,
    apply_errors,
    split_names,
)
from xinfang.reception.models import ReceptionMatter, ReceptionRecord
from xinfang.reception.viewscope import _office

WEEKDAYS = "一二三四五六日"


def _month(request: HttpRequest) -> tuple[int, int]:
    parsed = bounds.parse_month(request.GET.get("month", ""))  # 20-digit years overflow
    if parsed:
        return parsed
    today = selectors.today()
    return today.year, today.month


def _shift(year: int, month: int, by: int) -> str:
    index = year * 12 + month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ---------------------------------------------------------------- the rota


@login_required
@require_http_methods(["GET", "POST"])
def rota(request: AuthedRequest) -> HttpResponse:
    office = _office(request, selectors.rota_offices_for_user(request.user))
    year, month = _month(request)
    manage = selectors.can_manage_rota(request.user, office)
    fill_form = RotaFillForm(request.POST or None, office=office)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("只有本机构的登记员和负责人可以安排接访")
        if fill_form.is_valid():
            data = fill_form.cleaned_data
            leaders = [services.Leader(user=u) for u in data["leaders"]]
            leaders += [services.Leader(name=n) for n in split_names(data["names"])]
            try:
                days = services.rota_fill(
                    office=office,
                    by=request.user,
                    start=data["start"],
                    end=data["end"],
                    leaders=leaders,
                )
            except ValidationError as exc:
                apply_errors(fill_form, exc)
            else:
                messages.success(request, f"已排班 {len(days)} 个工作日（休息日已跳过）")
                return redirect(
                    f"{reverse('reception:rota')}?office={office.code}&month={data['start']:%Y-%m}"
                )
    return render(
        request,
        "reception/rota.html",
        {
            "office": office,
            "offices": selectors.rota_offices_for_user(request.user),
            "weeks": selectors.rota_month(office, year, month),
            "weekdays": WEEKDAYS,
            "year": year,
            "month": month,
            "prev": _shift(year, month, -1),
            "next": _shift(year, month, 1),
            "warnings": selectors.rota_warnings(office),
            "warn_days": conf.rota_warn_days(),
            "manage": manage,
            "fill_form": fill_form,
            "today": selectors.today(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rota_day(request: AuthedRequest, code: str, date: str) -> HttpResponse:
    office = get_object_or_404(selectors.rota_offices_for_user(request.user), code=code)
    try:
        day_date = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise Http404("日期不正确") from exc
    if not selectors.can_manage_rota(request.user, office):
        raise PermissionDenied("只有本机构的登记员和负责人可以安排接访")
    day = selectors.rota_days(office, day_date, day_date).first()
    initial = {}
    if day is not None:
        initial = {
            f: getattr(day, f)
            for f in (
                "leader",
                "leader_name",
                "leader_absent",
                "substitute",
                "substitute_name",
                "note",
            )
        }
    form = RotaDayForm(request.POST or None, office=office, initial=initial)
    back = f"{reverse('reception:rota')}?office={office.code}&month={day_date:%Y-%m}"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["clear"]:
                services.rota_day_clear(office=office, by=request.user, date=day_date)
            else:
                services.rota_day_set(
                    office=office,
                    by=request.user,
                    date=day_date,
                    leader=data["leader"],
                    leader_name=data["leader_name"],
                    leader_absent=data["leader_absent"],
                    substitute=data["substitute"],
                    substitute_name=data["substitute_name"],
                    note=data["note"],
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已保存 {day_date:%Y年%m月%d日} 的接访安排")
            return redirect(back)
    return render(
        request,
        "reception/rota_day.html",
        {
            "office": office,
            "date": day_date,
            "form": form,
            "back": back,
            "workday": work_calendar().is_workday(day_date),
        },
    )


@login_required
@require_GET
def warnings_json(request: AuthedRequest) -> JsonResponse:
    """The rota warnings of every office the user sees (JSON twin of the rota page's warnings)."""
    offices = selectors.rota_offices_for_user(request.user)
    code = request.GET.get("office")
    if code:
        offices = offices.filter(code=code)
    rows = [w.as_dict() for office in offices for w in selectors.rota_warnings(office)]
    return JsonResponse(
        {"days_ahead": conf.rota_warn_days(), "count": len(rows), "warnings": rows},
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_GET
def rota_ics(request: AuthedRequest, code: str) -> HttpResponse:
    office = get_object_or_404(selectors.rota_offices_for_user(request.user), code=code)
    start = selectors.today() - dt.timedelta(days=90)
    days = selectors.rota_days(office, start, start + dt.timedelta(days=455))
    body = ics.rota_calendar(office, days, stamp=timezone.now())
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="rota-{office.code}.ics"'
    return response


def _rota_calendar(user, stamp) -> str:
    start = selectors.today() - dt.timedelta(days=90)
    rotas = [
        (office, selectors.rota_days(office, start, start + dt.timedelta(days=455)))
        for office in selectors.rota_offices_for_user(user).order_by("path", "id")
    ]
    return ics.rotas_calendar(rotas, stamp=stamp)


@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The private calendar link: the rota of the user's offices, no session needed. An unknown or
    revoked token is a 404. Cached privately, with an ETag so calendar apps poll cheaply."""
    user = selectors.feed_user(token)
    if user is None:
        raise Http404("没有找到该日历")
    # the stamp moves once a day: the same rota gives the same body (and ETag) all day
    stamp = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    body = _rota_calendar(user, stamp).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="rota.ics"'
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def feed_manage(request: AuthedRequest) -> HttpResponse:
    """订阅链接: create (shown once) or revoke the user's private calendar link."""
    link = ""
    if request.method == "POST":
        if request.POST.get("action") == "create":
            token = services.feed_token_create(user=request.user)
            link = request.build_absolute_uri(reverse("reception:feed", args=[token]))
            messages.success(
                request,
                "已生成新的订阅链接，原有链接已停用。链接只显示这一次，请立即复制到日历应用中。",
            )
        elif request.POST.get("action") == "revoke":
            services.feed_token_revoke(user=request.user)
            messages.success(request, "订阅链接已停用")
            return redirect("reception:feed_manage")
    links = list(selectors.feed_links(request.user))
    return render(
        request,
        "reception/feed.html",
        {
            "link": link,
            "links": links,
            "active": any(t.revoked is None for t in links),
        },
    )


# ---------------------------------------------------------------- reception records


@login_required
@require_GET
def records(request: AuthedRequest) -> HttpResponse:
    rows = list(selectors.records_for(request.user).prefetch_related("matters__case")[:100])
    offices = [
        o for o in selectors.offices_for_user(request.user) if selectors.can_record(request.user, o)
    ]
    return render(request, "reception/records.html", {"records": rows, "can_add": bool(offices)})


@login_required
@require_http_methods(["GET", "POST"])
def record_new(request: AuthedRequest) -> HttpResponse:
    office = _office(request)
    if not selectors.can_record(request.user, office):
        raise PermissionDenied("只有本机构的登记员和负责人可以登记接访情况")
    form = RecordForm(
        request.POST or None,
        office=office,
        initial={"held_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.record_create(
                office=office,
                by=request.user,
                held_at=data["held_at"],
                kind=data["kind"],
                leader=data["leader"],
                leader_name=data["leader_name"],
                place=data["place"],
                visitors=data["visitors"],
                summary=data["summary"],
                case_numbers=[n for n in data["case_numbers"].split() if n],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "接访记录已保存")
            return redirect("reception:record", pk=record.pk)
    return render(request, "reception/record_new.html", {"office": office, "form": form})


def _record_for(request: AuthedRequest, pk: int) -> ReceptionRecord:
    """The record with its matters (read once: the page's list and the instruction form share them)."""
    record = (
        selectors.records_for(request.user)
        .prefetch_related(
            Prefetch("matters", queryset=ReceptionMatter.objects.select_related("case"))
        )
        .filter(pk=pk)
        .first()
    )
    if record is None:
        raise Http404("没有找到该接访记录，或您无权查看")
    return record


@login_required
@require_http_methods(["GET", "POST"])
def record_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _record_for(request, pk)
    user = request.user
    forms = {
        "link": LinkCaseForm(prefix="link"),
        "register": RegisterCaseForm(prefix="register", initial={"place": record.office.place_id}),
        "instruct": InstructionForm(prefix="instruct", record=record),
    }
    action = next((name for name in forms if f"submit-{name}" in request.POST), None)
    if request.method == "POST":
        if action is None or not selectors.can_record(user, record.office):
            raise PermissionDenied("只有本机构的登记员和负责人可以登记接访情况")
        form = _bound(action, request, record)
        forms[action] = form
        if form.is_valid() and _apply(request, action, form, record):
            return redirect("reception:record", pk=record.pk)
    matters = [
        {"matter": m, "visible": access.can_view(user, m.case)} for m in record.matters.all()
    ]
    return render(
        request,
        "reception/record_detail.html",
        {
            "record": record,
            "matters": matters,
            "forms": forms,
            "instructions": record.instructions.select_related("owner_user", "owner_unit", "case"),
            "can_record": selectors.can_record(user, record.office),
            "now": timezone.now(),
        },
    )


def _bound(action: str, request: HttpRequest, record: ReceptionRecord):
    if action == "link":
        return LinkCaseForm(request.POST, prefix="link")
    if action == "register":
        return RegisterCaseForm(request.POST, prefix="register")
    return InstructionForm(request.POST, prefix="instruct", record=record)


def _apply(request: AuthedRequest, action: str, form, record: ReceptionRecord) -> bool:
    """Run one action of the record page; on refusal put the reasons on its form."""
    from xinfang.cases.services import Petitioner

    data, user = form.cleaned_data, request.user
    try:
        if action == "link":
            services.record_link_case(record=record, by=user, number=data["case_number"])
            messages.success(request, f"已关联事项 {data['case_number']}")
        elif action == "register":
            case = services.record_register_case(
                record=record,
                by=user,
                kind=data["kind"],
                title=data["title"],
                content=data["content"],
                place=data["place"],
                category=data["category"],
                group_size=data["group_size"],
                petitioner=Petitioner(
                    name=data["petitioner_name"],
                    phone=data["petitioner_phone"],
                    id_number=data["petitioner_id_number"],
                    address=data["petitioner_address"],
                ),
            )
            messages.success(request, f"已登记新事项，事项编号 {case.number}")
        else:
            case = access.case_for_user(user, data["case"]) if data["case"] else None
            added = services.instruction_add(
                record=record,
                by=user,
                text=data["text"],
                owner_user=data["owner_user"],
                owner_unit=data["owner_unit"],
                days=data["days"],
                deadline_date=data["deadline_date"],
                case=case,
            )
            note = f"（{added.deadline_note}）" if added.deadline_note else ""
            messages.success(
                request, f"批示已登记，办理期限至{deadlines.cn_last_day(added.deadline)}{note}"
            )
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    return True


# ---------------------------------------------------------------- instructions


@login_required
@require_GET
def instructions(request: AuthedRequest, show: str = "open") -> HttpResponse:
    qs = selectors.instructions_for(request.user)
    now = timezone.now()
    if show == "overdue":
        rows = selectors.overdue_instructions(qs, now)
    elif show == "done":
        rows = qs.filter(done_at__isnull=False).order_by("-done_at")
    else:
        rows = qs.filter(done_at__isnull=True).order_by("deadline", "id")
    return render(
        request,
        "reception/instructions.html",
        {
            "rows": [
                {"i": i, "can_complete": services.can_complete(request.user, i)} for i in rows[:200]
            ],
            "show": show,
            "now": now,
            "form": CompleteForm(),
        },
    )


@login_required
@require_POST
def instruction_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    instruction = selectors.instructions_for(request.user).filter(pk=pk).first()
    if instruction is None:
        raise Http404("没有找到该批示")
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.instruction_complete(
                instruction=instruction, by=request.user, result=form.cleaned_data["result"]
            )
            messages.success(request, "已填报落实情况")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, "请填写落实结果")
    return redirect("reception:instructions")


# ---------------------------------------------------------------- group visits


@login_required
@require_GET
def group_visits(request: AuthedRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    now = timezone.now()
    rows = selectors.group_visits(request.user, show=show, now=now)[:200]
    return render(
        request,
        "reception/group_visits.html",
        {
            "rows": rows,
            "show": show,
            "now": now,
            "hours": conf.group_visit_receive_hours(),
            "size": conf.group_visit_size(),
        },
    )
