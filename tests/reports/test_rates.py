"""The rates on a hand-worked first quarter of 2026, with the matters behind each figure.

The county's timeline (all times Beijing):

petitions (信访), registered 5 January, routed by the office (信访局):
  m1  routed 6 Jan → 人社局; accepted 7 Jan; replied 20 Jan (支持); rated 满意.
  m2  routed 25 Jan (late: the 15-day route clock ran out on 20 Jan); accepted 20 Feb (late: the
      accept clock ran out on 9 Feb); replied 25 Feb (解释); not rated; review asked, decided 解释
      (unchanged).
  m3  routed 6 Jan → 教育局, which objects (异议) on 7 Jan; re-routed 8 Jan → 人社局, accepted 9 Jan.
      Flagged as a backlog case on 1 March, not cleared.
  m4  routed and accepted 6 Jan; clock paused 10 Jan – 9 Feb (hearing); replied 20 March (不予支持)
      — late without the pause (60 days end 7 March), on time with it; rated 不满意; review decided
      支持 (changed). Flagged as a backlog case on 1 March, cleared.
  m5  routed 6 Jan, declined (不予受理) 7 Jan: outside acceptance, completion and rating.
  m6  a duplicate of m1, merged (并单) into it on 6 Jan: not counted as a completion.
12345 requests, registered 2 February:
  h1  投诉, dispatched → 人社局, accepted 3 Feb, replied 5 Feb (支持), rated 基本满意.
  h2  求助, dispatched → 教育局, which objects on 3 Feb; re-dispatched → 人社局 4 Feb, accepted 5 Feb,
      replied 6 Feb (不予支持), rated 满意.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db.models import Q
from openpyxl import load_workbook

from tests.factories import bj, register
from xinfang.backlog import flagging as backlog_flagging
from xinfang.backlog.models import BacklogCase
from xinfang.backlog.models import Status as BacklogStatus
from xinfang.cases import services as s
from xinfang.cases.models import Kind, Outcome, Rating
from xinfang.reports import rollup
from xinfang.reports.models import RateConfig
from xinfang.reports.rates import BY_NAME
from xinfang.reports.selectors import (
    HIDDEN_TITLE,
    Period,
    drill_rows,
    rates_table,
    shown_title,
    table_json,
)

Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def _reply(case, by, at, outcome=Outcome.SUPPORTED):
    return s.case_reply(case=case, by=by, outcome=outcome, text="经调查，答复如下。", at=at)


@pytest.fixture
def quarter(county, people):
    c, p = county, people
    reg = bj(2026, 1, 5, 9)

    def route(case, unit, day, month=1):
        return s.case_route(case=case, by=p.clerk, unit=unit, at=bj(2026, month, day, 10))

    m1 = register(c, p.clerk, reg, title="欠薪一")
    m2 = register(c, p.clerk, reg, title="欠薪二")
    m3 = register(c, p.clerk, reg, title="改派事项")
    m4 = register(c, p.clerk, reg, title="中止计时事项")
    m5 = register(c, p.clerk, reg, title="不予受理事项")
    m6 = register(c, p.clerk, reg, title="重复事项")

    route(m1, c.hr, 6)
    s.case_merge(case=m6, into=m1, by=p.clerk, at=bj(2026, 1, 6, 11))
    s.case_accept(case=m1, by=p.officer, at=bj(2026, 1, 7, 10))
    _reply(m1, p.officer, bj(2026, 1, 20, 10))
    s.case_rate(case=m1, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 1, 21, 10))

    route(m2, c.hr, 25)
    s.case_accept(case=m2, by=p.officer, at=bj(2026, 2, 20, 10))
    _reply(m2, p.officer, bj(2026, 2, 25, 10), Outcome.EXPLAINED)
    s.case_request_review(case=m2, by=p.clerk, reason="不服", at=bj(2026, 2, 26, 10))
    s.case_decide_review(
        case=m2, by=p.reviewer, outcome=Outcome.EXPLAINED, text="维持", at=bj(2026, 3, 2, 10)
    )

    route(m3, c.edu, 6)
    s.case_object(case=m3, by=p.outsider, reason="不属于教育局职责", at=bj(2026, 1, 7, 10))
    route(m3, c.hr, 8)
    s.case_accept(case=m3, by=p.officer, at=bj(2026, 1, 9, 10))

    route(m4, c.hr, 6)
    s.case_accept(case=m4, by=p.officer, at=bj(2026, 1, 6, 15))
    s.case_pause(case=m4, by=p.officer, reason="举行听证", at=bj(2026, 1, 10, 10))
    s.case_resume(case=m4, by=p.officer, at=bj(2026, 2, 9, 10))
    _reply(m4, p.officer, bj(2026, 3, 20, 10), Outcome.NOT_SUPPORTED)
    s.case_rate(case=m4, by=p.clerk, rating=Rating.UNSATISFIED, at=bj(2026, 3, 21, 10))
    s.case_request_review(case=m4, by=p.clerk, reason="不服", at=bj(2026, 3, 22, 10))
    s.case_decide_review(
        case=m4, by=p.reviewer, outcome=Outcome.SUPPORTED, text="改为支持", at=bj(2026, 3, 28, 10)
    )

    route(m5, c.hr, 6)
    s.case_decline(
        case=m5,
        by=p.officer,
        reason="属于劳动仲裁",
        proper_channel="向劳动仲裁委员会申请仲裁",
        at=bj(2026, 1, 7, 10),
    )

    backlog_flagging.backlog_flag(case=m3, by=p.supervisor, reason="久拖", at=bj(2026, 3, 1, 10))
    b4 = backlog_flagging.backlog_flag(
        case=m4, by=p.supervisor, reason="久拖", at=bj(2026, 3, 1, 10)
    )
    # Clearing needs a plan, its execution and the signed statement (tested in tests/backlog);
    # here only the status the rate reads.
    BacklogCase.objects.filter(pk=b4.pk).update(
        status=BacklogStatus.CLOSED, active=False, closed_at=bj(2026, 3, 30, 10)
    )

    hreg = bj(2026, 2, 2, 9)
    h1 = register(c, p.clerk, hreg, kind=Kind.HOTLINE_COMPLAINT, channel="phone", title="噪音投诉")
    h2 = register(c, p.clerk, hreg, kind=Kind.HOTLINE_HELP, channel="phone", title="求助事项")
    route(h1, c.hr, 2, 2)
    s.case_accept(case=h1, by=p.officer, at=bj(2026, 2, 3, 10))
    _reply(h1, p.officer, bj(2026, 2, 5, 10))
    s.case_rate(case=h1, by=p.clerk, rating=Rating.BASICALLY, at=bj(2026, 2, 6, 10))
    route(h2, c.edu, 2, 2)
    s.case_object(case=h2, by=p.outsider, reason="不属于教育局", at=bj(2026, 2, 3, 10))
    route(h2, c.hr, 4, 2)
    s.case_accept(case=h2, by=p.officer, at=bj(2026, 2, 5, 10))
    _reply(h2, p.officer, bj(2026, 2, 6, 10), Outcome.NOT_SUPPORTED)
    s.case_rate(case=h2, by=p.clerk, rating=Rating.SATISFIED, at=bj(2026, 2, 7, 10))
    return {"m1": m1, "m2": m2, "m3": m3, "m4": m4, "m5": m5, "m6": m6, "h1": h1, "h2": h2}


def _nd(table, rate, row=None):
    r = table.total if row is None else next(x for x in table.rows if x.key == str(row))
    f = r.figures[rate]
    return (f.numerator, f.denominator)


def _titles(user, rate, part, by="all", group="all"):
    return sorted(r.case.title for r in drill_rows(user, BY_NAME[rate], part, Q1, by, group))


EXPECTED_TOTAL = {
    "route_on_time": (5, 6),  # m2's routing was late; m3 routed twice (教育局, then 人社局)
    "accept_on_time": (3, 4),  # m1, m3 (by 人社局), m4 on time; m2 late; m5 declined, m6 merged
    "complete_on_time": (3, 3),  # m4 on time only because the paused days do not count
    "rating_participation": (2, 3),  # m2 not rated; m5 and m6 are outside rating
    "satisfaction": (1, 2),  # m1 满意; m4 不满意
    "review_reversal": (1, 2),  # m4 changed 不予支持 → 支持; m2 kept 解释
    "backlog_cleared": (1, 2),  # m4 cleared; m3 not
    "hotline_response": (2, 3),  # h2's dispatch to 教育局 was sent back, not accepted
    "hotline_resolution": (1, 2),  # h1 支持; h2 不予支持
    "hotline_satisfaction": (1.9, 2),  # 满意 1 + 基本满意 0.9
}


def test_every_rate_on_the_hand_worked_quarter(quarter, people):
    table = rates_table(people.supervisor, Q1, "unit")
    got = {name: _nd(table, name) for name in EXPECTED_TOTAL}
    got["hotline_satisfaction"] = (
        round(got["hotline_satisfaction"][0], 3),
        got["hotline_satisfaction"][1],
    )
    assert got == EXPECTED_TOTAL
    assert table.total.figures["hotline_satisfaction"].pct == 95.0
    # composite: 0.1 × 66.67 + 0.5 × 50 + 0.4 × 95
    assert table.total.composite == pytest.approx(0.1 * 200 / 3 + 25 + 38, abs=0.01)


def test_rates_per_unit_count_for_the_unit_holding_the_matter(quarter, county, people):
    table = rates_table(people.supervisor, Q1, "unit")
    # routing is the office's act; acceptance counts for the unit that accepted (m3 → 人社局)
    assert _nd(table, "route_on_time", county.office.pk) == (5, 6)
    assert _nd(table, "accept_on_time", county.hr.pk) == (3, 4)
    # 教育局 was sent h2 and gave it back: one dispatch, not responded
    assert _nd(table, "hotline_response", county.edu.pk) == (0, 1)
    assert _nd(table, "hotline_response", county.hr.pk) == (2, 2)
    assert _nd(table, "accept_on_time", county.edu.pk) == (0, 0)
    assert _nd(table, "review_reversal", county.hr.pk) == (1, 2)


def test_drill_down_lists_exactly_the_matters_behind_the_figure(quarter, people):
    sup = people.supervisor
    assert _titles(sup, "accept_on_time", "numerator") == sorted(
        ["欠薪一", "改派事项", "中止计时事项"]
    )
    assert _titles(sup, "accept_on_time", "denominator") == sorted(
        ["欠薪一", "欠薪二", "改派事项", "中止计时事项"]
    )
    assert _titles(sup, "complete_on_time", "denominator") == sorted(
        ["欠薪一", "欠薪二", "中止计时事项"]
    )
    assert "重复事项" not in _titles(sup, "complete_on_time", "denominator")
    assert _titles(sup, "route_on_time", "denominator").count("改派事项") == 2
    assert _titles(sup, "review_reversal", "numerator") == ["中止计时事项"]
    assert _titles(sup, "backlog_cleared", "numerator") == ["中止计时事项"]
    assert _titles(sup, "hotline_satisfaction", "numerator") == ["噪音投诉", "求助事项"]
    table = rates_table(sup, Q1, "unit")
    for name in EXPECTED_TOTAL:
        n, d = _nd(table, name)
        assert len(_titles(sup, name, "denominator")) == d
        if name != "hotline_satisfaction":
            assert len(_titles(sup, name, "numerator")) == n


def test_outsider_unit_sees_nothing_of_other_units(quarter, county, people):
    table = rates_table(people.accused_officer, Q1, "unit")
    assert table.rows == []
    assert all(f.denominator == 0 for f in table.total.figures.values())
    assert (
        list(
            drill_rows(
                people.accused_officer, BY_NAME["accept_on_time"], "denominator", Q1, "all", "all"
            )
        )
        == []
    )
    # 教育局 sees its own figure, the one its supervisor sees (h2 sent back: 0 of 1 responded),
    # and nothing of other units; h2 has left it, so the list names h2 without its content.
    table = rates_table(people.outsider, Q1, "unit")
    assert [row.key for row in table.rows] == [str(county.edu.pk)]
    counted = {
        name: (f.numerator, f.denominator)
        for name, f in table.total.figures.items()
        if f.denominator
    }
    assert counted == {"hotline_response": (0, 1)}
    rows = list(
        drill_rows(people.outsider, BY_NAME["hotline_response"], "denominator", Q1, "all", "all")
    )
    assert [r.case.number for r in rows] == [quarter["h2"].number]
    assert shown_title(rows[0]) == HIDDEN_TITLE
    assert rows[0].case.title not in str(table_json(table))


def test_a_unit_sees_its_own_figures_only(quarter, county, people):
    table = rates_table(people.officer, Q1, "unit")
    assert [row.key for row in table.rows] == [str(county.hr.pk)]
    assert _nd(table, "accept_on_time") == (3, 4)
    assert _nd(table, "route_on_time") == (0, 0)  # the office's routing is not the bureau's


def test_grouping_by_place_category_channel(quarter, county, people):
    by_channel = rates_table(people.supervisor, Q1, "channel")
    assert _nd(by_channel, "hotline_resolution", "phone") == (1, 2)
    assert _nd(by_channel, "accept_on_time", "visit") == (3, 4)
    by_category = rates_table(people.supervisor, Q1, "category")
    assert _nd(by_category, "accept_on_time", county.wages.pk) == (3, 4)
    by_place = rates_table(people.supervisor, Q1, "place")
    assert _nd(by_place, "complete_on_time", county.place.pk) == (3, 3)


def test_the_period_is_by_event_time(quarter, people):
    january = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    table = rates_table(people.supervisor, january, "all")
    assert _nd(table, "accept_on_time") == (3, 3)  # m2 was accepted in February
    assert _nd(table, "complete_on_time") == (1, 1)


def test_the_12345_rules_are_configuration(quarter, people):
    config = RateConfig.current()
    config.basically_weight = 1
    config.response_weight, config.resolution_weight, config.satisfaction_weight = 0, 1, 0
    config.save()
    table = rates_table(people.supervisor, Q1, "all")
    assert table.total.figures["hotline_satisfaction"].pct == 100.0
    assert table.total.composite == 50.0


def test_rates_are_grouped_in_sql_not_per_matter(quarter, people, django_assert_max_num_queries):
    rollup.refresh()
    # a fixed number of queries, whatever the number of matters and groups
    with django_assert_max_num_queries(12):
        rates_table(people.supervisor, Q1, "unit")
    with django_assert_max_num_queries(22):
        rates_table(people.supervisor, Q1, "category")


# ---------------------------------------------------------------- the pages and their twins


def test_rates_page_links_each_figure_to_its_matters(quarter, county, people, client):
    client.force_login(people.supervisor)
    page = client.get("/reports/rates/", {"from": "2026-01-01", "to": "2026-03-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "及时受理率" in html and "3</a>/<a" in html
    link = (
        f"/reports/rates/matters/?by=unit&amp;from=2026-01-01&amp;to=2026-03-31&amp;rate=accept_on_time"
        f"&amp;group={county.hr.pk}&amp;part=numerator"
    )
    assert link in html
    drill = client.get(link.replace("&amp;", "&"))
    assert drill.status_code == 200
    body = drill.content.decode()
    for title in ("欠薪一", "改派事项", "中止计时事项"):
        assert title in body
    assert "欠薪二" not in body


def test_json_twin_and_api_agree(quarter, people, client):
    client.force_login(people.supervisor)
    data = client.get(
        "/reports/rates/", {"from": "2026-01-01", "to": "2026-03-31", "format": "json"}
    ).json()
    assert data["total"]["rates"]["accept_on_time"] == {
        "numerator": 3,
        "denominator": 4,
        "pct": 75.0,
    }
    drill = client.get(
        "/reports/rates/matters/",
        {
            "from": "2026-01-01",
            "to": "2026-03-31",
            "format": "json",
            "rate": "satisfaction",
            "part": "numerator",
        },
    ).json()
    assert [m["title"] for m in drill["matters"]] == ["欠薪一"]


def test_xlsx_twin_has_numbers_as_numbers_and_text_never_a_formula(quarter, people, client):
    from xinfang.cases.models import Case

    Case.objects.filter(pk=quarter["m1"].pk).update(title='=HYPERLINK("http://x")')
    client.force_login(people.supervisor)
    resp = client.get(
        "/reports/rates/", {"from": "2026-01-01", "to": "2026-03-31", "format": "xlsx"}
    )
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws.freeze_panes == "B3"
    assert ws["A2"].font.bold
    header = [c.value for c in ws[2]]
    col = header.index("及时受理率 分母") + 1
    assert ws.cell(row=ws.max_row, column=col).value == 4
    resp = client.get(
        "/reports/rates/matters/",
        {
            "from": "2026-01-01",
            "to": "2026-03-31",
            "format": "xlsx",
            "rate": "satisfaction",
            "part": "numerator",
        },
    )
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws["B3"].value == '=HYPERLINK("http://x")'
    assert ws["B3"].data_type == "s"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "2026-03-01", "to": "2026-01-01"},
        {"by": "person"},
        {"from": "1900-01-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_period_is_a_chinese_400(people, client, query):
    client.force_login(people.supervisor)
    assert client.get("/reports/rates/", query).status_code == 400
    resp = client.get("/reports/rates/", {**query, "format": "json"})
    assert resp.status_code == 400 and "不正确" in resp.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"rate": "nope"},
        {"rate": "satisfaction", "part": "x"},
        {"rate": "satisfaction", "group": "abc"},
        {"rate": "satisfaction", "by": "channel", "group": "zz"},
        {"rate": "satisfaction", "group": "9" * 40},
        {"rate": "satisfaction", "group": "²"},
        {"rate": "satisfaction", "by": "place", "group": "١٢"},
    ],
)
def test_bad_drill_down_is_a_400(people, client, query):
    client.force_login(people.supervisor)
    assert client.get("/reports/rates/matters/", query).status_code == 400


def test_rates_need_a_login(client):
    assert client.get("/reports/rates/").status_code == 302


def test_api_rates_is_the_same_table(quarter, people, client):
    from xinfang.api.services import api_token_issue

    token = api_token_issue(user=people.officer)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    data = client.get(
        "/api/rates", {"date_from": "2026-01-01", "date_to": "2026-03-31"}, **headers
    ).json()
    assert data["total"]["rates"]["accept_on_time"] == {
        "numerator": 3,
        "denominator": 4,
        "pct": 75.0,
    }
    assert (
        data["total"]["rates"]["route_on_time"]["denominator"] == 0
    )  # the office's, not the bureau's
    bad = client.get("/api/rates", {"date_from": "2026-02-30"}, **headers)
    assert bad.status_code == 422
    assert client.get("/api/rates").status_code == 401


def test_readme_table_is_the_declared_rates():
    from pathlib import Path

    from xinfang.reports.rates import RATES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## 统计与考核指标", 1)[1].split("\n## ", 1)[0]
    for rate in RATES:
        assert f"| {rate.numerator_text} | {rate.denominator_text} | {rate.note} |" in section, (
            rate.name
        )


# ---------------------------------------------------------------- the rollup equals the declarations


def _live(user_scope, period):
    """Each rate's (numerator, denominator) straight from its declaration over the event log."""
    from django.db.models import Count

    from xinfang.reports.rates import RATES
    from xinfang.reports.rollup import hit_expr

    out = {}
    for rate in RATES:
        rows = rate.rows(*period.bounds)
        if user_scope is not None:
            rows = rows.filter(_unit__in=user_scope)
        agg = rows.annotate(_hit=hit_expr(rate)).aggregate(
            one=Count("pk", filter=Q(_hit=1)), two=Count("pk", filter=Q(_hit=2)), d=Count("pk")
        )
        weight = float(RateConfig.current().basically_weight)
        n = agg["one"] + weight * agg["two"] if rate.weighted else agg["one"]
        out[rate.name] = (n, agg["d"])
    return out


def _figures(table):
    return {name: (f.numerator, f.denominator) for name, f in table.total.figures.items()}


def test_the_rollup_follows_every_change_and_equals_the_declarations(quarter, county, people):
    """After each kind of change (a rating after the reply, a backlog case cleared with a date in
    the past, a new matter, a review of an old one), the table read from the rollup equals the
    declarations counted live over the event log, for the county and for one bureau."""
    from xinfang.cases import access

    def check():
        for user in (people.supervisor, people.officer):
            assert _figures(rates_table(user, Q1, "unit")) == _live(access.scope_unit_ids(user), Q1)

    check()
    s.case_rate(
        case=quarter["m2"], by=people.clerk, rating=Rating.BASICALLY, at=bj(2026, 3, 25, 10)
    )
    check()  # m2's reply (25 Feb) is now rated: 参评率 moves on a day the rating did not happen
    b3 = BacklogCase.objects.get(case=quarter["m3"])
    BacklogCase.objects.filter(pk=b3.pk).update(
        status=BacklogStatus.CLOSED, closed_at=bj(2026, 3, 5, 10)
    )
    rollup.refresh()  # the worker's pass notices a change dated before the last refresh
    check()
    m7 = register(county, people.clerk, bj(2026, 3, 2, 9), title="新事项")
    s.case_route(case=m7, by=people.clerk, unit=county.hr, at=bj(2026, 3, 3, 10))
    s.case_accept(case=m7, by=people.officer, at=bj(2026, 3, 4, 10))
    check()


def test_a_page_does_not_wait_for_a_large_recount(quarter, people, monkeypatch):
    rollup.refresh()
    s.case_rate(
        case=quarter["m2"], by=people.clerk, rating=Rating.SATISFIED, at=bj(2026, 3, 25, 10)
    )
    monkeypatch.setattr(rollup, "INLINE_LIMIT", 0)
    table = rates_table(people.supervisor, Q1, "all")
    assert table.freshness.pending == 1
    assert table.total.figures["rating_participation"].numerator == 2  # not yet m2's rating
    monkeypatch.setattr(rollup, "INLINE_LIMIT", 2_000)
    assert (
        rates_table(people.supervisor, Q1, "all").total.figures["rating_participation"].numerator
        == 3
    )


def test_rebuild_gives_the_same_figures(quarter, people):
    before = _figures(rates_table(people.supervisor, Q1, "unit"))
    assert rollup.rebuild() >= 8
    assert _figures(rates_table(people.supervisor, Q1, "unit")) == before


def test_a_figure_of_zero_opens_an_empty_list_not_the_error_layout(people, client):
    client.force_login(people.supervisor)
    page = client.get(
        "/reports/rates/matters/",
        {"rate": "accept_on_time", "part": "numerator", "from": "2026-01-01", "to": "2026-03-31"},
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "及时受理率" in body and "查询条件不正确" not in body


def test_a_figure_with_nothing_counted_links_to_no_empty_list(quarter, county, people, client):
    """0/0 is a cell with no matters: it is shown as text, not as two links to empty lists."""
    client.force_login(people.supervisor)
    html = client.get("/reports/rates/", {"from": "2026-01-01", "to": "2026-03-31"}).content
    html = html.decode()
    assert "<td>0/0（—）</td>" in html  # the quarter has units with nothing counted
    assert not re.search(r">0</a>/<a [^>]*>0</a>", html)
