"""Reads of 督查督办: the lists of orders, a matter's orders and its co-handlers' answers."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.models import Case, CoHandler
from xinfang.orgs.models import Role, User
from xinfang.supervision.models import CoHandlerOpinion, SupervisionOrder

S = SupervisionOrder.Status
TABS = {
    "open": "待反馈",
    "overdue": "逾期未反馈",
    "answered": "待审核",
    "closed": "已办结",
}


def orders_for_user(user: User) -> QuerySet[SupervisionOrder]:
    """Orders `user` may see: a supervisor those on matters in scope; a unit those addressed to
    a unit in its scope. Only ever on matters the user may see."""
    qs = SupervisionOrder.objects.filter(case__in=access.visible_cases(user).values("id"))
    if user.role in {Role.SUPERVISOR, Role.ADMIN} or user.is_superuser:
        return qs
    ids = access.scope_unit_ids(user)
    return qs if ids is None else qs.filter(unit_id__in=ids)


def order_list(user: User, tab: str, *, now: dt.datetime | None = None, limit: int = 200) -> list[SupervisionOrder]:
    now = now or timezone.now()
    qs = orders_for_user(user)
    if tab == "overdue":
        qs = qs.filter(status=S.OPEN, deadline__lte=now).order_by("deadline", "id")
    elif tab == "open":
        qs = qs.filter(status=S.OPEN).order_by("deadline", "id")
    elif tab == "answered":
        qs = qs.filter(status=S.ANSWERED).order_by("feedback_at", "id")
    else:
        qs = qs.filter(status=S.CLOSED).order_by("-closed_at", "-id")
    return list(qs.select_related("case", "unit", "issued_by")[:limit])


def order_for_user(user: User, pk: int) -> SupervisionOrder | None:
    return orders_for_user(user).select_related("case", "unit", "issued_by", "feedback_by",
                                                "closed_by").filter(pk=pk).first()


def case_orders(case: Case) -> list[SupervisionOrder]:
    orders = list(SupervisionOrder.objects.filter(case=case).select_related("unit", "issued_by", "feedback_by")
                  .order_by("issued_at", "id"))
    for order in orders:
        order.case = case  # `services.may_close` reads it: no query per order on the case page
    return orders


def cohandler_answers(case: Case) -> list[dict]:
    """Each co-handling unit of the matter, and whether (and what) it has answered."""
    opinions: dict[int, list[CoHandlerOpinion]] = {}
    for op in CoHandlerOpinion.objects.filter(case=case).select_related("by").order_by("at", "id"):
        opinions.setdefault(op.unit_id, []).append(op)
    return [
        {"unit": co.unit, "answered": bool(opinions.get(co.unit_id)), "opinions": opinions.get(co.unit_id, [])}
        for co in CoHandler.objects.filter(case=case).select_related("unit").order_by("id")
    ]

