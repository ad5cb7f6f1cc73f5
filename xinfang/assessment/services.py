"""Every write of 考核: compute (a draft), recompute, review (复核), publish (发布).

draft → reviewed → published. Until published an assessment may be recomputed (in place; a
reviewed one goes back to draft, since its figures may have changed). A published assessment is
frozen: recomputing it makes a new draft that names it (`supersedes`). Each step records who
did it and when.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from xinfang.assessment import selectors
from xinfang.assessment.models import Assessment, AssessmentLine, Scheme
from xinfang.cases import access
from xinfang.orgs.models import Unit, User
from xinfang.reports.selectors import Period

S = Assessment.Status
NOT_ASSESSOR = "只有督查督办人员或系统管理员可以计算、复核和发布考核结果"


def _root(user: User) -> Unit | None:
    """The scope an assessor's assessment covers: their unit's subtree (admins: every unit)."""
    return None if access.scope_unit_ids(user) is None else user.unit


def _write_lines(assessment: Assessment, lines: list[selectors.Line]) -> None:
    AssessmentLine.objects.bulk_create(
        AssessmentLine(
            assessment=assessment,
            unit=line.unit,
            has_data=line.has_data,
            indicator_score=line.indicator_score,
            deductions=line.deductions,
            credits=line.credits,
            total=line.total,
            rank=line.rank,
            breakdown={"indicators": line.indicators, "items": line.items},
        )
        for line in lines
    )


def assessment_compute(
    user: User,
    scheme: Scheme,
    period: Period,
    *,
    now: dt.datetime | None = None,
    supersedes: Assessment | None = None,
) -> Assessment:
    """A new draft assessment of the units in `user`'s scope for `period`, with `scheme`."""
    if not selectors.is_assessor(user):
        raise PermissionDenied(NOT_ASSESSOR)
    if not scheme.indicators.exists() and not scheme.adjustments.exists():
        raise ValidationError({"scheme": "该考核方案没有任何指标或扣分、加分项"})
    now = now or timezone.now()
    root = supersedes.unit if supersedes is not None else _root(user)
    snapshot = selectors.scheme_snapshot(scheme)
    lines = selectors.compute_lines(user, snapshot, period, root=root, now=now)
    with transaction.atomic():
        assessment = Assessment.objects.create(
            scheme=scheme,
            scheme_snapshot=snapshot,
            unit=root,
            period_start=period.start,
            period_end=period.end,
            status=S.DRAFT,
            computed_at=now,
            computed_by=user,
            supersedes=supersedes,
        )
        _write_lines(assessment, lines)
    return assessment


def _locked(assessment: Assessment, user: User) -> Assessment:
    fresh = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not selectors.may_manage(user, fresh):
        raise PermissionDenied(NOT_ASSESSOR)
    return fresh


def assessment_recompute(
    user: User, assessment: Assessment, *, now: dt.datetime | None = None
) -> Assessment:
    """Recompute with the current scheme and timeline. A published assessment stays as it was and
    a new draft is made; otherwise the draft's lines are replaced (and a review is undone)."""
    if not selectors.may_manage(user, assessment):
        raise PermissionDenied(NOT_ASSESSOR)
    period = Period(assessment.period_start, assessment.period_end)
    scheme = assessment.scheme
    if assessment.frozen:
        return assessment_compute(user, scheme, period, now=now, supersedes=assessment)
    now = now or timezone.now()
    snapshot = selectors.scheme_snapshot(scheme)
    lines = selectors.compute_lines(user, snapshot, period, root=assessment.unit, now=now)
    with transaction.atomic():
        assessment = _locked(assessment, user)
        if assessment.frozen:  # published meanwhile
            raise ValidationError("该考核结果已发布，不能重新计算；请重新计算生成新的草稿")
        assessment.lines.all().delete()
        _write_lines(assessment, lines)
        assessment.scheme_snapshot, assessment.status = snapshot, S.DRAFT
        assessment.computed_at, assessment.computed_by = now, user
        assessment.reviewed_at = assessment.reviewed_by = None
        assessment.save()
    return assessment


def assessment_review(
    user: User, assessment: Assessment, *, now: dt.datetime | None = None
) -> Assessment:
    """复核: the supervisor checks the draft's figures."""
    with transaction.atomic():
        assessment = _locked(assessment, user)
        if assessment.status != S.DRAFT:
            raise ValidationError(f"该考核结果{assessment.get_status_display()}，只有草稿可以复核")
        assessment.status, assessment.reviewed_at, assessment.reviewed_by = (
            S.REVIEWED,
            now or timezone.now(),
            user,
        )
        assessment.save(update_fields=["status", "reviewed_at", "reviewed_by"])
    return assessment


def assessment_publish(
    user: User, assessment: Assessment, *, now: dt.datetime | None = None
) -> Assessment:
    """发布: the units see the ranking and their own breakdown; the figures are frozen."""
    with transaction.atomic():
        assessment = _locked(assessment, user)
        if assessment.status != S.REVIEWED:
            message = "该考核结果已发布" if assessment.frozen else "考核结果须先复核，才能发布"
            raise ValidationError(message)
        assessment.status, assessment.published_at, assessment.published_by = (
            S.PUBLISHED,
            now or timezone.now(),
            user,
        )
        assessment.save(update_fields=["status", "published_at", "published_by"])
    return assessment
