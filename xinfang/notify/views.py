"""The staff page of the outbox (消息发送记录): admins and supervisors only, each seeing the
messages of their own scope (see notify.selectors); recipients masked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases.selectors import clock_rules
from xinfang.notify import selectors, services
from xinfang.notify.models import Outbox
from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Role


@login_required
@require_GET
def outbox(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR}):
        raise PermissionDenied("只有系统管理员和督查督办人员可以查看消息发送记录")
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    messages = selectors.outbox_list(user, status=status, channel=channel)
    page = Paginator(messages, 50).get_page(request.GET.get("page"))
    rows = selectors.outbox_rows(user, page.object_list)
    return render(
        request,
        "notify/outbox.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "channel": channel,
            "statuses": Outbox.Status.choices,
            "channels": Outbox.Channel.choices,
            "counts": selectors.outbox_counts(user),
        },
    )


LIST_LIMIT = 200


@login_required
@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    """我的提醒: the reminders of the user's unit and the due matters of the user's queue."""
    user = request.user
    now = timezone.now()
    rules = clock_rules()
    reminders = list(
        selectors.my_reminders(user)
        .select_related("case")
        .order_by("is_read", "-created_at", "-id")[:LIST_LIMIT]
    )
    due = list(
        selectors.my_due_cases(user, now).only(
            "id", "number", "kind", "clock", "due_at", "warn_at"
        )[:LIST_LIMIT]
    )
    for item in [*reminders, *due]:
        rule = rules.get(item.clock)
        item.clock_label = rule.label if rule else item.clock
    return render(
        request,
        "notify/mine.html",
        {
            "reminders": reminders,
            "due": due,
            "now": now,
            "unread": sum(1 for r in reminders if not r.is_read),
        },
    )


@login_required
@require_POST
def mine_read(request: AuthedRequest) -> HttpResponse:
    if request.POST.get("all"):
        services.reminders_mark_read(user=request.user)
    else:
        ids = [
            int(v)
            for v in request.POST.getlist("reminder")
            if v.isascii() and v.isdigit() and len(v) < 12
        ]
        if ids:
            services.reminders_mark_read(user=request.user, ids=ids)
    return redirect("notify:mine")
