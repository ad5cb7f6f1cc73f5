"""Writes to the unit tree. 机构改革: a unit moves under another superior with its whole subtree."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr

from xinfang.orgs import rulecache
from xinfang.orgs.models import Unit, UnitMove, User

PATH_MAX = Unit._meta.get_field("path").max_length


def unit_move(*, unit: Unit, new_parent: Unit | None, by: User | None, reason: str) -> UnitMove:
    """Move `unit` and everything below it under `new_parent` (None: a top-level unit).

    In one transaction: lock the moved subtree and the new parent, refuse a move under the unit
    itself or under one of its own sub-units, rewrite the path of the unit and of every
    descendant in one UPDATE, record who moved what and why, and publish a new version of the
    unit tree so that every process's access rules follow (`rulecache`).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写调整理由（如机构改革的文件名称和文号）。", code="reason")
    if len(reason) > UnitMove._meta.get_field("reason").max_length:
        raise ValidationError("调整理由不能超过200字。", code="reason")
    with transaction.atomic():
        # One locking statement in id order, so two moves that touch the same units queue up
        # instead of deadlocking. (SQLite runs its write transactions one at a time anyway.)
        current_path = Unit.objects.filter(pk=unit.pk).values("path")[:1]
        wanted = Q(path__startswith=current_path) | Q(pk=unit.pk)
        if new_parent is not None:
            wanted |= Q(pk=new_parent.pk)
        locked = {u.pk: u for u in Unit.objects.select_for_update().filter(wanted).order_by("pk")}
        moving = locked.get(unit.pk)
        if moving is None:
            raise ValidationError("该单位已不存在。", code="missing")
        target = None
        if new_parent is not None:
            target = locked.get(new_parent.pk)
            if target is None:
                raise ValidationError("新的上级单位已不存在。", code="missing")
            if target.pk == moving.pk:
                raise ValidationError("不能把单位调整到它自身之下。", code="cycle")
            if target.path.startswith(moving.path):
                raise ValidationError(
                    f"“{target}”是“{moving}”的下级单位，不能把单位调整到它自己的下级单位之下。",
                    code="cycle",
                )
        if moving.parent_id == (target.pk if target else None):
            raise ValidationError("新的上级单位与原上级单位相同。", code="same")
        old_prefix = moving.path
        new_prefix = f"{target.path if target else '/'}{moving.pk}/"
        subtree = Unit.objects.filter(path__startswith=old_prefix)
        longest = max(len(u.path) for u in locked.values() if u.path.startswith(old_prefix))
        if longest - len(old_prefix) + len(new_prefix) > PATH_MAX:
            raise ValidationError("调整后单位层级过深，无法调整。", code="too_deep")
        Unit.objects.filter(pk=moving.pk).update(parent=target)
        count = subtree.update(path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)))
        move = UnitMove.objects.create(
            unit=moving,
            old_parent_id=moving.parent_id,
            new_parent=target,
            old_path=old_prefix,
            new_path=new_prefix,
            subtree_size=count,
            by=by,
            reason=reason,
        )
        rulecache.bump(rulecache.UNITS)
    unit.parent, unit.path = target, new_prefix
    return move
