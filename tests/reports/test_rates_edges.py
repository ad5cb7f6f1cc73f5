"""The rates on hand-worked edge cases: each test's docstring gives the expected numerator and
denominator, and each figure is checked twice, in the table (`rates_table`) and in its
drill-down (`drill_rows`), so that the list behind a figure is exactly the figure.

All times are Beijing time. Clocks used below (2026 holidays from the official calendar):
- route (转送交办): 15 days from registration; accept (受理): 15 days from receipt;
  handle (办理): 60 days from acceptance; each ends at 24:00, a rest day moving it on.
- registered 5 Jan → route clock ends 20 Jan (Tue), i.e. due 21 Jan 00:00.
- routed 6 Jan → accept clock ends 21 Jan (Wed), due 22 Jan 00:00.
- accepted 6 Jan → 60 days end 7 Mar (Sat) → 9 Mar (Mon), due 10 Mar 00:00; with 10 paused
  days or a 10-day extension 17 Mar (Tue), due 18 Mar 00:00; with 30 days 6 Apr (清明, a
  holiday) → 7 Apr, due 8 Apr 00:00.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import bj, make_user, register
from xinfang.cases import services as s
from xinfang.cases.models import Kind, Outcome, Rating
from xinfang.orgs.models import Role
from xinfang.orgs.services import unit_move
from xinfang.reports.models import RateConfig
from xinfang.reports.rates import BY_NAME
from xinfang.reports.selectors import Period, drill_rows, rates_table

Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def figure(user, rate: str, period: Period = Q1, by: str = "all", group="all") -> tuple[float, int]:
    table = rates_table(user, period, by)
    row = (
        table.total
        if group == "all"
        else next((r for r in table.rows if r.key == str(group)), None)
    )
    if row is None:
        return (0, 0)
    f = row.figures[rate]
    return (f.numerator, f.denominator)


def behind(
    user, rate: str, part: str, period: Period = Q1, by: str = "all", group="all"
) -> list[str]:
    return sorted(
        r.case.title for r in drill_rows(user, BY_NAME[rate], part, period, by, str(group))
    )


def check(
    user,
    rate: str,
    n,
    d: int,
    *,
    numerator: list[str],
    denominator: list[str],
    period: Period = Q1,
    by: str = "all",
    group="all",
) -> None:
    """The figure is n/d, and its drill-down lists exactly these matters (a title once per row)."""
    assert figure(user, rate, period, by, group) == (n, d), rate
    assert behind(user, rate, "denominator", period, by, group) == sorted(denominator), rate
    assert behind(user, rate, "numerator", period, by, group) == sorted(numerator), rate
    assert len(denominator) == d
    if not BY_NAME[rate].weighted:
        assert len(numerator) == n


def route(case, p, unit, at, **kw):
    return s.case_route(case=case, by=p.clerk, unit=unit, at=at, **kw)


def reply(case, by, at, outcome=Outcome.SUPPORTED):
    return s.case_reply(case=case, by=by, outcome=outcome, text="经调查，答复如下。", at=at)


ACCEPTED_AT = bj(2026, 1, 6, 15)


def accepted(c, p, title, *, at=ACCEPTED_AT, **kw):
    """A petition registered 5 Jan, routed to 人社局 6 Jan 10:00 and accepted at `at`."""
    case = register(c, p.clerk, bj(2026, 1, 5, 9), title=title, **kw)
    route(case, p, c.hr, bj(2026, 1, 6, 10))
    return s.case_accept(case=case, by=p.officer, at=at)


# ---------------------------------------------------------------- matters moved between units


def test_objected_then_rerouted_routing_and_acceptance(county, people):
    """Registered 5 Jan; routed to 教育局 6 Jan (on time); 教育局 objects 7 Jan; re-routed to
    人社局 21 Jan — late, the route clock runs from registration and ended 20 Jan; 人社局
    accepts 22 Jan, on time (its clock runs from its own receipt, 21 Jan).

    转送交办及时率, the office: 1 / 2 (the same matter twice: one row per routing).
    及时受理率: 人社局 1 / 1; 教育局 0 / 0 — it never accepted, so it has no row at all.
    """
    c, p = county, people
    m = register(c, p.clerk, bj(2026, 1, 5, 9), title="改派")
    route(m, p, c.edu, bj(2026, 1, 6, 10))
    s.case_object(case=m, by=p.outsider, reason="不属于教育局职责", at=bj(2026, 1, 7, 10))
    route(m, p, c.hr, bj(2026, 1, 21, 10))
    s.case_accept(case=m, by=p.officer, at=bj(2026, 1, 22, 10))

    sup = p.supervisor
    check(
        sup,
        "route_on_time",
        1,
        2,
        numerator=["改派"],
        denominator=["改派", "改派"],
        by="unit",
        group=c.office.pk,
    )
    check(
        sup,
        "accept_on_time",
        1,
        1,
        numerator=["改派"],
        denominator=["改派"],
        by="unit",
        group=c.hr.pk,
    )
    check(sup, "accept_on_time", 0, 0, numerator=[], denominator=[], by="unit", group=c.edu.pk)
    check(p.outsider, "accept_on_time", 0, 0, numerator=[], denominator=[])  # 教育局's own view
    check(p.officer, "accept_on_time", 1, 1, numerator=["改派"], denominator=["改派"])


def test_a_12345_dispatch_sent_back_is_not_responded_even_when_it_returns_to_the_same_unit(
    county, people
):
    """A complaint dispatched to 人社局 2 Feb; 人社局 sends it back 3 Feb (退单); the hotline
    rejects the send-back and dispatches it to 人社局 again 4 Feb; accepted 4 Feb.

    响应率, 人社局: 1 / 2. The first dispatch was sent back, not responded: the acceptance that
    followed answers the second dispatch only.
    """
    c, p = county, people
    h = register(
        c,
        p.clerk,
        bj(2026, 2, 2, 9),
        kind=Kind.HOTLINE_COMPLAINT,
        channel="phone",
        title="退单派回",
    )
    route(h, p, c.hr, bj(2026, 2, 2, 10))
    s.case_object(case=h, by=p.officer, reason="不属于本单位", at=bj(2026, 2, 3, 10))
    route(h, p, c.hr, bj(2026, 2, 4, 10))
    s.case_accept(case=h, by=p.officer, at=bj(2026, 2, 4, 15))
    check(
        p.supervisor,
        "hotline_response",
        1,
        2,
        numerator=["退单派回"],
        denominator=["退单派回", "退单派回"],
        by="unit",
        group=c.hr.pk,
    )


def test_a_unit_moved_in_the_tree_keeps_its_figures_and_they_follow_it(county, people):
    """实验小学 (under 教育局) accepts a matter 7 Jan (on time) and replies 20 Jan (on time).
    Then 机构改革 moves 实验小学 under 人社局 (`unit_move`).

    Before: 教育局's head sees 及时受理率 1 / 1 (实验小学, its subtree); 人社局's head 0 / 0.
    After: the row stays 实验小学's (1 / 1), and scope follows the tree of today: 人社局's head
    sees 1 / 1, 教育局's head 0 / 0. The county supervisor sees 1 / 1 throughout.
    """
    c, p = county, people
    school_officer = make_user("school_officer", c.school, Role.OFFICER)
    edu_head = make_user("edu_head", c.edu, Role.HEAD)
    m = register(c, p.clerk, bj(2026, 1, 5, 9), title="学校事项")
    route(m, p, c.school, bj(2026, 1, 6, 10))
    s.case_accept(case=m, by=school_officer, at=bj(2026, 1, 7, 10))
    reply(m, school_officer, bj(2026, 1, 20, 10))

    one = {"numerator": ["学校事项"], "denominator": ["学校事项"]}
    none = {"numerator": [], "denominator": []}
    check(edu_head, "accept_on_time", 1, 1, by="unit", group=c.school.pk, **one)
    check(p.head, "accept_on_time", 0, 0, **none)
    check(p.supervisor, "complete_on_time", 1, 1, by="unit", group=c.school.pk, **one)

    unit_move(unit=c.school, new_parent=c.hr, by=p.admin, reason="机构改革：实验小学划归人社局管理")

    check(edu_head, "accept_on_time", 0, 0, **none)
    check(p.head, "accept_on_time", 1, 1, by="unit", group=c.school.pk, **one)
    check(p.head, "complete_on_time", 1, 1, **one)
    check(p.supervisor, "accept_on_time", 1, 1, by="unit", group=c.school.pk, **one)


# ---------------------------------------------------------------- paused clocks and extensions


def test_on_time_completion_uses_the_deadline_net_of_the_pause(county, people):
    """All accepted 6 Jan 15:00 by 人社局 (60 days: due 10 Mar 00:00).

    净 (on time): paused 10–19 Jan (10 days) → due 18 Mar 00:00; replied 17 Mar 23:00.
    迟 (late): the same pause; replied 18 Mar 00:00:01, one second after.
    超期后中止 (late): the clock ran out on 9 Mar; paused 12 Mar and replied 13 Mar while still
        paused — a clock that has run out cannot be stopped.
    超期当日中止 (late): paused 10 Mar 09:00, resumed 17:00 (one paused day moves the deadline to
        11 Mar 00:00), replied 18:00 — the matter was already overdue when the pause began.

    按期办结率: 1 / 4.
    """
    c, p = county, people
    net = accepted(c, p, "净")
    late = accepted(c, p, "迟")
    for case in (net, late):
        s.case_pause(case=case, by=p.officer, reason="举行听证", at=bj(2026, 1, 10, 10))
        s.case_resume(case=case, by=p.officer, at=bj(2026, 1, 19, 10))
    reply(net, p.officer, bj(2026, 3, 17, 23))
    reply(late, p.officer, bj(2026, 3, 18, 0, 0, 1))

    after = accepted(c, p, "超期后中止")
    s.case_pause(case=after, by=p.officer, reason="鉴定", at=bj(2026, 3, 12, 10))
    reply(after, p.officer, bj(2026, 3, 13, 10))

    same_day = accepted(c, p, "超期当日中止")
    s.case_pause(case=same_day, by=p.officer, reason="听证", at=bj(2026, 3, 10, 9))
    s.case_resume(case=same_day, by=p.officer, at=bj(2026, 3, 10, 17))
    reply(same_day, p.officer, bj(2026, 3, 10, 18))

    check(
        p.supervisor,
        "complete_on_time",
        1,
        4,
        numerator=["净"],
        denominator=["净", "迟", "超期后中止", "超期当日中止"],
    )


def test_an_approved_extension_moves_the_deadline(county, people):
    """All accepted 6 Jan 15:00 by 人社局 (60 days: due 10 Mar 00:00). Counted over
    1 Jan – 30 Apr.

    延三十日: extended by 30 days 1 Mar → due 8 Apr 00:00 (6 Apr is 清明); replied 7 Apr 20:00.
    延十日: extended by 10 days 1 Mar → due 18 Mar 00:00; replied 20 Mar: late.
    未延期: replied 12 Mar: late.

    按期办结率: 1 / 3.
    """
    c, p = county, people
    thirty, ten, none = (
        accepted(c, p, "延三十日"),
        accepted(c, p, "延十日"),
        accepted(c, p, "未延期"),
    )
    s.case_extend(case=thirty, by=p.head, days=30, reason="案情复杂", at=bj(2026, 3, 1, 10))
    s.case_extend(case=ten, by=p.head, days=10, reason="需补充调查", at=bj(2026, 3, 1, 10))
    reply(thirty, p.officer, bj(2026, 4, 7, 20))
    reply(ten, p.officer, bj(2026, 3, 20, 10))
    reply(none, p.officer, bj(2026, 3, 12, 10))
    span = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 30))
    check(
        p.supervisor,
        "complete_on_time",
        1,
        3,
        numerator=["延三十日"],
        denominator=["延三十日", "延十日", "未延期"],
        period=span,
    )


# ---------------------------------------------------------------- merged and unrated matters


def test_a_merged_duplicate_is_routed_but_never_completed_nor_rated(county, people):
    """主件: routed 6 Jan, accepted 7 Jan, replied 20 Jan, rated 满意. 重复件: routed 6 Jan
    to the same unit, then merged (并单) into 主件 on 8 Jan.

    转送交办及时率 2 / 2 (both were routed); 及时受理率 1 / 1; 按期办结率 1 / 1; 参评率 1 / 1;
    满意率 1 / 1 — 重复件 is in none of the last four.
    """
    c, p = county, people
    main = register(c, p.clerk, bj(2026, 1, 5, 9), title="主件")
    dup = register(c, p.clerk, bj(2026, 1, 5, 10), title="重复件")
    route(main, p, c.hr, bj(2026, 1, 6, 10))
    route(dup, p, c.hr, bj(2026, 1, 6, 11))
    s.case_merge(case=dup, into=main, by=p.clerk, at=bj(2026, 1, 8, 10))
    s.case_accept(case=main, by=p.officer, at=bj(2026, 1, 7, 10))
    reply(main, p.officer, bj(2026, 1, 20, 10))
    s.case_rate(case=main, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 1, 21, 10))

    sup = p.supervisor
    check(sup, "route_on_time", 2, 2, numerator=["主件", "重复件"], denominator=["主件", "重复件"])
    for rate in ("accept_on_time", "complete_on_time", "rating_participation", "satisfaction"):
        check(sup, rate, 1, 1, numerator=["主件"], denominator=["主件"])


def test_matters_outside_rating_are_not_in_the_participation_denominator(county, people):
    """原件: replied 8 Jan, not rated, final 20 Feb (the review window closed unused).
    已评: replied 9 Jan, rated 满意 10 Jan.
    不予受理: declined by 人社局 7 Jan (belongs to labour arbitration).
    不再受理: registered 11 Feb with the same facts as 原件, which is final.
    并单: merged into 已评 6 Jan, before routing.

    参评率: 1 / 2 (原件 and 已评 only); 满意率 1 / 1; 按期办结率 2 / 2; 及时受理率 2 / 2.
    """
    c, p = county, people
    prior = accepted(c, p, "原件", at=bj(2026, 1, 7, 10))
    reply(prior, p.officer, bj(2026, 1, 8, 10))
    rated = accepted(c, p, "已评", at=bj(2026, 1, 7, 10))
    reply(rated, p.officer, bj(2026, 1, 9, 10))
    s.case_rate(case=rated, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 1, 10, 10))
    prior = s.case_finalize(case=prior, at=bj(2026, 2, 20, 1))

    declined = register(c, p.clerk, bj(2026, 1, 5, 9), title="不予受理")
    route(declined, p, c.hr, bj(2026, 1, 6, 10))
    s.case_decline(
        case=declined,
        by=p.officer,
        reason="属于劳动仲裁",
        proper_channel="向劳动仲裁委员会申请仲裁",
        at=bj(2026, 1, 7, 10),
    )
    again = register(c, p.clerk, bj(2026, 2, 11, 9), title="不再受理")
    s.case_not_accept_again(
        case=again, by=p.clerk, prior=prior, reason="同一事实和理由", at=bj(2026, 2, 11, 10)
    )
    merged = register(c, p.clerk, bj(2026, 1, 5, 9), title="并单")
    s.case_merge(case=merged, into=rated, by=p.clerk, at=bj(2026, 1, 6, 9))

    sup = p.supervisor
    check(sup, "rating_participation", 1, 2, numerator=["已评"], denominator=["原件", "已评"])
    check(sup, "satisfaction", 1, 1, numerator=["已评"], denominator=["已评"])
    check(sup, "complete_on_time", 2, 2, numerator=["原件", "已评"], denominator=["原件", "已评"])
    check(sup, "accept_on_time", 2, 2, numerator=["原件", "已评"], denominator=["原件", "已评"])


# ---------------------------------------------------------------- 12345 weighting


def test_12345_basically_satisfied_weight_and_composite_follow_the_configuration(county, people):
    """Four complaints dispatched to 人社局 2 Feb, accepted 3 Feb, replied 5 Feb, rated 6 Feb:
    甲 支持 满意; 乙 解释 基本满意; 丙 不予支持 基本满意; 丁 支持 不满意.

    Default rules: 满意率 (1 + 2 × 0.9) / 4 = 2.8 / 4 = 70%.
    Changed (基本满意 0.5; weights 0.2 / 0.3 / 0.5): 满意率 (1 + 2 × 0.5) / 4 = 2 / 4 = 50%;
    响应率 4 / 4; 解决率 3 / 4 (丙 不予支持); composite 0.2 × 100 + 0.3 × 75 + 0.5 × 50 = 67.5.
    The drill-down of the weighted numerator lists the three rated 满意 or 基本满意.
    """
    c, p = county, people
    plan = [
        ("甲", Outcome.SUPPORTED, Rating.SATISFIED),
        ("乙", Outcome.EXPLAINED, Rating.BASICALLY),
        ("丙", Outcome.NOT_SUPPORTED, Rating.BASICALLY),
        ("丁", Outcome.SUPPORTED, Rating.UNSATISFIED),
    ]
    for title, outcome, rating in plan:
        h = register(
            c, p.clerk, bj(2026, 2, 2, 9), kind=Kind.HOTLINE_COMPLAINT, channel="phone", title=title
        )
        route(h, p, c.hr, bj(2026, 2, 2, 10))
        s.case_accept(case=h, by=p.officer, at=bj(2026, 2, 3, 10))
        reply(h, p.officer, bj(2026, 2, 5, 10), outcome)
        s.case_rate(case=h, by=p.clerk, rating=rating, at=bj(2026, 2, 6, 10))

    sup, all_four = p.supervisor, ["甲", "乙", "丙", "丁"]
    n, d = figure(sup, "hotline_satisfaction")
    assert (round(n, 3), d) == (2.8, 4)
    assert rates_table(sup, Q1, "all").total.figures["hotline_satisfaction"].pct == 70.0

    config = RateConfig.current()
    config.basically_weight = "0.5"
    config.response_weight, config.resolution_weight, config.satisfaction_weight = (
        "0.2",
        "0.3",
        "0.5",
    )
    config.full_clean()
    config.save()

    check(sup, "hotline_satisfaction", 2.0, 4, numerator=["甲", "乙", "丙"], denominator=all_four)
    check(sup, "hotline_response", 4, 4, numerator=all_four, denominator=all_four)
    check(sup, "hotline_resolution", 3, 4, numerator=["甲", "乙", "丁"], denominator=all_four)
    weights = {Rating.SATISFIED: 1.0, Rating.BASICALLY: 0.5}
    rows = drill_rows(sup, BY_NAME["hotline_satisfaction"], "numerator", Q1, "all", "all")
    assert sum(weights[r.case.rating] for r in rows) == 2.0  # the list adds up to the figure
    table = rates_table(sup, Q1, "unit")
    assert table.total.composite == 67.5
    assert next(r for r in table.rows if r.key == str(c.hr.pk)).composite == 67.5


# ---------------------------------------------------------------- review and re-review


def test_review_and_rereview_reversal_each_counted_for_the_unit_it_judges(county, people):
    """Both replied 不予支持 by 人社局 10 Jan; review asked 12 Jan, decided 20 Jan by the county
    government (复查); re-review asked 25 Jan, decided 5 Feb by the city (复核).
    维持后改变: review 不予支持 (unchanged), re-review 支持 (changed).
    改变后维持: review 支持 (changed), re-review 支持 (unchanged).

    复查复核改变率: total 2 / 4; 人社局 (its reply judged by the review) 1 / 2 — 改变后维持;
    区政府 (its review judged by the re-review) 1 / 2 — 维持后改变.
    """
    c, p = county, people
    plan = [
        ("维持后改变", Outcome.NOT_SUPPORTED, Outcome.SUPPORTED),
        ("改变后维持", Outcome.SUPPORTED, Outcome.SUPPORTED),
    ]
    for title, review, rereview in plan:
        m = accepted(c, p, title)
        reply(m, p.officer, bj(2026, 1, 10, 10), Outcome.NOT_SUPPORTED)
        s.case_request_review(case=m, by=p.clerk, reason="不服", at=bj(2026, 1, 12, 10))
        s.case_decide_review(
            case=m, by=p.reviewer, outcome=review, text="复查意见", at=bj(2026, 1, 20, 10)
        )
        s.case_request_rereview(case=m, by=p.clerk, reason="仍不服", at=bj(2026, 1, 25, 10))
        s.case_decide_rereview(
            case=m, by=p.rereviewer, outcome=rereview, text="复核意见", at=bj(2026, 2, 5, 10)
        )

    sup, both = p.supervisor, ["维持后改变", "改变后维持"]
    check(sup, "review_reversal", 2, 4, numerator=both, denominator=both + both)
    check(
        sup,
        "review_reversal",
        1,
        2,
        numerator=["改变后维持"],
        denominator=both,
        by="unit",
        group=c.hr.pk,
    )
    check(
        sup,
        "review_reversal",
        1,
        2,
        numerator=["维持后改变"],
        denominator=both,
        by="unit",
        group=c.county.pk,
    )
    check(p.officer, "review_reversal", 1, 2, numerator=["改变后维持"], denominator=both)


# ---------------------------------------------------------------- period boundaries


def test_periods_run_from_beijing_midnight_to_beijing_midnight(county, people):
    """Each accepted by 人社局, a second either side of Beijing midnight (UTC+8: 1 Jan 00:00 in
    Beijing is still 31 Dec in UTC):
    跨年前 31 Dec 2025 23:59:59 → Q4 2025; 元旦零时 1 Jan 2026 00:00:00 → Q1;
    季末 31 Mar 23:59:59 → Q1; 季初 1 Apr 00:00:00 → Q2.

    及时受理率 Q1: 2 / 2 (元旦零时, 季末); Q4 2025: 1 / 1; Q2: 1 / 1; 1 Jan alone: 1 / 1.
    """
    c, p = county, people
    for title, routed, at in [
        ("跨年前", bj(2025, 12, 30, 10), bj(2025, 12, 31, 23, 59, 59)),
        ("元旦零时", bj(2025, 12, 31, 10), bj(2026, 1, 1, 0, 0, 0)),
        ("季末", bj(2026, 3, 30, 10), bj(2026, 3, 31, 23, 59, 59)),
        ("季初", bj(2026, 3, 30, 10), bj(2026, 4, 1, 0, 0, 0)),
    ]:
        m = register(c, p.clerk, routed - dt.timedelta(hours=1), title=title)
        route(m, p, c.hr, routed)
        s.case_accept(case=m, by=p.officer, at=at)

    sup = p.supervisor
    check(
        sup,
        "accept_on_time",
        2,
        2,
        numerator=["元旦零时", "季末"],
        denominator=["元旦零时", "季末"],
    )
    q4 = Period(dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    check(sup, "accept_on_time", 1, 1, numerator=["跨年前"], denominator=["跨年前"], period=q4)
    q2 = Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    check(sup, "accept_on_time", 1, 1, numerator=["季初"], denominator=["季初"], period=q2)
    new_year = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    check(
        sup,
        "accept_on_time",
        1,
        1,
        numerator=["元旦零时"],
        denominator=["元旦零时"],
        period=new_year,
    )


def test_the_last_day_of_a_clock_runs_to_24_00(county, people):
    """Routed 6 Jan 10:00: the accept clock ends 21 Jan, due 22 Jan 00:00.
    零时受理 accepted 22 Jan 00:00:00 (on time); 晚一秒 22 Jan 00:00:01 (late).

    及时受理率: 1 / 2.
    """
    c, p = county, people
    accepted(c, p, "零时受理", at=bj(2026, 1, 22, 0, 0, 0))
    accepted(c, p, "晚一秒", at=bj(2026, 1, 22, 0, 0, 1))
    check(
        p.supervisor,
        "accept_on_time",
        1,
        2,
        numerator=["零时受理"],
        denominator=["零时受理", "晚一秒"],
    )


@pytest.mark.parametrize("rate", sorted(BY_NAME))
def test_an_empty_period_is_zero_over_zero_not_an_error(county, people, rate):
    """No matters: every rate 0 / 0, no percentage, and empty drill-downs."""
    check(people.supervisor, rate, 0, 0, numerator=[], denominator=[])
    assert rates_table(people.supervisor, Q1, "all").total.figures[rate].pct is None
