"""The board by unit, owner and age; its JSON/XLSX twins; the dashboard by month (清仓见底)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.backlog.conftest import NOW, accepted_case, evidence
from tests.factories import PASSWORD
from xinfang.backlog import flagging, planning, selectors, services
from xinfang.backlog.models import BacklogCase

DAY = dt.timedelta(days=1)


@pytest.fixture
def spread(county, people, now):
    """Backlog cases aged 2 months, 8 months, 18 months and 3 years; one of them closed."""
    made = []
    for days, unit in ((60, county.hr), (240, county.hr), (540, county.edu), (1100, county.edu)):
        case = accepted_case(county, people, NOW - days * DAY, to_edu=unit == county.edu)
        made.append(
            flagging.backlog_flag(
                case=case, by=people.supervisor, reason="测试", at=NOW - (days - 30) * DAY
            )
        )
    services.backlog_assign_owner(backlog=made[0], by=people.supervisor, owner=people.head)
    services.backlog_assign_owner(backlog=made[1], by=people.supervisor, owner=people.head)
    return made


def test_bucket_counts(people, spread):
    board = selectors.board(people.supervisor, selectors.BoardFilters())
    assert board.total == 4
    assert [board.totals[k] for k in ("lt6m", "6to12m", "1to2y", "gt2y")] == [1, 1, 1, 1]
    units = {r["name"]: r["total"] for r in board.by_unit}
    assert units == {"A1区人力资源和社会保障局": 2, "A1区教育局": 2}
    owners = {r["name"]: r["total"] for r in board.by_owner}
    assert owners == {"人社局张局长": 2, "未指定包案领导": 2}
    # Oldest first.
    assert [b.age_days for b in board.rows] == [1100, 540, 240, 60]


def test_filters(people, spread):
    f = selectors.BoardFilters
    assert selectors.board(people.supervisor, f(bucket="gt2y")).total == 1
    assert selectors.board(people.supervisor, f(owner=people.head.pk)).total == 2
    assert selectors.board(people.supervisor, f(owner=0)).total == 2
    assert selectors.board(people.supervisor, f(rule="manual")).total == 4
    assert selectors.board(people.supervisor, f(rule="open_days")).total == 0
    assert selectors.board(people.supervisor, f(status="closed")).total == 0


def test_stuck_cases_are_suggested_for_summons(people, spread):
    # Flagged 30+ days before now with nothing recorded since: stuck after 30 days.
    board = selectors.board(people.supervisor, selectors.BoardFilters(stuck=True))
    assert board.total == 2  # the two with an owner assignment recorded today are not stuck
    assert all(b.stuck for b in board.rows)


def test_board_page_json_and_xlsx(client, people, spread):
    client.login(username="supervisor", password=PASSWORD)
    page = client.get("/backlog/")
    assert page.status_code == 200
    html = page.content.decode()
    assert spread[0].case.number in html and "建议约谈" in html
    data = client.get("/backlog/", {"format": "json", "bucket": "lt6m"}).json()
    assert data["total"] == 1 and data["rows"][0]["case_number"] == spread[0].case.number
    assert data["buckets"] == {"lt6m": 1, "6to12m": 0, "1to2y": 0, "gt2y": 0}
    response = client.get("/backlog/", {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("事项编号", "标题", "责任单位") and len(rows) == 5
    assert rows[1][-1] == "2年以上"


def test_board_never_scans_the_matters(people, spread, django_assert_max_num_queries):
    """Counts come from backlog rows; the matters are joined only for the page, by key."""
    with CaptureQueriesContext(connection) as ctx:
        selectors.board(people.supervisor, selectors.BoardFilters())
    sqls = [q["sql"] for q in ctx.captured_queries if '"backlog_backlogcase"' in q["sql"]]
    aggregates = [sql for sql in sqls if "COUNT(" in sql]
    assert len(aggregates) == 1  # one grouped pass gives totals, units and owners
    # Every read of the backlog but the last leaves the matters alone; the last reads the
    # page's rows with their matters by primary key.
    assert all('"cases_case"' not in sql for sql in sqls[:-1])
    assert '"cases_case"' in sqls[-1] and '"backlog_backlogcase"."id" IN (' in sqls[-1]
    with django_assert_max_num_queries(12):
        selectors.board(people.supervisor, selectors.BoardFilters())


def test_board_query_count_does_not_grow_with_rows(client, county, people, spread):
    client.login(username="supervisor", password=PASSWORD)
    client.get("/backlog/")
    with CaptureQueriesContext(connection) as few:
        client.get("/backlog/")
    for days in (10, 11, 12):
        case = accepted_case(county, people, NOW - days * DAY, to_edu=days == 11)
        flagging.backlog_flag(case=case, by=people.supervisor, reason="x")
    with CaptureQueriesContext(connection) as more:
        client.get("/backlog/")
    assert len(more.captured_queries) == len(few.captured_queries)


def test_dashboard_by_month_with_zero_target(client, county, people, spread):
    series = selectors.dashboard_series(people.supervisor, now=NOW, months=12)
    assert len(series) == 12 and series[-1]["month"] == dt.date(2027, 3, 1)
    assert series[-1]["total"] == 4
    # Flagged 30 days before... the 60-day one was flagged on 30 Jan: open at the end of January.
    jan = next(r for r in series if r["month"] == dt.date(2027, 1, 1))
    assert jan["total"] == 4
    # Close one: it leaves this month's figure, not January's.
    b = spread[0]
    planning.plan_save(
        backlog=b, by=people.supervisor, lead_unit=county.hr, path="x", plan_date=NOW.date()
    )
    planning.plan_mark_executed(backlog=b, by=people.supervisor, on=NOW.date())
    services.acceptance_record(
        backlog=b,
        by=people.supervisor,
        on=NOW.date(),
        kind="reply_record",
        note="",
        evidence=evidence(),
    )
    services.backlog_close(backlog=b, by=people.supervisor, at=NOW)
    series = selectors.dashboard_series(
        people.supervisor, now=NOW + dt.timedelta(hours=1), months=12
    )
    assert series[-1]["total"] == 3
    assert next(r for r in series if r["month"] == dt.date(2027, 1, 1))["total"] == 4
    client.login(username="supervisor", password=PASSWORD)
    page = client.get("/backlog/dashboard/")
    assert page.status_code == 200 and "清仓见底" in page.content.decode()
    data = client.get("/backlog/dashboard/", {"format": "json"}).json()
    assert data["target"] == 0 and data["months"][-1]["total"] == 3


def test_dashboard_prefers_recorded_snapshots_for_past_months(people, spread):
    from xinfang.backlog.models import BacklogSnapshot

    BacklogSnapshot.objects.create(month=dt.date(2026, 12, 1), bucket="gt2y", count=9)
    series = selectors.dashboard_series(people.admin, now=NOW, months=6)
    dec = next(r for r in series if r["month"] == dt.date(2026, 12, 1))
    assert dec["total"] == 9
    assert BacklogCase.objects.count() == 4
