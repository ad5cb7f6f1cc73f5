"""GET /api/assessments and /api/assessments/{id}: the same selectors and rules as the pages
(units see published assessments: the ranking, and the breakdown of their own units)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Status

from xinfang.api import schemas as s
from xinfang.assessment import selectors
from xinfang.orgs.http import AuthedRequest

NOT_FOUND = "没有找到该考核结果，或您无权查看"


def register(api: NinjaAPI) -> None:
    """Add the assessment paths to the project's API (called once from xinfang.api.rest)."""

    @api.get(
        "/assessments",
        response={200: dict[str, Any], 401: s.ErrorOut},
        tags=["统计"],
        summary="考核结果列表",
    )
    def list_assessments(request: AuthedRequest):
        """督查人员：本辖区的全部考核结果（含草稿）；其他人员：已发布且包含本单位的考核结果。"""
        found = selectors.visible_assessments(request.user).order_by("-period_end", "-pk")[:200]
        return {"assessments": [selectors.assessment_summary(a) for a in found]}

    @api.get(
        "/assessments/{assessment_id}",
        response={200: dict[str, Any], 401: s.ErrorOut, 404: s.ErrorOut, 422: s.ErrorOut},
        tags=["统计"],
        summary="考核结果（排名与得分明细）",
    )
    def get_assessment(request: AuthedRequest, assessment_id: int):
        """排名、各单位总分；本单位（督查人员为辖区内各单位）的指标得分、扣分和加分明细。"""
        if not 0 < assessment_id < 2**53:
            return Status(404, {"detail": NOT_FOUND, "errors": {}})
        found = selectors.assessment_for_user(request.user, assessment_id)
        if found is None:
            return Status(404, {"detail": NOT_FOUND, "errors": {}})
        return selectors.assessment_json(request.user, found)
