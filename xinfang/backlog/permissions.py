"""Who may see and do what with backlog cases and the screening ledger.

- A backlog case is visible to whoever may view its matter (`access.can_view`), to its owning
  leader (包案领导) and to its task-force members; admins see all.
- Only supervisors and unit heads who can view the matter may flag, assign owners and close.
- The owner, task-force members, and supervisors/heads in scope record plans, steps and methods.
- Screening rounds belong to an office: staff whose scope covers that office see and edit them;
  the responsible leader of an entry sees its round.
"""

from __future__ import annotations

from xinfang.cases import access
from xinfang.orgs.models import Role, User

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
        user.is_authenticated and user.is_active and user.role in LEADER_ROLES
        and access.can_view(user, case)
    )


def can_work(user: User, backlog) -> bool:
    """May record plans, cycle steps and methods."""
    if not user.is_authenticated or not user.is_active or is_admin(user):
        return False
    return is_member(user, backlog) or can_lead(user, backlog.case)


def can_close(user: User, backlog) -> bool:
    """May close (销号): a supervisor or head who sees the matter, or the owner if a leader."""
    return (backlog.owner_id == user.pk and user.role in LEADER_ROLES) or can_lead(user, backlog.case)


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
