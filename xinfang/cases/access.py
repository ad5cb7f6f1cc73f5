"""Who may see and do what with a matter. Every page, export, document, search, message and
side box asks here; nothing else fetches a matter by id or number for a user.

The rules:
- Admins see everything. Supervisors and unit heads see their unit's whole subtree; clerks
  and officers see their own unit.
- A user sees a matter when one of its units (`case_units`) is in scope: the registering
  office, the lead unit, a co-handling unit, or the review or re-review organ.
- The accused of a report (检举控告, 举报, 投诉) never learn who made it (信访工作条例 Art. 46):
  `can_see_petitioner` is false for anyone working in an accused unit or below it, and, while
  the accused units are not yet recorded (被反映单位待确定), for everyone but the registering
  office's clerks. Documents, lists, exports and messages use this one predicate.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet, prefetch_related_objects

from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, CoHandler, State
from xinfang.cases.workflow import ACTIONS, refusal
from xinfang.orgs.models import Role, Unit, User
from xinfang.orgs.selectors import clear_cache as clear_subtree_cache
from xinfang.orgs.selectors import subtree_ids

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
        return subtree_ids(user.unit)  # cached per process, kept current in all of them
    return [user.unit_id]


def clear_cache(**kwargs) -> None:
    clear_subtree_cache()


def visible_cases(user: User) -> QuerySet[Case]:
    """Every matter `user` may see."""
    ids = scope_unit_ids(user)
    if ids is None:
        return Case.objects.all()
    if not ids:
        return Case.objects.none()
    co = CoHandler.objects.filter(unit_id__in=ids).values("case_id")
    return Case.objects.filter(
        Q(office_id__in=ids)
        | Q(lead_unit_id__in=ids)
        | Q(review_unit_id__in=ids)
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
        return Case.objects.filter(
            id__in=CoHandler.objects.filter(unit_id__in=ids).values("case_id")
        )
    _label, lookup = QUEUE_SCOPES.get(scope, QUEUE_SCOPES["lead"])
    return Case.objects.filter(**{lookup: ids})


def _row_units(case: Case) -> set[int]:
    """The units named on the matter's own row (co-handlers are rows of their own)."""
    return {case.office_id, case.lead_unit_id, case.review_unit_id, case.rereview_unit_id} - {None}


def case_units(case: Case) -> set[int]:
    """The units a matter belongs to: office, lead, review, re-review and co-handlers."""
    return _row_units(case) | set(
        CoHandler.objects.filter(case=case).values_list("unit_id", flat=True)
    )


def can_view(user: User, case: Case) -> bool:
    ids = scope_unit_ids(user)
    if ids is None:
        return True
    if _row_units(case) & set(ids):
        return True
    return CoHandler.objects.filter(case=case, unit_id__in=ids).exists()


CASE_RELATED = (
    "office",
    "lead_unit",
    "place",
    "category__parent",
    "accused_unit",
    "review_unit",
    "rereview_unit",
    "linked_to",
)


def case_for_user(user: User, pk: int, *, related: tuple[str, ...] = CASE_RELATED) -> Case | None:
    """The matter `pk` if `user` may see it, else None (the caller answers 404 either way, so
    that a hidden matter and a missing one look the same)."""
    found = Case.objects.select_related(*related).filter(pk=pk)[:1]  # no ORDER BY, unlike first()
    case = found[0] if found else None
    if case is None or not can_view(user, case):
        return None
    if case.kind in CONFIDENTIAL_KINDS:  # read once here, not by each check on the page
        prefetch_related_objects([case], "other_accused_units")
    return case


# Why a number is looked up; the answer is the same neutral "not found" for all of them.
NUMBER_PURPOSES = frozenset({"repeat_of", "prior", "reception", "backlog"})
NOT_FOUND = "找不到该编号的事项，或您无权查看"


def case_by_number_for_user(user: User | None, number: str, purpose: str) -> Case | None:
    """The matter numbered `number` if `user` may see it, else None, whatever the reason.

    `user=None` is the system itself (imports, the demo, the worker). `purpose` names the
    caller (one of NUMBER_PURPOSES) so that every lookup by number is greppable.
    """
    if purpose not in NUMBER_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    number = (number or "").strip().upper()
    if not number:
        return None
    found = Case.objects.select_related("accused_unit", "lead_unit").filter(number=number)[:1]
    case = found[0] if found else None
    if case is None or (user is not None and not can_view(user, case)):
        return None
    return case


def accused_units(case: Case) -> list[Unit]:
    """Every unit a report accuses, the first named first (none for other kinds)."""
    if case.kind not in CONFIDENTIAL_KINDS:
        return []
    first = [case.accused_unit] if case.accused_unit_id else []
    # `.all()` uses a prefetch when there is one (case_for_user, queues, exports)
    return first + (list(case.other_accused_units.all()) if case.pk else [])


def accused_unit_ids(case: Case) -> set[int]:
    """Every unit a report accuses: the first named and the others."""
    return {u.pk for u in accused_units(case)}


def unit_is_accused(unit: Unit, case: Case) -> bool:
    """True when `unit` is an accused unit of a report, or below one (回避)."""
    return bool(unit.path) and any(f"/{uid}/" in unit.path for uid in accused_unit_ids(case))


def in_accused_unit(user: User, case: Case) -> bool:
    """True when `user` works in a unit that a report accuses, or under it."""
    if case.kind not in CONFIDENTIAL_KINDS or not user.unit_id:
        return False
    return unit_is_accused(user.unit, case)


def is_office_clerk(user: User, case: Case) -> bool:
    return user.unit_id is not None and user.unit_id == case.office_id and user.role == Role.CLERK


def can_see_petitioner(user: User, case: Case, *, known_visible: bool = False) -> bool:
    """May `user` see who the petitioner is (name, numbers, address, attachments)?

    Never anyone in an accused unit of a report; while a report's accused units are pending,
    only the registering office's clerks. `known_visible` skips the visibility check for rows
    that came from `visible_cases` or `case_for_user`.
    """
    if not user.is_authenticated or not (known_visible or can_view(user, case)):
        return False
    if case.kind not in CONFIDENTIAL_KINDS:
        return True
    if case.accused_pending:
        return is_office_clerk(user, case)
    return not in_accused_unit(user, case)


def may_register(user: User) -> bool:
    """登记: clerks of a unit (a petition office or a 12345 centre) and administrators."""
    return (
        user.is_authenticated and user.unit_id is not None and user.role in {Role.CLERK, Role.ADMIN}
    )


# The registering office's roles that record, correct and merge its matters.
OFFICE_ROLES = frozenset({Role.CLERK, Role.HEAD})
CLOSED = frozenset({State.DECLINED, State.NOT_ACCEPTED_AGAIN, State.FINAL})


def may_record_accused(user: User | None, case: Case) -> bool:
    """Record or correct a report's accused units: the registering office's clerks and head."""
    if case.kind not in CONFIDENTIAL_KINDS or case.state in CLOSED:
        return False
    if user is None:
        return True  # the system itself (an import, the demo)
    return user.unit_id is not None and user.unit_id == case.office_id and user.role in OFFICE_ROLES


def handled_by_accused(case: Case, other: Case) -> bool:
    """True when a unit handling `other` is accused by the report `case`, or below it (回避)."""
    if case.kind not in CONFIDENTIAL_KINDS or not accused_unit_ids(case):
        return False
    units = Unit.objects.filter(pk__in=case_units(other) - {other.office_id})
    return any(unit_is_accused(unit, case) for unit in units)


def merge_refusal(user: User | None, case: Case, main: Case) -> str | None:
    """Why `user` may not merge `case` into `main` (并单), or None.

    Only the registering office (clerk or head) merges, only into a matter it may see, and
    never across 回避: a report cannot join a matter handled by a unit it accuses, nor can a
    matter handled by the accused join the report (the petitioners of merged matters are told
    about the main one, so each must be safe for the other).
    """
    if user is not None and not (
        user.unit_id == case.office_id and user.role in OFFICE_ROLES and can_view(user, main)
    ):
        return "您无权对该事项进行“并单”操作"
    if case.accused_pending or main.accused_pending:
        return "检举控告类事项须先确定被反映单位，才能并单"
    if handled_by_accused(case, main) or handled_by_accused(main, case):
        return "被反映单位正在办理另一事项，不能并单（回避）"
    return None


def _sides(user: User, case: Case) -> set[str]:
    """The parts `user` plays in this matter."""
    sides: set[str] = set()
    unit = user.unit_id
    # Administrators keep the system; they do not handle matters (separation of duties).
    if unit and unit == case.office_id and user.role in {Role.CLERK, Role.HEAD}:
        sides |= {
            "office",
            "citizen",
        }  # the office records what a petitioner says by letter or visit
    if unit and unit == case.lead_unit_id and user.role in {Role.OFFICER, Role.HEAD}:
        sides.add("handler")
        if user.role == Role.HEAD:
            sides.add("head")
    reviewing_unit = (
        case.rereview_unit_id if case.state == State.REREVIEWING else case.review_unit_id
    )
    if unit and unit == reviewing_unit and user.role in {Role.OFFICER, Role.HEAD}:
        sides.add("reviewer")
    if user.role == Role.SUPERVISOR and can_view(user, case):
        sides.add("supervisor")
    if ("office" in sides and case.state == State.REGISTERED) or (
        "handler" in sides and case.state == State.ROUTED
    ):
        sides.add("office_or_handler")
    if ("handler" in sides and case.state == State.ACCEPTED) or (
        "reviewer" in sides
        and case.state
        in {
            State.REVIEWING,
            State.REREVIEWING,
        }
    ):
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
