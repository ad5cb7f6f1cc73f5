"""Who may see and do what with backlog cases and the screening ledger.

- A backlog case is visible to whoever may view its matter (`access.can_view`), to its owning
  leader (包案领导) and to its task-force members; admins see all.
- Only supervisors and unit heads who can view the matter may flag, assign owners and close.
- The owner, task-force members, and supervisors/heads in scope record plans, steps and methods.
- Screening rounds belong to an office: staff whose scope covers that office see and edit them;
  the responsible leader of an entry sees its round.
- Who may join a task force (工作专班) or own a case (包案领导), `join_refusal`:
  * an active staff member with a unit (administrators keep the system, they do not handle
    matters);
  * for a report (检举控告, 举报, 投诉): nobody while its accused units are pending
    (被反映单位待确定), and never anyone working in an accused unit or below it (回避, 信访工作条例
    Art. 46);
  * and only staff whose unit may handle the matter: a unit of the matter (`access.case_units`:
    office, lead, co-handlers, review organs) or one below it, a unit named in the current
    resolution plan (主责、次责、配合), an organ above the matter's units (the government that
    supervises them), a unit of the matter's locality (属地: its place is the matter's place or
    within it), or a unit within the scope of the leader who adds them. Staff of another county
    or city, not named by the plan, stay out.
- Who sees the complainant on backlog pages and in the report: `privacy.sees_petitioner`
  (`access.can_see_petitioner`; members and the owner count as able to open the case, so a member
  sees the petitioner unless the member works in an accused unit, or the accused are pending).
"""

from __future__ import annotations

from xinfang.cases import access
from xinfang.cases.models import CONFIDENTIAL_KINDS
from xinfang.orgs.models import Role, Unit, User

LEADER_ROLES = frozenset({Role.HEAD, Role.SUPERVISOR})
SCREENING_EDIT_ROLES = frozenset({Role.CLERK, Role.HEAD, Role.SUPERVISOR})


def is_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.role == Role.ADMIN or user.is_superuser))


def is_member(user: User, backlog) -> bool:
    if not user.is_authenticated:
        return False
    if backlog.owner_id == user.pk:
        return True
    return backlog.members.filter(user=user).exists()


def can_view(user: User, backlog) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return is_admin(user) or is_member(user, backlog) or access.can_view(user, backlog.case)


def can_lead(user: User, case) -> bool:
    """May flag a matter, assign the owner and close: a supervisor or head who sees the matter."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role in LEADER_ROLES
        and access.can_view(user, case)
    )


def can_work(user: User, backlog) -> bool:
    """May record plans, cycle steps and methods."""
    if not user.is_authenticated or not user.is_active or is_admin(user):
        return False
    return is_member(user, backlog) or can_lead(user, backlog.case)


def can_close(user: User, backlog) -> bool:
    """May close (销号): a supervisor or head who sees the matter, or the owner if a leader."""
    return (backlog.owner_id == user.pk and user.role in LEADER_ROLES) or can_lead(
        user, backlog.case
    )


STAFF_ROLES = frozenset({Role.CLERK, Role.OFFICER, Role.HEAD, Role.SUPERVISOR})


def _plan_unit_ids(backlog) -> set[int]:
    plan = backlog.plans.order_by("-version").first()
    if plan is None:
        return set()
    ids = {plan.lead_unit_id}
    ids |= {u.pk for u in plan.secondary_units.all()} | {u.pk for u in plan.supporting_units.all()}
    return ids


def may_handle(user: User, backlog, *, by: User | None) -> bool:
    """Does `user`'s unit take part in the matter, sit below or above one of its units, belong
    to its locality, or lie within the scope of `by` (the leader adding them)?"""
    unit = user.unit
    ids = access.case_units(backlog.case) | _plan_unit_ids(backlog)
    paths = Unit.objects.filter(pk__in=ids).values_list("path", flat=True)
    if any(f"/{uid}/" in unit.path for uid in ids) or any(f"/{unit.pk}/" in path for path in paths):
        return True
    if _in_locality(unit, backlog.case.place_id):
        return True
    scope = access.scope_unit_ids(by) if by is not None else []
    return scope is None or unit.pk in scope


def _in_locality(unit: Unit, place_id: int | None) -> bool:
    """属地: the unit's place is the matter's place or lies within it (a few parents up)."""
    if place_id is None or unit.place_id is None:
        return False
    place, hops = unit.place, 0
    while place is not None and hops < 8:
        if place.pk == place_id:
            return True
        place, hops = place.parent, hops + 1
    return False


def join_refusal(user: User, backlog, *, by: User | None, as_owner: bool = False) -> str | None:
    """Why `user` may not join the task force of `backlog` (or own it), or None."""
    what = "担任包案领导" if as_owner else "加入工作专班"
    if (
        not user.is_active
        or user.unit_id is None
        or user.role not in STAFF_ROLES
        or user.is_superuser
    ):
        return f"“{user}”不是在职的单位工作人员，不能{what}"
    case = backlog.case
    if case.kind in CONFIDENTIAL_KINDS:
        if case.accused_pending:
            return f"该检举控告事项的被反映单位尚未确定，暂不能{what}"
        if access.in_accused_unit(user, case):
            return f"“{user}”所在单位是该事项的被反映单位或其下属单位，不能{what}（回避）"
    if not may_handle(user, backlog, by=by):
        return f"“{user}”所在单位不承办该事项，也不在您的管辖范围内，不能{what}"
    return None


def can_edit_round(user: User, round_) -> bool:
    if not user.is_authenticated or not user.is_active or user.role not in SCREENING_EDIT_ROLES:
        return False
    ids = access.scope_unit_ids(user)
    return ids is None or round_.office_id in ids


def can_view_round(user: User, round_) -> bool:
    if is_admin(user):
        return True
    if can_edit_round(user, round_):
        return True
    ids = access.scope_unit_ids(user) or []
    return round_.entries.filter(responsible=user).exists() or (
        bool(ids) and round_.office_id in ids
    )
