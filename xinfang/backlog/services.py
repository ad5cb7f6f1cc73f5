"""Every write of the backlog (积案化解): ownership, the task force and closing (包案、专班、息诉罢访、销号).

Each function checks who may act (PermissionDenied) and what is valid (ValidationError with a
Chinese message), writes, and appends a `BacklogEvent` in the same transaction. The other
writes: flagging.py (认定, scan, 反弹), planning.py (方案, 听议明定考), methods.py (会议, 救助,
调解, 听证, 约谈); their shared helpers are in writing.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from xinfang.backlog import permissions
from xinfang.backlog.models import (
    AcceptanceKind,
    BacklogCase,
    Status,
    TaskForceMember,
)
from xinfang.backlog.planning import current_plan
from xinfang.backlog.writing import (
    _event,
    _not_future,
    _now,
    _require_work,
)
from xinfang.cases.events import EventKind
from xinfang.cases.validators import clean_upload
from xinfang.orgs.models import User

# ---------------------------------------------------------------- ownership and task force


def backlog_assign_owner(
    *, backlog: BacklogCase, by: User, owner: User, at: dt.datetime | None = None
) -> BacklogCase:
    """包案: name the leader who owns the case (a unit head or supervisor)."""
    at = _now(at)
    if not permissions.can_lead(by, backlog.case):
        raise PermissionDenied("只有督查人员或单位负责人可以指定包案领导")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    if owner.role not in permissions.LEADER_ROLES or not owner.is_active:
        raise ValidationError("包案领导须为在职的单位负责人或督查督办人员")
    refusal = permissions.join_refusal(owner, backlog, by=by, as_owner=True)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        backlog.owner = owner
        backlog.save(update_fields=["owner"])
        _event(
            backlog, EventKind.BACKLOG_OWNER_ASSIGNED, by, at, owner=str(owner), owner_id=owner.pk
        )
    return backlog


def taskforce_add(
    *,
    backlog: BacklogCase,
    by: User,
    user: User,
    role: str = TaskForceMember.Role.MEMBER,
    at: dt.datetime | None = None,
) -> TaskForceMember:
    """专班: add a member (or the leader: one leader per task force)."""
    at = _now(at)
    if not (permissions.can_lead(by, backlog.case) or backlog.owner_id == by.pk):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以组建工作专班")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    if role not in TaskForceMember.Role.values:
        raise ValidationError("请选择专班职务")
    refusal = permissions.join_refusal(user, backlog, by=by)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        if role == TaskForceMember.Role.LEADER:
            backlog.members.filter(role=role).update(role=TaskForceMember.Role.MEMBER)
        member, _ = TaskForceMember.objects.update_or_create(
            backlog=backlog, user=user, defaults={"role": role}
        )
        _event(backlog, EventKind.BACKLOG_MEMBER_ADDED, by, at, user=str(user), role=role)
    return member


def taskforce_remove(
    *, backlog: BacklogCase, by: User, user: User, at: dt.datetime | None = None
) -> None:
    at = _now(at)
    if not (permissions.can_lead(by, backlog.case) or backlog.owner_id == by.pk):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以调整工作专班")
    with transaction.atomic():
        TaskForceMember.objects.filter(backlog=backlog, user=user).delete()
        _event(backlog, EventKind.BACKLOG_MEMBER_REMOVED, by, at, user=str(user))


# ---------------------------------------------------------------- closing (息诉罢访, 销号)


def acceptance_record(
    *,
    backlog: BacklogCase,
    by: User,
    on: dt.date,
    kind: str,
    note: str,
    evidence,
    at: dt.datetime | None = None,
) -> BacklogCase:
    """息诉罢访: the matter's outcome, with its written evidence (a signed statement, a reply record)."""
    at = _now(at)
    _require_work(by, backlog)
    _not_future(on, "息诉罢访日期", at)
    if kind not in AcceptanceKind.values:
        raise ValidationError("请选择佐证材料类型")
    if evidence is None:
        raise ValidationError("请上传息诉罢访佐证材料（签字承诺书或答复回执等）")
    clean_upload(evidence.name, evidence.size, evidence)
    with transaction.atomic():
        backlog.acceptance_on = on
        backlog.acceptance_kind = kind
        backlog.acceptance_note = note.strip()
        backlog.acceptance_evidence = evidence
        backlog.save()
        _event(backlog, EventKind.BACKLOG_ACCEPTANCE_RECORDED, by, at, on=on.isoformat(), kind=kind)
    return backlog


def close_problems(backlog: BacklogCase) -> list[str]:
    """Why this backlog case cannot close yet (empty when it can)."""
    problems = []
    plan = current_plan(backlog)
    if plan is None:
        problems.append("尚未制定化解方案")
    elif plan.executed_on is None:
        problems.append(f"化解方案（第{plan.version}版）尚未标记落实")
    if backlog.acceptance_on is None or not backlog.acceptance_evidence:
        problems.append("尚未记录息诉罢访及佐证材料")
    return problems


def backlog_close(*, backlog: BacklogCase, by: User, at: dt.datetime | None = None) -> BacklogCase:
    """销号: only with the plan carried out and the acceptance (息诉罢访) documented."""
    at = _now(at)
    if not permissions.can_close(by, backlog):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以化解销号")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    problems = close_problems(backlog)
    if problems:
        raise ValidationError("不能化解销号：" + "；".join(problems) + "。")
    with transaction.atomic():
        backlog.status = Status.CLOSED
        backlog.active = False
        backlog.closed_at = at
        backlog.closed_by = by
        backlog.save(update_fields=["status", "active", "closed_at", "closed_by"])
        _event(backlog, EventKind.BACKLOG_CLOSED, by, at)
    return backlog
