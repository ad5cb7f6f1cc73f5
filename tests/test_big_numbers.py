"""One big number never makes an HTTP 500, and a group of a billion visitors is a typing error.

Issue 12 found five HTTP 500s from `99999999999999999999` (SQLite raises OverflowError past
2**63, PostgreSQL a DataError past 2**31 for an integer column): 来访人数 on registration and on
reception records, 涉及户数 in screening, 来访人数 in an imported ledger row, and the queue's
`after=` cursor; and 1,000,000,000 visitors was accepted. Each path now answers in Chinese (the
form page again, 400 for the queue's cursor, 422 for the JSON API as it does for all invalid
input) and writes nothing. The registration and API stories run on PostgreSQL too
(`DATABASE_URL=postgres://… pytest tests/test_big_numbers.py`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import Workbook

from tests.factories import VALID_ID, VALID_PHONE, bj, register
from tests.ledger.test_ledger import good_row, xlsx
from tests.reception.helpers import make_leaders
from xinfang.api.services import api_token_issue
from xinfang.backlog import screening
from xinfang.backlog.models import ScreeningEntry
from xinfang.cases.models import Case, Channel, Kind
from xinfang.ledger.importing import import_ledger
from xinfang.lib import bounds
from xinfang.reception.models import ReceptionRecord

BIG = "99999999999999999999"  # 20 digits: past what SQLite (2**63) and PostgreSQL hold
BILLION = "1000000000"  # fits a column, but no group of visitors is that large
GROUP_MESSAGE = "来访人数应在1至5000人之间（超过5000人请核实是否输入错误）"
HOUSEHOLDS_MESSAGE = bounds.HOUSEHOLDS.message
NOW = bj(2026, 9, 16, 10)


@pytest.fixture(autouse=True)
def _frozen(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    with time_machine.travel(NOW, tick=False):
        yield


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ---------------------------------------------------------------- the bound, declared once


def test_the_group_size_bound_is_declared_once_with_its_message():
    assert (bounds.GROUP_SIZE.low, bounds.GROUP_SIZE.high) == (1, 5000)
    assert bounds.GROUP_SIZE.message == GROUP_MESSAGE
    assert bounds.GROUP_SIZE.parse("5000") == 5000
    for text in (BIG, BILLION, "0", "-1", "5001", "12.5", "²", "三", "1e3", "9" * 5000):
        with pytest.raises(ValueError, match="来访人数应在1至5000人之间"):
            bounds.GROUP_SIZE.parse(text)


# ---------------------------------------------------------------- 1. registration


def _register_form(county, group_size: str) -> dict:
    return {
        "channel": Channel.VISIT,
        "kind": Kind.APPEAL,
        "title": "某公司拖欠工资",
        "content": "公司拖欠工资三个月未发。",
        "place": county.town_place.pk,
        "petitioner_name": "王五",
        "petitioner_id_number": VALID_ID,
        "petitioner_phone": VALID_PHONE,
        "group_size": group_size,
    }


@pytest.mark.parametrize("value", [BIG, BILLION, "5001", "0"])
def test_the_registration_page_refuses_an_impossible_group(client, county, people, value):
    client.force_login(people.clerk)
    response = client.post(reverse("cases:register"), _register_form(county, value))
    assert GROUP_MESSAGE in _page(response)
    assert not Case.objects.exists()


def test_the_registration_page_takes_a_group_of_5000(client, county, people):
    client.force_login(people.clerk)
    response = client.post(reverse("cases:register"), _register_form(county, "5000"))
    assert response.status_code == 302, response.content.decode()
    assert Case.objects.get().group_size == 5000


def _api_post(client, people, path: str, body: dict):
    token = api_token_issue(user=people.clerk, name="test")
    return client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.parametrize("value", [int(BIG), int(BILLION), 5001, 0])
def test_the_api_refuses_an_impossible_group(client, county, people, value):
    body = _register_form(county, "1") | {"group_size": value}
    response = _api_post(client, people, "/api/cases", body)
    assert response.status_code == 422, response.content.decode()
    assert response.json()["errors"]["group_size"] == [GROUP_MESSAGE]
    assert not Case.objects.exists()


def test_the_openapi_schema_says_the_bound(client, county, people):
    schema = client.get("/api/openapi.json").json()
    group = schema["components"]["schemas"]["RegisterIn"]["properties"]["group_size"]
    assert (group["minimum"], group["maximum"]) == (1, 5000)


def test_the_api_refuses_an_id_no_column_holds(client, county, people):
    token = api_token_issue(user=people.clerk, name="test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"/api/cases/{BIG}", **auth).status_code in {404, 422}
    response = _api_post(client, people, f"/api/cases/{BIG}/reveal", {"reason": "核实"})
    assert response.status_code in {404, 422}


@pytest.mark.parametrize("value", [int(BIG), int(BILLION), 0])
def test_the_register_itself_refuses_an_impossible_group(county, people, value):
    """Every road (a page, the API, an import, the demo) ends in `case_register`: it says so too."""
    with pytest.raises(ValidationError) as exc:
        register(county, people.clerk, bj(2026, 9, 15, 9), group_size=value)
    assert exc.value.message_dict["group_size"] == [GROUP_MESSAGE]
    assert not Case.objects.exists()


# ---------------------------------------------------------------- 2. reception records


@pytest.fixture
def leaders(county):
    return make_leaders(county)


@pytest.mark.parametrize("value", [BIG, BILLION])
def test_a_reception_record_refuses_an_impossible_number_of_visitors(
    client, county, people, leaders, value
):
    client.force_login(people.clerk)
    response = client.post(
        f"/reception/records/new/?office={county.office.code}",
        {
            "held_at": "2026-09-16T09:00",
            "kind": "rota",
            "leader": leaders.director.pk,
            "visitors": value,
        },
    )
    assert GROUP_MESSAGE in _page(response)
    assert not ReceptionRecord.objects.exists()


@pytest.mark.parametrize("value", [int(BIG), int(BILLION), 0])
def test_the_reception_service_refuses_an_impossible_number_of_visitors(
    county, people, leaders, value
):
    from xinfang.reception import services as reception

    with pytest.raises(ValidationError) as exc:
        reception.record_create(
            office=county.office,
            by=people.clerk,
            held_at=bj(2026, 9, 16, 9),
            leader=leaders.director,
            visitors=value,
        )
    assert exc.value.message_dict["visitors"] == [GROUP_MESSAGE]
    assert not ReceptionRecord.objects.exists()


@pytest.mark.parametrize("value", [BIG, BILLION])
def test_a_matter_raised_at_reception_refuses_an_impossible_group(
    client, county, people, leaders, value
):
    from xinfang.reception import services as reception

    record = reception.record_create(
        office=county.office, by=people.clerk, held_at=bj(2026, 9, 16, 9), leader=leaders.director
    )
    client.force_login(people.clerk)
    response = client.post(
        f"/reception/records/{record.pk}/",
        {
            "register-kind": Kind.APPEAL,
            "register-title": "集体反映拆迁补偿",
            "register-content": "村民反映拆迁补偿标准不一致。",
            "register-place": county.town_place.pk,
            "register-petitioner_name": "赵六",
            "register-petitioner_phone": VALID_PHONE,
            "register-group_size": value,
            "submit-register": "1",
        },
    )
    assert GROUP_MESSAGE in _page(response)
    assert not Case.objects.exists()


# ---------------------------------------------------------------- 3. screening (涉及户数)


@pytest.fixture
def round_(county, people):
    return screening.round_create(
        by=people.clerk,
        name="秋季矛盾纠纷排查",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30),
    )


@pytest.mark.parametrize("value", [BIG, BILLION])
def test_screening_refuses_an_impossible_number_of_households(
    client, county, people, round_, value
):
    client.force_login(people.clerk)
    response = client.post(
        f"/backlog/screening/{round_.pk}/",
        {
            "entry-issue": "菜市场摊位费纠纷",
            "entry-place": county.town_place.pk,
            "entry-status": "pending",
            "entry-households": value,
        },
    )
    assert HOUSEHOLDS_MESSAGE in _page(response)
    assert not ScreeningEntry.objects.exists()


def test_the_screening_service_refuses_them_too(county, people, round_):
    data = screening.EntryData(issue="加装电梯", place=county.town_place, households=int(BIG))
    with pytest.raises(ValidationError, match="涉及户数应在"):
        screening.entry_create(round_=round_, by=people.clerk, data=data)
    assert not ScreeningEntry.objects.exists()


def _screening_xlsx(households) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(screening.COLUMNS[1:-1])
    ws.append(["小区停车位分配纠纷", "430102001", "", "", "", "", "", "化解中", households])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (BIG, HOUSEHOLDS_MESSAGE),
        (int(BIG), HOUSEHOLDS_MESSAGE),
        (BILLION, HOUSEHOLDS_MESSAGE),
        ("²", "“²”应为不小于零的整数"),  # a digit to str.isdigit(), not to int()
    ],
)
def test_a_screening_import_names_an_impossible_number_of_households(
    people, round_, value, message
):
    with pytest.raises(screening.ImportFailed) as exc:
        screening.import_entries(round_=round_, by=people.clerk, source=_screening_xlsx(value))
    assert exc.value.messages == [f"第2行“涉及户数”列：{message}"]
    assert not ScreeningEntry.objects.exists()


# ---------------------------------------------------------------- 4. an imported ledger row


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (BIG, GROUP_MESSAGE),
        (int(BIG), GROUP_MESSAGE),
        (BILLION, GROUP_MESSAGE),
        ("5001", GROUP_MESSAGE),
        ("0", GROUP_MESSAGE),
        ("²", "“²”不是有效的人数，请填写整数"),
    ],
)
def test_a_ledger_row_with_an_impossible_group_is_named_and_nothing_imported(
    county, value, message
):
    rows = [good_row(1), good_row(2, 来访人数=value)]
    result = import_ledger(io.BytesIO(xlsx(rows)), office=county.office)
    assert not result.ok
    assert result.messages == [f"第3行 来访人数：{message}"]
    assert not Case.objects.exists()


# ---------------------------------------------------------------- 5. the queue's cursor


BAD_CURSORS = [f"1_{BIG}", f"{BIG}_1", f"{BIG}{BIG}_1", "-99999999999999999_1", "x_1", "1_-1"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_the_queue_refuses_a_cursor_no_page_has(client, county, people, cursor):
    register(county, people.clerk, bj(2026, 9, 15, 9))
    client.force_login(people.clerk)
    response = client.get(reverse("cases:queue"), {"after": cursor})
    assert response.status_code == 400
    assert "翻页参数无效" in response.content.decode()
    q = client.get(reverse("cases:queue"), {"after": cursor, "q": "拖欠工资"})
    assert q.status_code == 400


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_the_api_queue_refuses_a_cursor_no_page_has(client, county, people, cursor):
    register(county, people.clerk, bj(2026, 9, 15, 9))
    token = api_token_issue(user=people.clerk, name="test")
    for extra in ({}, {"q": "拖欠工资"}):
        response = client.get(
            "/api/cases", {"after": cursor, **extra}, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 422, response.content.decode()
        assert "翻页参数无效" in response.json()["errors"]["after"][0]


def test_a_real_cursor_still_pages(client, county, people):
    for day in range(1, 25):
        register(county, people.clerk, bj(2026, 9, 1, 8) + dt.timedelta(hours=day))
    token = api_token_issue(user=people.clerk, name="test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    first = client.get("/api/cases", {"scope": "office"}, **auth).json()
    assert first["next"]
    second = client.get("/api/cases", {"scope": "office", "after": first["next"]}, **auth).json()
    assert len(first["items"]) + len(second["items"]) == 24
    client.force_login(people.clerk)
    page = client.get(reverse("cases:queue"), {"scope": "office", "after": first["next"]})
    assert page.status_code == 200


# ---------------------------------------------------------------- every URL, every number


def _routes(patterns, prefix: str = ""):
    """Every URL pattern of the site as a path, BIG for each whole-number parameter."""
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if not route.startswith(("admin/", "logout")):
                yield "/" + re.sub(
                    r"<int:[a-z_]+>", BIG, re.sub(r"<(?:str|slug):[a-z_]+>", "x", route)
                )


# Query parameters and form fields the views read as whole numbers (ids, pages, cursors, versions).
QUERY = dict.fromkeys(
    (
        "page after office version into id booking owner unit place category scheme year limit"
        " offset slot plan mediation user leader round group key days case status"
        " service_request_id"
    ).split(),
    BIG,
)


@pytest.mark.parametrize("persona", ["clerk", "supervisor", "admin"])
def test_no_page_answers_500_to_a_20_digit_number(client, county, people, persona):
    client.raise_request_exception = False
    client.force_login(getattr(people, persona))
    token = api_token_issue(user=getattr(people, persona), name="sweep")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    failures = []
    for path in sorted(set(_routes(get_resolver().url_patterns))):
        for method in ("get", "post"):
            response = getattr(client, method)(path, QUERY, **auth)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path}")
    assert not failures


def test_no_month_in_a_query_string_overflows_the_calendar(client, county, people):
    """The rota, the hot issues and the routing report read `?month=`: a 20-digit year (or
    9999-12, whose next month has no date) is the current month, not an OverflowError."""
    client.raise_request_exception = False
    client.force_login(people.supervisor)
    failures = []
    for path in sorted(set(_routes(get_resolver().url_patterns))):
        for month in (f"{BIG}-01", f"2026-{BIG}", "9999-12"):
            if client.get(path, {"month": month}).status_code >= 500:
                failures.append(f"GET {path}?month={month}")
    assert not failures
    assert bounds.parse_month("2026-09") == (2026, 9) and bounds.parse_month("9999-12") is None
