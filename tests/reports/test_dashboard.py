"""统计看板 on a hand-worked county (today is frozen at 3 December 2026, 10:00 Beijing time).

All registered by the county's petition office (信访局); channel 来访, category 拖欠工资, place A1区
unless said otherwise:

  a6  registered 20 Dec 2025 (before the period), routed → 人社局, replied 10 Jan 2026.
  a1  registered 10 Mar, routed → 人社局, accepted, replied 5 Apr.
  a2  registered 20 Mar, 来信, 入学招生, 东湖街道; routed → 教育局, accepted, replied 30 Mar.
  a3  registered 2 May, 网上, no category, 东湖街道; routed → 人社局, accepted 3 May, never replied:
      overdue at 人社局 (60 days ran out in July).
  a7  registered 1 Jun, 入学招生; routed → 实验小学 (under 教育局), accepted, never replied: overdue
      at the school.
  a5  registered 1 Oct, never routed: overdue at the office (15 days to route ran out 16 Oct).
  a4  registered 20 Nov, 来电, never routed: not yet overdue (due 5 Dec).

Default period: 1 Jan – 3 Dec 2026. The county supervisor sees all seven matters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from tests.factories import bj, register
from xinfang.cases import services as s
from xinfang.cases.models import Channel, Outcome
from xinfang.reports import dashboard as dash
from xinfang.reports import panels
from xinfang.reports.selectors import Period, rates_table

NOW = bj(2026, 12, 3, 10)
URL = "/reports/dashboard/"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


@pytest.fixture(autouse=True)
def _no_cached_hot_issues():
    """Hot issues are cached per month and scope for ten minutes: start each test without them."""
    from django.core.cache import cache

    cache.clear()


def _handled(c, p, case, unit, day, replied=None, officer=None):
    s.case_route(case=case, by=p.clerk, unit=unit, at=day + dt.timedelta(hours=1))
    s.case_accept(case=case, by=officer or p.officer, at=day + dt.timedelta(days=1))
    if replied:
        s.case_reply(
            case=case,
            by=officer or p.officer,
            outcome=Outcome.SUPPORTED,
            text="经调查，答复如下。",
            at=replied,
        )
    return case


@pytest.fixture
def world(county, people):
    from tests.factories import make_user
    from xinfang.orgs.models import Role

    c, p = county, people
    edu_officer = p.outsider  # an officer of 教育局
    school_officer = make_user("school_officer", c.school, Role.OFFICER)
    a6 = register(c, p.clerk, bj(2025, 12, 20, 9), title="去年的欠薪")
    _handled(c, p, a6, c.hr, bj(2025, 12, 20, 9), replied=bj(2026, 1, 10, 9))
    a1 = register(c, p.clerk, bj(2026, 3, 10, 9), title="欠薪一")
    _handled(c, p, a1, c.hr, bj(2026, 3, 10, 9), replied=bj(2026, 4, 5, 9))
    a2 = register(
        c,
        p.clerk,
        bj(2026, 3, 20, 9),
        title="入学一",
        channel=Channel.LETTER,
        category=c.schooling,
        place=c.town_place,
    )
    _handled(c, p, a2, c.edu, bj(2026, 3, 20, 9), replied=bj(2026, 3, 30, 9), officer=edu_officer)
    a3 = register(
        c,
        p.clerk,
        bj(2026, 5, 2, 9),
        title="未分类事项",
        channel=Channel.ONLINE,
        category=None,
        place=c.town_place,
    )
    _handled(c, p, a3, c.hr, bj(2026, 5, 2, 9))
    a7 = register(c, p.clerk, bj(2026, 6, 1, 9), title="学校事项", category=c.schooling)
    _handled(c, p, a7, c.school, bj(2026, 6, 1, 9), officer=school_officer)
    a5 = register(c, p.clerk, bj(2026, 10, 1, 9), title="未转交事项")
    a4 = register(c, p.clerk, bj(2026, 11, 20, 9), title="新来电", channel=Channel.PHONE)
    return {
        "a1": a1,
        "a2": a2,
        "a3": a3,
        "a4": a4,
        "a5": a5,
        "a6": a6,
        "a7": a7,
        "edu": edu_officer,
    }


def _filters(unit=None) -> dash.Filters:
    return dash.Filters(dash.last_12_months(), unit)


def _rows(panel) -> dict[str, dict]:
    return {r.label: r.values for r in panel.rows}


def test_default_period_is_the_last_twelve_months():
    assert dash.last_12_months(dt.date(2026, 12, 3)) == Period(
        dt.date(2026, 1, 1), dt.date(2026, 12, 3)
    )
    assert dash.last_12_months(dt.date(2026, 1, 31)) == Period(
        dt.date(2025, 2, 1), dt.date(2026, 1, 31)
    )


def test_trend_counts_registrations_and_replies_per_month(world, people):
    trend = _rows(dash.trend(people.supervisor, _filters()))
    assert next(iter(trend)) == "2026年1月" and list(trend)[-1] == "2026年12月"
    registered = {k: v["registered"] for k, v in trend.items() if v["registered"]}
    replied = {k: v["replied"] for k, v in trend.items() if v["replied"]}
    assert registered == {
        "2026年3月": 2,
        "2026年5月": 1,
        "2026年6月": 1,
        "2026年10月": 1,
        "2026年11月": 1,
    }
    assert replied == {"2026年1月": 1, "2026年3月": 1, "2026年4月": 1}  # a6 replied in January


def test_by_channel_category_and_place(world, people):
    sup = people.supervisor
    assert _rows(dash.grouping(sup, _filters(), "channel")) == {
        "来访": {"count": 3},
        "来信": {"count": 1},
        "网上": {"count": 1},
        "来电": {"count": 1},
    }
    assert _rows(dash.grouping(sup, _filters(), "category")) == {
        "劳动和社会保障/拖欠工资": {"count": 3},
        "教育文体/入学招生": {"count": 2},
        "（未填写）": {"count": 1},
    }
    assert _rows(dash.grouping(sup, _filters(), "place")) == {
        "A1区": {"count": 4},
        "东湖街道": {"count": 2},
    }


def test_beyond_the_top_groups_is_other(world, people, monkeypatch, client):
    monkeypatch.setitem(
        dash.GROUPINGS, "category", dataclasses.replace(dash.GROUPINGS["category"], top=1)
    )
    panel = dash.grouping(people.supervisor, _filters(), "category")
    assert _rows(panel) == {"劳动和社会保障/拖欠工资": {"count": 3}, "其他": {"count": 3}}
    other = panels.panel_cases(people.supervisor, "category", _filters(), "other")
    assert sorted(other.values_list("title", flat=True)) == [
        "入学一",
        "学校事项",
        "未分类事项",
    ]  # the NULL too


def test_overdue_units_count_open_matters_past_deadline_for_the_clock_holder(world, county, people):
    panel = dash.overdue(people.supervisor, _filters())
    assert _rows(panel) == {
        "A1区信访局": {"count": 1},
        "A1区人力资源和社会保障局": {"count": 1},
        "A1区实验小学": {"count": 1},
    }
    holders = {
        r.label: sorted(
            panels.panel_cases(people.supervisor, "overdue", _filters(), r.key).values_list(
                "title", flat=True
            )
        )
        for r in panel.rows
    }
    assert holders == {
        "A1区信访局": ["未转交事项"],
        "A1区人力资源和社会保障局": ["未分类事项"],
        "A1区实验小学": ["学校事项"],
    }


def test_a_unit_head_sees_its_own_subtree_only(world, county, people):
    from tests.factories import make_user
    from xinfang.orgs.models import Role

    edu_head = make_user("edu_head", county.edu, Role.HEAD)
    trend = {k: v for k, v in _rows(dash.trend(edu_head, _filters())).items() if any(v.values())}
    assert trend == {
        "2026年3月": {"registered": 1, "replied": 1},
        "2026年6月": {"registered": 1, "replied": 0},
    }
    assert _rows(dash.grouping(edu_head, _filters(), "channel")) == {
        "来信": {"count": 1},
        "来访": {"count": 1},
    }
    assert _rows(dash.overdue(edu_head, _filters())) == {"A1区实验小学": {"count": 1}}
    # an officer of 教育局 sees the bureau's own matters, not the school's
    edu = world["edu"]
    assert _rows(dash.grouping(edu, _filters(), "channel")) == {"来信": {"count": 1}}
    assert dash.overdue(edu, _filters()).rows == []
    # another unit (住建局) sees nothing of these
    housing = people.accused_officer
    assert not any(any(v.values()) for v in _rows(dash.trend(housing, _filters())).values())
    assert dash.grouping(housing, _filters(), "place").rows == []
    assert dash.overdue(housing, _filters()).rows == []


def test_the_unit_filter_narrows_to_the_units_matters(world, county, people):
    hr = _filters(county.hr)
    registered = {
        k: v["registered"]
        for k, v in _rows(dash.trend(people.supervisor, hr)).items()
        if v["registered"]
    }
    assert registered == {"2026年3月": 1, "2026年5月": 1}  # a1, a3
    office = _filters(county.office)  # not yet routed: counted for the registering office
    assert _rows(dash.grouping(people.supervisor, office, "channel")) == {
        "来访": {"count": 1},
        "来电": {"count": 1},
    }
    assert _rows(dash.overdue(people.supervisor, _filters(county.edu))) == {
        "A1区实验小学": {"count": 1}
    }


def test_rates_panel_is_the_rates_table_total(world, people):
    panel = dash.rates(people.supervisor, _filters())
    total = rates_table(people.supervisor, _filters().period, "all").total
    for row in panel.rows:
        f = total.figures[row.key]
        assert row.values == {"pct": f.pct, "numerator": f.numerator, "denominator": f.denominator}
        assert "/reports/rates/matters/?" in row.links["denominator"]
    assert {r.key: r.values["denominator"] for r in panel.rows}[
        "complete_on_time"
    ] == 3  # a6, a1, a2


def test_statistics_never_name_petitioners(world, people, client):
    client.force_login(people.supervisor)
    body = client.get(URL, {"format": "json"}).content.decode()
    assert "张三" not in body and "13812345678" not in body and "110105" not in body


def test_page_draws_every_panel_with_its_table_and_twins(world, people, client):
    client.force_login(people.supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in panels.PANELS:
        assert f'id="panel-{name}"' in html and f'id="chart-{name}"' in html
        assert f"panel={name}&amp;format=json" in html and f"panel={name}&amp;format=xlsx" in html
    assert (
        "/static/vendor/echarts/echarts.min.js" in html and "/static/reports/dashboard.js" in html
    )
    assert "cdn" not in html.lower()
    assert 'href="/reports/dashboard/"' in html  # the 看板 link in the navigation


@pytest.mark.parametrize("name", ["trend", "channel", "category", "place", "overdue", "rates"])
def test_json_and_xlsx_twins_carry_the_panels_rows(world, people, client, name):
    client.force_login(people.supervisor)
    data = client.get(URL, {"panel": name, "format": "json"}).json()
    panel = panels.panel(people.supervisor, name, _filters())
    assert data["rows"] == [
        {"key": r.key, "label": r.label, "values": r.values, "links": r.links} for r in panel.rows
    ]
    page = client.get(URL).content.decode()
    for row in panel.rows:
        assert f'<th scope="row">{row.label}</th>' in page
    book = load_workbook(io.BytesIO(client.get(URL, {"panel": name, "format": "xlsx"}).content))
    ws = book.active
    assert ws.freeze_panes == "B3"
    cells = [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]
    series = [s["name"] for s in data["series"]]
    assert cells == [[r["label"], *(r["values"][n] for n in series)] for r in data["rows"]]
    assert all(isinstance(v, int | float) or v is None for line in cells for v in line[1:])


def test_every_figure_drills_down_to_as_many_matters(world, people, client):
    client.force_login(people.supervisor)
    checked = 0
    for name in ("trend", "channel", "category", "place", "overdue"):
        for row in client.get(URL, {"panel": name, "format": "json"}).json()["rows"]:
            for series, link in row["links"].items():
                listed = client.get(link + "&format=json").json()
                assert listed["count"] == row["values"][series], (name, row, series)
                page = client.get(link)
                assert (
                    page.status_code == 200
                    and f"（{row['values'][series]} 件）" in page.content.decode()
                )
                checked += 1
    assert checked >= 30


def test_hot_issues_panel_shows_the_top_clusters_and_their_matters(county, people, client):
    for day in (1, 2, 2):
        register(
            county,
            people.clerk,
            bj(2026, 12, day, 9),
            title="小区电梯停运无法上下楼",
            content="东湖小区3栋电梯已停运多日，老人上下楼困难，请求协调尽快修复。",
        )
    register(
        county,
        people.clerk,
        bj(2026, 12, 2, 10),
        title="学校门口交通拥堵",
        content="上下学时段拥堵。",
    )
    panel = dash.hot(people.supervisor, _filters())
    assert panel.rows and panel.rows[0].values["count"] == 3 and "电梯" in panel.rows[0].label
    client.force_login(people.supervisor)
    listed = client.get(panel.rows[0].links["count"] + "&format=json").json()
    assert listed["count"] == 3
    assert panel.more[1] == "/routing/hot/?month=2026-12"


def test_panels_are_grouped_in_sql_not_per_matter(world, people, django_assert_max_num_queries):
    # a query per month and series (index ranges: 12 months x 2), never one per matter
    with django_assert_max_num_queries(40):
        dash.grouping(people.supervisor, _filters(), "category")
        dash.trend(people.supervisor, _filters())
        dash.overdue(people.supervisor, _filters())


def test_matters_of_an_office_outside_the_scope_count_only_when_they_reach_into_it(
    world, county, people
):
    from xinfang.orgs.models import Unit

    city_office = Unit.objects.create(
        name="A市信访局",
        code="XF4301",
        parent=county.city,
        level=Unit.Level.CITY,
        kind=Unit.Kind.PETITION_OFFICE,
        place=county.place,
    )
    sup = people.supervisor
    before = {r.key: r.values["count"] for r in dash.grouping(sup, _filters(), "channel").rows}
    assert (
        dash.visible(sup).model.objects.count() == 7 and dash.visible(sup).count() == 7
    )  # every matter
    routed_in = register(county, None, bj(2026, 11, 2, 9), office=city_office, channel=Channel.FAX)
    s.case_route(case=routed_in, by=None, unit=county.hr, at=bj(2026, 11, 2, 10))
    register(
        county, None, bj(2026, 11, 2, 9), office=city_office, channel=Channel.FAX, title="市里自办"
    )
    assert dash.visible(sup).count() == 8  # now the exact visible set, not every matter
    after = {r.key: r.values["count"] for r in dash.grouping(sup, _filters(), "channel").rows}
    assert after == {**before, "fax": 1}
    assert list(panels.panel_cases(sup, "channel", _filters(), "fax")) == [routed_in]


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "not-a-date"},
        {"from": "2026-12-01", "to": "2026-01-01"},
        {"from": "1900-01-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"to": "99999-01-01"},
        {"unit": "abc"},
        {"unit": "999999"},
        {"unit": "²"},
        {"unit": "9" * 30},
        {"panel": "nope"},
        {"format": "pdf"},
    ],
)
def test_bad_filters_are_a_chinese_400(people, client, query):
    client.force_login(people.supervisor)
    page = client.get(URL, query)
    assert page.status_code == 400 and "统计看板" in page.content.decode()
    data = client.get(URL, {**query, "format": "json"} if "format" not in query else query)
    assert data.status_code == 400
    if "format" not in query:
        body = data.json()
        assert body["detail"] == "统计条件不正确"
        assert all(
            ord(ch) > 0x2E80 for msgs in body["errors"].values() for m in msgs for ch in m[:1]
        )


def test_a_unit_outside_the_scope_is_refused(county, people, client):
    client.force_login(people.officer)  # 人社局 officer
    response = client.get(URL, {"unit": county.edu.pk, "format": "json"})
    assert response.status_code == 400
    assert "不在您的统计范围内" in json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"panel": "rates"},
        {"panel": "channel", "key": "x" * 60},
        {"panel": "trend", "key": "2026-13"},
        {"panel": "trend", "key": "2026-03", "series": "nope"},
        {"panel": "overdue", "key": "²"},
        {"panel": "place", "key": "abc"},
        {"panel": "hot", "key": "99"},
        {"panel": "hot", "key": "0"},
        {"panel": "channel", "key": "visit", "from": "2026-02-30"},
    ],
)
def test_bad_drill_down_is_a_chinese_400(people, client, query):
    client.force_login(people.supervisor)
    response = client.get("/reports/dashboard/matters/", query)
    assert response.status_code == 400
    assert "看板明细" in response.content.decode()
    assert client.get("/reports/dashboard/matters/", {**query, "format": "json"}).status_code == 400


def test_drill_page_number_past_the_end_is_the_last_page(world, people, client):
    client.force_login(people.supervisor)
    response = client.get(
        "/reports/dashboard/matters/", {"panel": "channel", "key": "visit", "page": "²"}
    )
    assert response.status_code == 200


def test_dashboard_needs_a_login(client):
    assert client.get(URL).status_code == 302
    assert client.get("/reports/dashboard/matters/?panel=channel&key=visit").status_code == 302


def test_figures_are_kept_a_few_minutes_and_the_list_says_when_it_moved_on(
    world, county, people, client
):
    client.force_login(people.supervisor)
    assert "统计于 2026-12-03 10:00" in client.get(URL).content.decode()
    register(county, people.clerk, bj(2026, 11, 21, 9), title="又一件来电", channel=Channel.PHONE)
    rows = client.get(URL, {"panel": "channel", "format": "json"}).json()["rows"]
    phone = next(r for r in rows if r["key"] == "phone")
    assert phone["values"]["count"] == 1  # counted before the new matter, kept for CACHE_SECONDS
    page = client.get(phone["links"]["count"]).content.decode()
    assert "（2 件）" in page and "看板上的数字 1 是 10:00 统计的" in page


def test_the_worker_counts_each_supervisors_dashboard_ahead(world, people):
    from django.core.cache import cache

    assert (
        panels.refresh_dashboards() == 2
    )  # the administrator (everything) and the county supervisor
    kept = cache.get(panels.cache_key(people.supervisor, "channel", _filters()))
    assert kept is not None and sum(r.values["count"] for r in kept.rows) == 6


def test_a_worker_pass_counts_the_dashboards_so_the_first_view_is_counted_already(
    world, people, client
):
    from django.core.cache import cache
    from django.core.management import call_command

    assert cache.get(panels.cache_key(people.supervisor, "trend", _filters())) is None
    call_command("worker", "--once")
    kept = cache.get(panels.cache_key(people.supervisor, "trend", _filters()))
    assert kept is not None and sum(r.values["registered"] for r in kept.rows) == 6
