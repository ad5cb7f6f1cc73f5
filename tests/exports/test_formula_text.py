"""Every .xlsx writer of the project writes a text that starts with =, +, - or @ as text: a
citizen's title `=HYPERLINK("http://x")` comes back as that string, never as a formula.

The writers: reports/xlsx.py (rates, drill-down), ledger/exporting.py (台帐导出), exports/writer.py
(export jobs), routing/hot.py (热点问题), backlog/views.py (积案台帐), backlog/screening.py
(排查台帐 and its template). ledger_template writes only fixed texts.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.factories import PASSWORD, bj, register
from xinfang.backlog import flagging as backlog_flagging
from xinfang.backlog import screening
from xinfang.cases import access
from xinfang.cases import services as s
from xinfang.exports import writer
from xinfang.ledger import exporting
from xinfang.lib import xlsxcells
from xinfang.reports import xlsx
from xinfang.routing import hot

EVIL = '=HYPERLINK("http://x")'
OTHERS = ("+1234", "-x", "@SUM(A1)")


def _cells(data) -> list:
    src = io.BytesIO(data) if isinstance(data, bytes) else data
    src.seek(0)
    return [c for row in load_workbook(src).active.iter_rows() for c in row]


def _assert_text(cells, *values) -> None:
    by_value = {c.value: c for c in cells}
    for value in values:
        assert value in by_value, value
        assert by_value[value].data_type == "s", value  # a string, not a formula ("f")
    assert not [c for c in cells if c.data_type == "f"]


def test_the_helper():
    assert all(xlsxcells.looks_like_formula(v) for v in (EVIL, *OTHERS))
    assert not any(xlsxcells.looks_like_formula(v) for v in ("欠薪", "", None, -1, 3.5, "a=b"))


def test_reports_xlsx():
    out = io.BytesIO()
    xlsx.write(out, "标题", ["标题", "数"], [[EVIL, 1], *([v, -2] for v in OTHERS)])
    cells = _cells(out)
    _assert_text(cells, EVIL, *OTHERS)
    assert {c.value for c in cells if c.data_type == "n"} >= {1, -2}  # numbers stay numbers


def test_export_job_writer():
    out = io.BytesIO()
    writer.write_xlsx(
        out, sheet="s", columns=[("标题", 10), ("数", 5)], rows=iter([[EVIL, 7], ["-x", -7]])
    )
    cells = _cells(out)
    _assert_text(cells, EVIL, "-x")
    assert [c.value for c in cells if c.data_type == "n"] == [7, -7]


def test_ledger_export(county, people):
    register(county, people.clerk, bj(2026, 3, 2, 9), title=EVIL)
    register(county, people.clerk, bj(2026, 3, 2, 9), title="@SUM(A1)")
    out = io.BytesIO()
    exporting.export_cases(
        access.visible_cases(people.clerk).order_by("id"), out, user=people.clerk
    )
    _assert_text(_cells(out), EVIL, "@SUM(A1)")


def test_hot_issues_xlsx():
    cluster = hot.Cluster(label=EVIL, place="+86", examples=[EVIL], growth=0.5)
    out = io.BytesIO()
    hot.write_xlsx([cluster], out)
    _assert_text(_cells(out), EVIL, "+86", "+50%")


def test_backlog_board_xlsx(client, county, people):
    case = register(county, people.clerk, bj(2026, 3, 2, 9), title=EVIL)
    s.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 3, 2, 10))
    backlog_flagging.backlog_flag(case=case, by=None, reason="-多次反映")
    client.login(username="supervisor", password=PASSWORD)
    response = client.get("/backlog/", {"format": "xlsx", "status": "all"})
    assert response.status_code == 200
    _assert_text(_cells(response.content), EVIL)


@pytest.fixture
def round_(county, people):
    return screening.round_create(
        by=people.clerk,
        name="排查",
        period_start=dt.date(2027, 1, 4),
        period_end=dt.date(2027, 1, 29),
    )


def test_screening_export_and_template(round_, county, people):
    data = screening.EntryData(
        issue=EVIL,
        place=county.town_place,
        location="@东湖小区",
        units=[county.housing],
        responsible=people.supervisor,
        plan="-协商",
        deadline=dt.date(2027, 1, 20),
        households=24,
    )
    screening.entry_create(round_=round_, by=people.clerk, data=data)
    out = io.BytesIO()
    screening.export_entries(round_.entries.all(), out)
    _assert_text(_cells(out), EVIL, "@东湖小区", "-协商")
    county.town.name = "=东湖街道办事处"
    county.town.save()
    people.clerk.unit = county.town
    out = io.BytesIO()
    screening.template(out, user=people.clerk)
    _assert_text(_cells(out), "=东湖街道办事处")


def test_a_title_with_a_slash_still_makes_a_sheet():
    """A dashboard list titled “12345/热线…” once raised in openpyxl (HTTP 500): every writer
    names its sheet through `sheet_title`."""
    from xinfang.lib.xlsxcells import sheet_title
    from xinfang.reports import xlsx

    out = io.BytesIO()
    xlsx.write(out, "来源渠道：12345/热线 [电话]", ["编号"], [["A1"]])
    out.seek(0)
    assert load_workbook(out).sheetnames == [sheet_title("来源渠道：12345/热线 [电话]")]
    assert sheet_title("a/b\\c*d?e:f[g]h" * 5) == ("a-b-c-d-e-f-g-h" * 5)[:31]
