"""Which office a reception page is about (shared by the rota, records and slot pages)."""

from __future__ import annotations

from django.http import Http404

from xinfang.orgs.http import AuthedRequest
from xinfang.orgs.models import Unit
from xinfang.reception import selectors


def _office(request: AuthedRequest, offices=None) -> Unit:
    """The office a page is about: ?office=<code>, else the user's own, else the first visible
    (of `offices`, by default those whose reception work the user sees today)."""
    offices = selectors.offices_for_user(request.user) if offices is None else offices
    code = request.GET.get("office") or request.POST.get("office")
    if code:
        office = offices.filter(code=code).first()
    else:
        office = offices.filter(pk=request.user.unit_id).first() or offices.order_by("path").first()
    if office is None:
        raise Http404("没有找到该信访机构，或您无权查看其接访安排")
    return office
