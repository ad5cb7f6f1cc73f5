"""Reads of 督查督办: the lists of orders, a matter's orders and its co-handlers' answers."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.utils import timezone

from xinfang.cases import access, deadlines
from xinfang.cases.models import Case, CoHandler
from xinfang.orgs.models import Role, User
from xinfang.orgs.selectors import subtree_ids
from xinfang.supervision import services
from xinfang.supervision.models import CoHandlerOpinion, SupervisionOrder

S = SupervisionOrder.Status
TABS = {
    "open": "待反馈",
    "overdue": "逾期未反馈",
    "answered": "待审核",
    "closed": "已办结",
}


RELATED = ("case", "unit", "issued_by", "feedback_by", "closed_by")
OPEN_STATES = (S.OPEN, S.ANSWERED)  # not yet closed: waiting for the unit or for the supervisor


def _addressed(qs: QuerySet[SupervisionOrder], user: User) -> QuerySet[SupervisionOrder]:
    """A supervisor sees every order on the matters in scope; a unit only those addressed to a
    unit in its scope (a co-handler does not read the lead unit's orders)."""
    if user.role in {Role.SUPERVISOR, Role.ADMIN} or user.is_superuser:
        return qs
    ids = access.scope_unit_ids(user)
    return qs if ids is None else qs.filter(unit_id__in=ids)


def orders_for_user(user: User) -> QuerySet[SupervisionOrder]:
    """Orders `user` may see: a supervisor those on matters in scope; a unit those addressed to
    a unit in its scope. Only ever on matters the user may see."""
    return _addressed(
        SupervisionOrder.objects.filter(case__in=access.visible_cases(user).values("id")), user
    )


def open_order_counts(user: User, case_ids) -> dict[int, int]:
    """Unclosed orders per matter that `user` may see, for a page of the queue (one query).
    `case_ids` are matters already known visible (rows of the user's queue)."""
    qs = SupervisionOrder.objects.filter(case_id__in=list(case_ids), status__in=OPEN_STATES)
    return dict(
        _addressed(qs, user).values("case_id").annotate(n=Count("id")).values_list("case_id", "n")
    )


def order_filter(
    user: User,
    *,
    state: str | None = None,
    unit_id: int | None = None,
    overdue: bool | None = None,
    after: int | None = None,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> tuple[list[SupervisionOrder], int | None]:
    """One page of the orders `user` may see, newest first, for the API and the page's JSON twin.

    `unit_id`: orders addressed to that unit or a unit below it; `overdue`: open (待反馈) and past
    the deadline, or not; `after`: the id the previous page ended with. Returns (orders, the next
    page's `after`, or None)."""
    now = now or timezone.now()
    qs = orders_for_user(user)
    if state:
        qs = qs.filter(status=state)
    if unit_id is not None:
        qs = qs.filter(unit_id__in=subtree_ids(unit_id))
    if overdue is True:
        qs = qs.filter(status=S.OPEN, deadline__lte=now)
    elif overdue is False:
        qs = qs.exclude(status=S.OPEN, deadline__lte=now)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    found = list(qs.select_related(*RELATED).order_by("-pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1].pk if more else None)


def _local(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _name(user: User | None) -> str:
    return str(user) if user is not None else ""


def order_json(order: SupervisionOrder, user: User, now: dt.datetime) -> dict:
    """One order as data: what its page shows, and what `user` may do with it. Names the matter
    by number and title only, never the petitioner."""
    return {
        "id": order.pk,
        "case": {"id": order.case_id, "number": order.case.number, "title": order.case.title},
        "unit": {"id": order.unit_id, "name": order.unit.name},
        "issued_by": _name(order.issued_by),
        "issued_at": _local(order.issued_at),
        "requirements": order.requirements,
        "deadline": _local(order.deadline),
        "deadline_last_day": deadlines.last_day(order.deadline).isoformat(),
        "deadline_note": order.deadline_note,
        "state": order.status,
        "state_label": order.get_status_display(),
        "overdue": order.status == S.OPEN and order.deadline <= now,
        "escalated_at": _local(order.escalated_at),
        "redo_count": order.redo_count,
        "feedback": order.feedback,
        "feedback_by": _name(order.feedback_by),
        "feedback_at": _local(order.feedback_at),
        "closed_by": _name(order.closed_by),
        "closed_at": _local(order.closed_at),
        "close_note": order.close_note,
        "can_feedback": services.may_answer(user, order),
        # the state first: may_close asks access.can_view, which may query
        "can_close": order.status == S.ANSWERED and services.may_close(user, order),
    }


def order_list(
    user: User, tab: str, *, now: dt.datetime | None = None, limit: int = 200
) -> list[SupervisionOrder]:
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
    return list(qs.select_related(*RELATED)[:limit])


def order_for_user(user: User, pk: int) -> SupervisionOrder | None:
    return orders_for_user(user).select_related(*RELATED).filter(pk=pk).first()


def case_orders(case: Case) -> list[SupervisionOrder]:
    orders = list(
        SupervisionOrder.objects.filter(case=case)
        .select_related("unit", "issued_by", "feedback_by")
        .order_by("issued_at", "id")
    )
    for order in orders:
        order.case = case  # `services.may_close` reads it: no query per order on the case page
    return orders


def cohandler_answers(case: Case) -> list[dict]:
    """Each co-handling unit of the matter, and whether (and what) it has answered."""
    opinions: dict[int, list[CoHandlerOpinion]] = {}
    for op in CoHandlerOpinion.objects.filter(case=case).select_related("by").order_by("at", "id"):
        opinions.setdefault(op.unit_id, []).append(op)
    return [
        {
            "unit": co.unit,
            "answered": bool(opinions.get(co.unit_id)),
            "opinions": opinions.get(co.unit_id, []),
        }
        for co in CoHandler.objects.filter(case=case).select_related("unit").order_by("id")
    ]
