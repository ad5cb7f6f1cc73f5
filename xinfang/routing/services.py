"""Writes of the routing app: what was suggested on a matter, and what the clerk chose."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases import access
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.selectors import same_petitioner_cases
from xinfang.cases.validators import clean_id_number, clean_phone
from xinfang.orgs.models import Category, PersonalDataView, Role, Unit, User
from xinfang.routing.engine import SuggestionSet
from xinfang.routing.models import AutoRouting, RoutingSuggestion


def suggestion_shown(
    *, case: Case, suggestions: SuggestionSet, at: dt.datetime | None = None
) -> RoutingSuggestion:
    """Record the suggestions shown on a matter (once per model version)."""
    existing = RoutingSuggestion.objects.filter(
        case=case, model_version=suggestions.model_version
    ).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return RoutingSuggestion.objects.create(
                case=case,
                model_version=suggestions.model_version,
                suggestions=suggestions.as_dicts(),
                shown_at=at or timezone.now(),
            )
    except IntegrityError:  # shown in two tabs at once
        return RoutingSuggestion.objects.get(case=case, model_version=suggestions.model_version)


def _latest(case: Case) -> RoutingSuggestion | None:
    return RoutingSuggestion.objects.filter(case=case).order_by("-shown_at", "-id").first()


def _decide(
    row: RoutingSuggestion,
    *,
    label: str,
    category_id: int | None,
    unit_id: int | None,
    by: User | None,
    at: dt.datetime,
) -> None:
    labels = row.top_labels
    row.chosen_label = label
    row.chosen_category = Category.objects.filter(pk=category_id).first() if category_id else None
    row.chosen_unit = Unit.objects.filter(pk=unit_id).first() if unit_id else None
    row.taken_top1 = bool(labels) and label == labels[0]
    row.taken_top3 = label in labels
    row.decided_by, row.decided_at = by, at


def suggestion_take(
    *, case: Case, label: str, by: User | None, at: dt.datetime | None = None
) -> RoutingSuggestion:
    """采纳建议: the clerk takes one of the suggestions shown with a click."""
    row = _latest(case)
    if row is None:
        raise ValueError("该事项没有可采纳的分派建议")
    item = next((s for s in row.suggestions if s["label"] == label), None)
    if item is None:
        raise ValueError(f"“{label}”不在建议之列")
    row.clicked_label = label
    _decide(
        row,
        label=label,
        category_id=item.get("subcategory_id") or item.get("category_id"),
        unit_id=item.get("unit_id"),
        by=by,
        at=at or timezone.now(),
    )
    row.save()
    return row


def _top_name(category: Category | None) -> str:
    if category is None:
        return ""
    return category.parent.name if category.parent_id else category.name


def suggestion_settle_route(*, case: Case, event: CaseEvent) -> RoutingSuggestion | None:
    """When a matter with suggestions is routed, record the unit chosen and which label it means.

    The label is the one clicked if the matter went to that suggestion's unit, else the
    suggestion whose unit it went to, else the matter's own category (picked by hand).
    """
    row = _latest(case)
    if row is None:
        return None
    unit_id = event.details.get("unit_id")
    by_unit = [s for s in row.suggestions if s.get("unit_id") and s["unit_id"] == unit_id]
    clicked = [s for s in by_unit if s["label"] == row.clicked_label]
    pick = (clicked or by_unit or [None])[0]
    if pick is not None:
        label, category_id = pick["label"], pick.get("subcategory_id") or pick.get("category_id")
    else:
        category = Category.objects.select_related("parent").filter(pk=case.category_id).first()
        label, category_id = _top_name(category), case.category_id
    _decide(row, label=label, category_id=category_id, unit_id=unit_id, by=event.actor, at=event.at)
    row.save()
    return row


def may_resume_auto_routing(user: User) -> bool:
    """Only an administrator resumes 智能派单 once it paused itself."""
    return user.is_authenticated and (user.role == Role.ADMIN or user.is_superuser)


def auto_routing_resume(*, by: User, at: dt.datetime | None = None) -> AutoRouting:
    """恢复智能派单 after a self-pause; the precision is counted anew from now."""
    from xinfang.routing import auto

    if not may_resume_auto_routing(by):
        raise PermissionDenied("只有系统管理员可以恢复智能派单")
    return auto.resume(by=by, at=at)


def same_petitioner_lookup(user: User, *, id_number: str, phone: str) -> list[Case]:
    """同一信访人的其他事项, for the registration form: only for those who register, only
    whole numbers that validate, only matters whose petitioner `user` may see; each match is
    recorded in the personal-data audit (a phone typed here names the matters of its owner).
    """
    if not access.may_register(user):
        return []
    try:
        id_number = clean_id_number(id_number) if id_number else ""
        phone = clean_phone(phone) if phone else ""
    except ValidationError:
        return []
    found = same_petitioner_cases(user, id_number=id_number, phone=phone)
    PersonalDataView.objects.bulk_create(
        PersonalDataView(
            user=user,
            case=c,
            fields="id_number,phone",
            purpose="same_petitioner",
            reason="登记时按证件号或电话查找同一信访人的事项",
        )
        for c in found
    )
    return found
