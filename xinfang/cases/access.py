"""Who may see and do what. Every page, export, search and notification asks here.

The rules:
- Admins see everything. Supervisors and unit heads see their unit's whole subtree; clerks
  and officers see their own unit.
- A user sees a matter when one of its units is in scope: the registering office, the lead
  unit, a co-handling unit, or the review organ.
- The accused unit of a report (检举控告) never sees who made it: the petitioner's identity and
  contact details are withheld from anyone working in the accused unit or below it.
"""

from __future__ import annotations

from functools import lru_cache

from django.db.models import Q, QuerySet

from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, CoHandler, State
from xinfang.cases.workflow import ACTIONS, refusal
from xinfang.orgs.models import Role, Unit, User

SUBTREE_ROLES = frozenset({Role.SUPERVISOR, Role.HEAD})


def scope_unit_ids(user: User) -> list[int] | None:
    """The units whose matters `user` may see; None means all (admin)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.role == Role.ADMIN or user.is_superuser:
        return None
    if user.unit_id is None:
        return []
    if user.role in SUBTREE_ROLES:
        return _subtree_ids(user.unit)
    return [user.unit_id]


@lru_cache(maxsize=4096)
def _subtree_ids_cached(path: str) -> tuple[int, ...]:
    return tuple(Unit.objects.filter(path__startswith=path).values_list("id", flat=True))


def _subtree_ids(unit: Unit) -> list[int]:
    """The unit and every unit below it. `user.unit` is loaded once per request, so after the
    first call this costs no query; the cache is dropped whenever a unit is saved or deleted."""
    return list(_subtree_ids_cached(unit.path))


def clear_cache(**kwargs) -> None:
    _subtree_ids_cached.cache_clear()


def visible_cases(user: User) -> QuerySet[Case]:
    """Every matter `user` may see."""
    ids = scope_unit_ids(user)
    if ids is None:
        return Case.objects.all()
    if not ids:
        return Case.objects.none()
    co = CoHandler.objects.filter(unit_id__in=ids).values("case_id")
    return Case.objects.filter(
        Q(office_id__in=ids) | Q(lead_unit_id__in=ids) | Q(review_unit_id__in=ids)
        | Q(rereview_unit_id__in=ids)
        | Q(id__in=co)
    )


QUEUE_SCOPES = {
    "lead": ("本单位主办", "lead_unit_id__in"),
    "office": ("本机构登记", "office_id__in"),
    "review": ("复查", "review_unit_id__in"),
    "rereview": ("复核", "rereview_unit_id__in"),
}


def default_queue_scope(user: User) -> str:
    if user.unit_id and user.unit.kind == Unit.Kind.PETITION_OFFICE:
        return "office"
    return "lead"


def queue_cases(user: User, scope: str) -> QuerySet[Case]:
    """The matters of one queue (台帐): one indexed column, so a million rows stay fast."""
    ids = scope_unit_ids(user)
    if ids is None:
        return Case.objects.all()
    if not ids:
        return Case.objects.none()
    if scope == "co":
        return Case.objects.filter(id__in=CoHandler.objects.filter(unit_id__in=ids).values("case_id"))
    _label, lookup = QUEUE_SCOPES.get(scope, QUEUE_SCOPES["lead"])
    return Case.objects.filter(**{lookup: ids})


def can_view(user: User, case: Case) -> bool:
    ids = scope_unit_ids(user)
    if ids is None:
        return True
    units = {case.office_id, case.lead_unit_id, case.review_unit_id, case.rereview_unit_id}
    if units & set(ids):
        return True
    return CoHandler.objects.filter(case=case, unit_id__in=ids).exists()


def in_accused_unit(user: User, case: Case) -> bool:
    """True when `user` works in the unit a report accuses, or under it."""
    if not case.accused_unit_id or not user.unit_id:
        return False
    return user.unit.path.startswith(case.accused_unit.path)


def can_see_petitioner(user: User, case: Case, *, known_visible: bool = False) -> bool:
    """May `user` see who the petitioner is? Never the accused unit of a report.

    `known_visible` skips the visibility check for rows that came from `visible_cases`.
    """
    if case.kind in CONFIDENTIAL_KINDS and in_accused_unit(user, case):
        return False
    return known_visible or can_view(user, case)


def _sides(user: User, case: Case) -> set[str]:
    """The parts `user` plays in this matter."""
    sides: set[str] = set()
    unit = user.unit_id
    # Administrators keep the system; they do not handle matters (separation of duties).
    if unit and unit == case.office_id and user.role in {Role.CLERK, Role.HEAD}:
        sides |= {"office", "citizen"}  # the office records what a petitioner says by letter or visit
    if unit and unit == case.lead_unit_id and user.role in {Role.OFFICER, Role.HEAD}:
        sides.add("handler")
        if user.role == Role.HEAD:
            sides.add("head")
    reviewing_unit = case.rereview_unit_id if case.state == State.REREVIEWING else case.review_unit_id
    if unit and unit == reviewing_unit and user.role in {Role.OFFICER, Role.HEAD}:
        sides.add("reviewer")
    if user.role == Role.SUPERVISOR and can_view(user, case):
        sides.add("supervisor")
    if ("office" in sides and case.state == State.REGISTERED) or ("handler" in sides and case.state == State.ROUTED):
        sides.add("office_or_handler")
    if ("handler" in sides and case.state == State.ACCEPTED) or ("reviewer" in sides and case.state in {
        State.REVIEWING,
        State.REREVIEWING,
    }):
        sides.add("clock_holder")
    return sides


def allowed_actions(user: User, case: Case) -> list[str]:
    """The actions `user` may take on `case` now, in table order."""
    if not can_view(user, case):
        return []
    sides = _sides(user, case)
    return [
        action.name
        for action in ACTIONS.values()
        if case.state in action.sources and action.actor in sides and not refusal(case, action.name)
    ]


def may(user: User, case: Case, action: str) -> bool:
    return action in allowed_actions(user, case)
