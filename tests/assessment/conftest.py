"""A hand-worked first quarter of 2026 for the assessment (考核), computed on 10 April 2026.

The test scheme (not the default): 按期办结率 60 points, 满意率 40 points; per 逾期未办结 −2,
逾期答复 −1, 延期 −0.5, 异议被驳回 −3, 复查复核改变 −2, 催办未落实 −1 (5 days), 督办逾期未反馈 −4 capped
at 3, 积案化解销号 +5.

All registered 5 January by the county's petition office (信访局), routed 6 January:
  a1  → 人社局 (hr), accepted 7 Jan, replied 20 Jan (on time), rated 满意.
  a2  → hr, accepted 7 Jan, extended 30 days on 1 March, replied 20 March 不予支持 (on time with the
      extension), rated 不满意; review asked 22 March, decided 30 March 支持 (changed).
  a3  → hr, accepted 7 Jan, never replied: the 60 days end 9 March (8 March is a Sunday): overdue.
      Urged 12 March with nothing done after; a supervision order on 13 March with feedback due
      20 March, never answered.
  b1  → 教育局 (edu), which objects on 7 Jan; routed back to edu 8 Jan (objection rejected);
      accepted 9 Jan, replied 15 March (late: due 10 March), rated 满意.
  b2  → edu, accepted 7 Jan, replied 1 Feb (on time), rated 基本满意; flagged as a backlog case and
      cleared in March.

By hand:
  hr:  按期办结 2/2 = 100% × 60 = 60; 满意 1/2 = 50% × 40 = 20 → 80.
       逾期未办结 1 × 2 = 2; 延期 1 × 0.5 = 0.5; 复查改变 1 × 2 = 2; 催办未落实 1 × 1 = 1;
       督办逾期未反馈 1 × 4 = 4, capped at 3 → deductions 8.5 → total 71.5, rank 1.
  edu: 按期办结 1/2 = 50% × 60 = 30; 满意 2/2 = 100% × 40 = 40 → 70.
       异议被驳回 1 × 3 = 3; 逾期答复 1 × 1 = 1 → deductions 4; 积案化解 +5 → total 71, rank 2.
  every other unit of the county (信访局, 区政府, 住建局, 实验小学, 东湖街道): 无数据, unranked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import bj, register
from xinfang.assessment.models import Adjustment, Indicator, Scheme
from xinfang.backlog import flagging as backlog_flagging
from xinfang.backlog.models import BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases import services as s
from xinfang.cases.models import Outcome, Rating
from xinfang.reports.selectors import Period
from xinfang.supervision import services as supervision

Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
NOW = bj(2026, 4, 10, 9)


def _reply(case, by, at, outcome=Outcome.SUPPORTED):
    return s.case_reply(case=case, by=by, outcome=outcome, text="经调查，答复如下。", at=at)


@pytest.fixture
def scheme(db):
    sc = Scheme.objects.create(name="测试方案", active=False, urge_response_days=5)
    Indicator.objects.create(scheme=sc, rate="complete_on_time", weight=Decimal(60), position=0)
    Indicator.objects.create(scheme=sc, rate="satisfaction", weight=Decimal(40), position=1)
    for i, (item, points, cap) in enumerate(
        [
            ("overdue_open", "2", None),
            ("overdue_reply", "1", None),
            ("extension", "0.5", None),
            ("objection_rejected", "3", None),
            ("review_changed", "2", None),
            ("urge_ignored", "1", None),
            ("supervision_ignored", "4", "3"),
            ("supervision_late", "1", None),
            ("backlog_cleared", "5", None),
        ]
    ):
        Adjustment.objects.create(
            scheme=sc,
            item=item,
            points=Decimal(points),
            cap=None if cap is None else Decimal(cap),
            position=i,
        )
    return sc


@pytest.fixture
def quarter(county, people):
    c, p = county, people
    reg = bj(2026, 1, 5, 9)

    def route(case, unit, day):
        return s.case_route(case=case, by=p.clerk, unit=unit, at=bj(2026, 1, day, 10))

    a1, a2, a3 = (register(c, p.clerk, reg, title=t) for t in ("欠薪一", "欠薪二", "欠薪三"))
    b1, b2 = (
        register(c, p.clerk, reg, title=t, category=c.schooling) for t in ("入学一", "入学二")
    )
    for case in (a1, a2, a3):
        route(case, c.hr, 6)
        s.case_accept(case=case, by=p.officer, at=bj(2026, 1, 7, 10))
    _reply(a1, p.officer, bj(2026, 1, 20, 10))
    s.case_rate(case=a1, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 1, 21, 10))
    s.case_extend(case=a2, by=p.head, days=30, reason="需要进一步调查", at=bj(2026, 3, 1, 10))
    _reply(a2, p.officer, bj(2026, 3, 20, 10), Outcome.NOT_SUPPORTED)
    s.case_rate(case=a2, by=p.clerk, rating=Rating.UNSATISFIED, at=bj(2026, 3, 21, 10))
    s.case_request_review(case=a2, by=None, reason="不服", at=bj(2026, 3, 22, 10))
    s.case_decide_review(
        case=a2, by=p.reviewer, outcome=Outcome.SUPPORTED, text="改为支持", at=bj(2026, 3, 30, 10)
    )
    s.case_urge(case=a3, by=p.supervisor, note="请抓紧办理", at=bj(2026, 3, 12, 10))
    a3.refresh_from_db()  # routed and accepted since register() returned it
    supervision.order_issue(
        case=a3,
        by=p.supervisor,
        requirements="请说明逾期原因",
        deadline_date=dt.date(2026, 3, 20),
        at=bj(2026, 3, 13, 10),
    )

    route(b1, c.edu, 6)
    s.case_object(case=b1, by=p.outsider, reason="不属于教育局职责", at=bj(2026, 1, 7, 10))
    route(b1, c.edu, 8)
    s.case_accept(case=b1, by=p.outsider, at=bj(2026, 1, 9, 10))
    _reply(b1, p.outsider, bj(2026, 3, 15, 10))
    s.case_rate(case=b1, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 3, 16, 10))
    route(b2, c.edu, 6)
    s.case_accept(case=b2, by=p.outsider, at=bj(2026, 1, 7, 10))
    _reply(b2, p.outsider, bj(2026, 2, 1, 10))
    s.case_rate(case=b2, by=p.clerk, rating=Rating.BASICALLY, at=bj(2026, 2, 2, 10))
    b2.refresh_from_db()
    backlog = backlog_flagging.backlog_flag(
        case=b2, by=None, reason="多次反映", at=bj(2026, 2, 10, 10)
    )
    # test setup: the acceptance paperwork of 销号 is not what is under test here
    BacklogCase.objects.filter(pk=backlog.pk).update(
        status=BacklogStatus.CLOSED, active=False, closed_at=bj(2026, 3, 25, 10)
    )
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "b2": b2}
