"""The staff page of the outbox (消息发送记录): admins and supervisors only, each seeing the
messages of their own scope (see notify.selectors); recipients masked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xinfang.notify import selectors
from xinfang.notify.models import Outbox
from xinfang.orgs.models import Role


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR}):
        raise PermissionDenied("只有系统管理员和督查督办人员可以查看消息发送记录")
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    messages = selectors.outbox_list(user, status=status, channel=channel)
    page = Paginator(messages, 50).get_page(request.GET.get("page"))
    rows = selectors.outbox_rows(user, page.object_list)
    return render(request, "notify/outbox.html", {
        "page": page, "rows": rows, "status": status, "channel": channel,
        "statuses": Outbox.Status.choices, "channels": Outbox.Channel.choices,
        "counts": selectors.outbox_counts(user),
    })
