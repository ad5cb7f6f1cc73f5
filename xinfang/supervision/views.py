"""督查督办 pages: thin. Parse, call a selector or a service, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.cases import access
from xinfang.cases.models import Case
from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Role, User
from xinfang.supervision import selectors, services
from xinfang.supervision.forms import CloseForm, FeedbackForm, IssueForm, OpinionForm
from xinfang.supervision.models import SupervisionOrder


def _case(request: AuthedRequest, pk: int) -> Case:
    case = access.case_for_user(request.user, pk)
    if case is None:
        raise Http404("没有找到该事项，或您无权查看")
    return case


def _order(request: AuthedRequest, pk: int) -> SupervisionOrder:
    order = selectors.order_for_user(request.user, pk)
    if order is None:
        raise Http404("没有找到该督办单，或您无权查看")
    return order


def _errors(request: HttpRequest, form_or_exc) -> None:
    if isinstance(form_or_exc, ValidationError):
        messages.error(request, "；".join(form_or_exc.messages))
    else:
        messages.error(request, "；".join(e for errs in form_or_exc.errors.values() for e in errs))


def _submit(request: HttpRequest, form, call, back: str, **back_kwargs) -> HttpResponse:
    """The one shape of every POST here: a valid form's data goes to `call`, which runs the
    service and returns the success message; the form's or the service's errors become
    messages. Either way, back to the page the form was on."""
    if not form.is_valid():
        _errors(request, form)
    else:
        try:
            messages.success(request, call(form.cleaned_data))
        except ValidationError as exc:
            _errors(request, exc)
    return redirect(back, **back_kwargs)


def case_box(user: User, case: Case) -> dict:
    """Context for supervision/_case_box.html on the case page: the matter's supervision orders,
    the forms this user may use, and (for those handling it) whether each co-handler answered."""
    box: dict = {
        "orders": selectors.case_orders(case),
        "issue_form": None,
        "opinion_form": None,
        "cohandlers": selectors.cohandler_answers(case),
    }
    if services.may_issue(user, case):
        units = services.supervisable_units(case)
        if units:
            default = services.default_unit(case, units)
            box["issue_form"] = IssueForm(
                units=units, initial={"unit": default.pk if default else None}
            )
    box["answerable"] = {o.pk for o in box["orders"] if services.may_answer(user, o)}
    box["closable"] = {o.pk for o in box["orders"] if services.may_close(user, o)}
    if services.may_give_opinion(user, case):
        box["opinion_form"] = OpinionForm()
    return box


@login_required
def orders(request: AuthedRequest) -> HttpResponse:
    tab = request.GET.get("tab", "open")
    if tab not in selectors.TABS:
        tab = "open"
    user, now = request.user, timezone.now()
    found = selectors.order_list(user, tab, now=now)
    if request.GET.get("format") == "json":  # the page's twin: the same selector, the same rows
        return JsonResponse(
            {
                "tab": tab,
                "tab_label": selectors.TABS[tab],
                "items": [selectors.order_json(o, user, now) for o in found],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request,
        "supervision/orders.html",
        {
            "tab": tab,
            "tabs": selectors.TABS,
            "orders": found,
            "is_supervisor": user.role == Role.SUPERVISOR,
            "now": now,
        },
    )


@login_required
def order_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    user = request.user
    return render(
        request,
        "supervision/order.html",
        {
            "order": order,
            "now": timezone.now(),
            "feedback_form": FeedbackForm() if services.may_answer(user, order) else None,
            "close_form": CloseForm() if services.may_close(user, order) else None,
        },
    )


@login_required
@require_POST
def issue(request: AuthedRequest, case_pk: int) -> HttpResponse:
    case = _case(request, case_pk)
    if not services.may_issue(request.user, case):
        messages.error(request, "只有督查督办人员可以对本辖区的在办事项下达督办单")
        return redirect("cases:detail", pk=case.pk)
    units = services.supervisable_units(case)

    def call(d: dict) -> str:
        order = services.order_issue(
            case=case,
            by=request.user,
            requirements=d["requirements"],
            deadline_date=d["deadline"],
            unit=next(u for u in units if u.pk == d["unit"]),
        )
        return "已下达督办单" + (f"（{order.deadline_note}）" if order.deadline_note else "")

    return _submit(request, IssueForm(request.POST, units=units), call, "cases:detail", pk=case.pk)


@login_required
@require_POST
def feedback(request: AuthedRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)

    def call(d: dict) -> str:
        services.order_feedback(order=order, by=request.user, text=d["feedback"])
        return "已反馈督办单"

    return _submit(request, FeedbackForm(request.POST), call, "supervision:order", pk=pk)


@login_required
@require_POST
def close(request: AuthedRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)

    def call(d: dict) -> str:
        accept = d["decision"] == "close"
        services.order_close(
            order=order, by=request.user, accept=accept, note=d["note"], deadline_date=d["deadline"]
        )
        return "督办单已办结" if accept else "已退回重办"

    return _submit(request, CloseForm(request.POST), call, "supervision:order", pk=pk)


@login_required
@require_POST
def opinion(request: AuthedRequest, case_pk: int) -> HttpResponse:
    case = _case(request, case_pk)

    def call(d: dict) -> str:
        services.opinion_add(case=case, by=request.user, text=d["text"])
        return "已填报协办意见"

    return _submit(request, OpinionForm(request.POST), call, "cases:detail", pk=case.pk)
