"""分析报告 on a hand-built March 2026 (all times Beijing):

- 2025-03: one matter (same month last year). 2026-02: two wage matters (previous month).
- 2026-03: six wage matters and one schooling matter registered on 2 March. Five wage matters are
  routed to 人社局 that day (on time) and accepted on 30 March (late: the 15-day accept clock ran
  out); one wage matter and the schooling one stay at the office, past their 15-day route clock.
  One matter is flagged as a backlog case on 10 March.

So: total 7 (previous 2, +250%; last year 1), 拖欠工资 6 vs 2 (+200%), 人社局 及时受理率 0/5,
overdue on 1 April: 5 at the office.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from docx import Document

from tests.factories import PASSWORD, bj, register
from xinfang.backlog import flagging as backlog_flagging
from xinfang.cases import services as s
from xinfang.reports import analysis

MARCH = dt.date(2026, 3, 1)
APRIL_1 = bj(2026, 4, 1, 9)


@pytest.fixture
def march(county, people):
    c = county
    register(c, people.clerk, bj(2025, 3, 10, 9))
    for day in (3, 4):
        register(c, people.clerk, bj(2026, 2, day, 9))
    wages = [register(c, people.clerk, bj(2026, 3, 2, 9), title=f"拖欠工资{i}") for i in range(6)]
    register(c, people.clerk, bj(2026, 3, 2, 9), title="孩子入学难", category=c.schooling)
    for i, case in enumerate(wages[:5]):
        s.case_route(case=case, by=people.clerk, unit=c.hr, at=bj(2026, 3, 2, 10))
        wages[i] = s.case_accept(case=case, by=people.officer, at=bj(2026, 3, 30, 10))
    backlog_flagging.backlog_flag(case=wages[0], by=None, reason="多次反映", at=bj(2026, 3, 10, 9))
    return wages


@pytest.fixture(autouse=True)
def _no_cached_hot_issues():
    from django.core.cache import cache

    cache.clear()  # the hot issues are cached per month and scope


def test_the_figures_of_the_month(people, march, county):
    a = analysis.analysis_for(people.supervisor, MARCH, now=APRIL_1)
    assert (a.total, a.previous, a.last_year) == (7, 2, 1)
    assert a.month_on_month == 2.5 and a.year_on_year == 6.0
    assert [(c.label, c.count, c.previous) for c in a.by_category] == [
        ("劳动和社会保障/拖欠工资", 6, 2),
        ("教育文体/入学招生", 1, 0),
    ]
    assert [(c.label, c.count) for c in a.by_channel] == [("来访", 7)]
    rates = {r.name: r for r in a.rates}
    assert (rates["accept_on_time"].numerator, rates["accept_on_time"].denominator) == (0, 5)
    assert (rates["route_on_time"].numerator, rates["route_on_time"].denominator) == (5, 5)
    assert [(o.label, o.count) for o in a.overdue] == [("A1区信访局", 5)] and a.overdue_total == 5
    assert a.backlog == {"in_hand": 1, "flagged": 1, "cleared": 0}


def test_recommendations_are_drafted_from_the_figures(people, march):
    a = analysis.analysis_for(people.supervisor, MARCH, now=APRIL_1)
    text = "\n".join(a.recommendations)
    assert "A1区人力资源和社会保障局及时受理率为0.0%（0/5），低于95%" in text
    assert "“劳动和社会保障/拖欠工资”类事项6件，较上月2件增长200%" in text
    assert "本月受理登记7件，环比增长250%" in text
    assert "共有5件事项超期未办结（A1区信访局5件）" in text
    assert "尚有积案1件在化解中" in text
    assert "“教育文体" not in text  # one schooling matter: under the five a rising category needs


def test_a_quiet_month_has_no_recommendations(people, county):
    a = analysis.analysis_for(people.supervisor, MARCH, now=APRIL_1)
    assert a.total == 0 and a.recommendations == [] and a.hot == []


def test_a_unit_sees_only_its_own_matters(people, march):
    a = analysis.analysis_for(people.officer, MARCH, now=APRIL_1)  # 人社局
    assert a.total == 5 and a.overdue == [] and a.backlog["in_hand"] == 1
    outsider = analysis.analysis_for(people.outsider, MARCH, now=APRIL_1)  # 教育局
    assert outsider.total == 0 and all(r.denominator == 0 for r in outsider.rates)


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_page_docx_and_json_agree(client, people, march):
    client.login(username="supervisor", password=PASSWORD)
    page = client.get("/reports/analysis/", {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "下载 Word 报告" in html and "及时受理率为0.0%" in html
    data = client.get("/reports/analysis/", {"month": "2026-03", "format": "json"}).json()
    assert data["volumes"]["total"] == 7 and data["volumes"]["previous_month"] == 2
    assert {r["name"]: r["denominator"] for r in data["rates"]}["accept_on_time"] == 5
    assert data["recommendations"] and data["rules"]
    response = client.get("/reports/analysis/", {"month": "2026-03", "format": "docx"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = _docx_text(response.content)
    assert "2026年3月信访事项分析报告" in text
    assert "本月受理登记信访事项7件" in text and "劳动和社会保障/拖欠工资" in text
    assert "及时受理率" in text and "六、工作建议" in text
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert "张三" not in xml  # matters and units, never petitioners


@pytest.mark.parametrize(
    "month", ["2026-13", "abc", "99999-01", "1999-12", "2026-３", "2026-03-01"]
)
def test_a_bad_month_is_refused_in_chinese(client, people, month):
    client.login(username="supervisor", password=PASSWORD)
    page = client.get("/reports/analysis/", {"month": month})
    assert page.status_code == 400 and "月" in page.content.decode()
    data = client.get("/reports/analysis/", {"month": month, "format": "json"})
    assert data.status_code == 400 and data.json()["detail"] == "月份不正确"


def test_no_month_means_last_month():
    assert analysis.parse_month("", today=dt.date(2026, 1, 15)) == dt.date(2025, 12, 1)
