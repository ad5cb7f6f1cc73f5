"""The citizen portal (群众门户): public pages, no login. Thin: parse, call, render.

GET never changes anything. The one exception by design is the session: the receipt page
takes the query code out of the session as it shows it, so it can be shown exactly once.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.cases import notices
from xinfang.cases import services as case_services
from xinfang.cases.models import Case
from xinfang.cases.workflow import TransitionNotAllowed
from xinfang.orgs.http import client_address
from xinfang.portal import selectors, services
from xinfang.portal.forms import RateForm, ReviewForm, SubmitForm, TrackForm

SESSION_CASE = "portal_case"
SESSION_RECEIPT = "portal_receipt"
WRONG = "事项编号或查询码不正确"
TOO_MANY = "尝试次数过多，请稍后再试"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitForm(request.POST, request.FILES) if request.method == "POST" else SubmitForm()
    refusal = None
    if request.method == "POST" and form.is_valid():
        refusal = services.submission_refusal(
            ip=client_address(request),
            phone=form.cleaned_data.get("phone") or "",
            email=form.cleaned_data.get("email") or "",
        )
    if request.method == "POST" and form.is_valid() and refusal is None:
        try:
            done = services.portal_submit(
                data=form.cleaned_data, files=form.cleaned_data["attachments"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except ImproperlyConfigured as exc:
            return render(
                request, "portal/message.html", {"title": "暂停受理", "text": str(exc)}, status=503
            )
        else:
            request.session[SESSION_RECEIPT] = {
                "number": done.case.number,
                "code": done.code,
                "sent": done.receipt,
            }
            return redirect("portal:submitted")
    response = render(
        request,
        "portal/submit.html",
        {
            "form": form,
            "refusal": refusal,
            "matter_fields": [
                form[n] for n in ("kind", "title", "content", "place", "attachments")
            ],
            "contact_fields": [form[n] for n in ("name", "phone", "email", "address", "id_number")],
        },
        status=429 if refusal else 200,
    )
    if refusal:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _form_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        field = services.FIELD_MAP.get(name)
        for message in errors:
            form.add_error(field, message)


@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    """The receipt: number and query code, shown once (taken out of the session as it is shown)."""
    receipt = request.session.pop(SESSION_RECEIPT, None)
    response = render(request, "portal/submitted.html", {"receipt": receipt})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Number + query code (POST only, so codes stay out of URLs and logs)."""
    if request.method == "GET":
        return render(request, "portal/track.html", {"form": TrackForm()})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form}, status=400)
    number, code = form.cleaned_data["number"], form.cleaned_data["code"]
    if not services.lookup_allowed(ip=client_address(request), number=number):
        return render(
            request, "portal/track.html", {"form": TrackForm(), "error": TOO_MANY}, status=429
        )
    case = services.case_by_code(number=number, code=code)
    if case is None:
        services.lookup_failed(number=number)
        return render(request, "portal/track.html", {"form": TrackForm(), "error": WRONG})
    request.session.cycle_key()
    request.session[SESSION_CASE] = case.pk
    return redirect("portal:case")


def _authorised(request: HttpRequest) -> Case | None:
    pk = request.session.get(SESSION_CASE)
    if not pk:
        return None
    return Case.objects.select_related("place", "lead_unit").filter(pk=pk).first()


def _need_lookup(request: HttpRequest) -> HttpResponse:
    messages.warning(request, "请先输入事项编号和查询码")
    return redirect("portal:track")


@require_GET
def case(request: HttpRequest) -> HttpResponse:
    """The public case page: timeline, deadlines owed, notices, rating and review forms."""
    found = _authorised(request)
    if found is None:
        return _need_lookup(request)
    view = selectors.public_case(found)
    response = render(
        request,
        "portal/case.html",
        {
            "c": view,
            "rate_form": RateForm(),
            "review_form": ReviewForm(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def notice(request: HttpRequest, slug: str) -> HttpResponse:
    found = _authorised(request)
    if found is None:
        return _need_lookup(request)
    if slug not in notices.available_notices(found):
        return render(
            request,
            "portal/message.html",
            {"title": "文书不存在", "text": "该事项暂无此文书"},
            status=404,
        )
    data = notices.render_notice(found, slug, viewer=notices.PETITIONER)
    response = HttpResponse(data, content_type=notices.DOCX_CONTENT_TYPE)
    from urllib.parse import quote

    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(notices.notice_filename(found, slug))}"
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    found = _authorised(request)
    if found is None:
        return _need_lookup(request)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("portal:case")
    if not selectors.can_rate(found):
        messages.error(request, "该事项已评价或尚未答复，不能评价")
        return redirect("portal:case")
    return _act(
        request,
        "评价已提交，感谢您的反馈",
        case_services.case_rate,
        case=found,
        rating=form.cleaned_data["rating"],
        comment=form.cleaned_data["comment"],
    )


def _ask(request: HttpRequest, action: str) -> HttpResponse:
    found = _authorised(request)
    if found is None:
        return _need_lookup(request)
    now = timezone.now()
    events = list(selectors.case_timeline(found, public_only=True))
    window = selectors.review_window(found, events, now)
    label = "复查" if action == "review" else "复核"
    if window is None or window.action != action:
        messages.error(request, f"该事项当前不能申请{label}")
        return redirect("portal:case")
    if not window.open:
        messages.error(
            request, f"申请{label}的期限已于{selectors.cn_date(window.last_day)}届满，不能再申请"
        )
        return redirect("portal:case")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写请求和理由")
        return redirect("portal:case")
    service = (
        case_services.case_request_review
        if action == "review"
        else case_services.case_request_rereview
    )
    return _act(
        request,
        f"{label}申请已提交",
        service,
        case=found,
        reason=form.cleaned_data["reason"],
        at=now,
    )


def _act(
    request: HttpRequest, done: str, service, *, case: Case, at: dt.datetime | None = None, **kwargs
) -> HttpResponse:
    try:
        service(case=case, by=None, at=at, **kwargs)
    except (TransitionNotAllowed, ValidationError) as exc:
        text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect("portal:case")


@require_POST
def review(request: HttpRequest) -> HttpResponse:
    return _ask(request, "review")


@require_POST
def rereview(request: HttpRequest) -> HttpResponse:
    return _ask(request, "rereview")


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_CASE, None)
    return redirect("portal:home")
