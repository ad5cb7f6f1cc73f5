"""What the OpenAPI document promises is what the server does: unknown properties, blank and
NUL texts, dates, the rules between fields, and the refusals by state.

Found by schemathesis (tests/api/test_schemathesis.py): schema-valid requests were refused
(blank reasons, NUL characters, negative ids in lists, years the server does not take, a
correction of accused units without a reason), and the schema said nothing of the rules
between a registration's fields.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import bj, register
from xinfang.api import schemas
from xinfang.cases.models import Kind
from xinfang.reports.selectors import GROUPINGS


@pytest.fixture
def openapi(client, db) -> dict:
    return json.loads(client.get("/api/openapi.json").content)


def _bodies(openapi: dict):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                yield f"{method.upper()} {path}", ref.rsplit("/", 1)[-1]


def test_every_request_body_refuses_properties_it_does_not_name(openapi):
    components = openapi["components"]["schemas"]
    names = dict(_bodies(openapi))
    assert len(names) > 20
    for operation, name in names.items():
        assert components[name]["additionalProperties"] is False, operation


def test_every_required_text_says_it_must_not_be_blank(openapi):
    components = openapi["components"]["schemas"]
    for operation, name in _bodies(openapi):
        body = components[name]
        for field in body.get("required", []):
            prop = body["properties"][field]
            if prop.get("type") == "string" and "enum" not in prop:
                assert prop["minLength"] == 1 and prop["pattern"] == schemas.NOT_BLANK, (
                    operation,
                    field,
                )


def test_the_patterns_mean_what_the_server_does():
    blank, anything = re.compile(schemas.NOT_BLANK), re.compile(schemas.ANY_TEXT)
    assert blank.search("依法答复") and blank.search("  x ")
    assert not blank.search("   ") and not blank.search("\t\n") and not blank.search("a\x00b")
    assert anything.search("") and not anything.search("\x00")
    dates = re.compile(schemas.DATE_PATTERN)
    assert dates.search("2026-12-03") and dates.search("1900-01-01")
    assert not dates.search("0290-06-15") and not dates.search("2026-13-01")
    assert not dates.search("20261203")


def test_the_rates_grouping_enum_is_the_reports_groupings():
    assert {g.value for g in schemas.GroupingEnum} == set(GROUPINGS)


def test_an_unknown_property_is_refused_in_chinese_not_ignored(county, people, matters, as_):
    appeal = matters["appeal"]
    response = as_("officer").post(
        f"/api/cases/{appeal.pk}/accept", {"expected_versoin": appeal.version - 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"expected_versoin": ["不允许的字段"]}
    appeal.refresh_from_db()
    assert appeal.state == "routed"  # nothing happened


def test_a_text_with_a_nul_character_is_refused_before_the_database(matters, as_):
    response = as_("clerk").post(
        f"/api/cases/{matters['appeal'].pk}/reveal", {"reason": "核实\x00"}
    )
    assert response.status_code == 422 and response.json()["errors"] == {
        "reason": ["此项不能为空白，也不能含有空字符"]
    }


def test_a_negative_id_in_a_list_is_refused_by_the_schema(county, people, as_):
    body = {
        "channel": "visit",
        "kind": "accusation",
        "title": "反映某局",
        "content": "某局推诿",
        "place": county.place.pk,
        "anonymous": True,
        "other_accused_units": [-5],
    }
    response = as_("clerk").post("/api/cases", body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"other_accused_units": ["数值过小"]}


def test_correcting_accused_units_without_a_reason_is_refused_by_the_state_400(county, people, as_):
    report = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="反映某局",
        content="某局推诿",
        no_accused_unit=False,
    )
    path = f"/api/cases/{report.pk}/accused"
    first = as_("clerk").post(path, {"units": [county.housing.pk]})
    assert first.status_code == 200 and first.json()["accused_pending"] is False
    again = as_("clerk").post(path, {"units": [county.edu.pk]})
    assert again.status_code == 400
    assert again.json()["errors"] == {"reason": ["更正被反映单位须说明理由"]}
    fixed = as_("clerk").post(path, {"units": [county.edu.pk], "reason": "核实后更正"})
    assert fixed.status_code == 200
    assert [u["id"] for u in fixed.json()["accused_units"]] == [county.edu.pk]
    assert as_("supervisor").post(path, {"units": [county.hr.pk]}).status_code == 403


def test_rates_take_a_grouping_from_the_enum_and_dates_as_dates(county, people, as_):
    ok = as_("supervisor").get("/api/rates", {"by": "place", "date_from": "2026-10-01"})
    assert ok.status_code == 200
    for params in ({"by": "person"}, {"date_to": "0000000000"}, {"date_from": "2026-1-1"}):
        response = as_("supervisor").get("/api/rates", params)
        assert response.status_code == 422, params


def test_a_registration_time_before_1970_is_refused_not_answered_with_a_local_mean_time(
    county, people, as_
):
    """Found by schemathesis: 1900-03-06T22:17Z came back as 1900-03-07T06:23+08:05:43 (Beijing's
    local mean time before 1901), which no client reads as an RFC 3339 date-time."""
    body = {
        "channel": "visit",
        "kind": "appeal",
        "title": "拖欠工资",
        "content": "公司拖欠工资",
        "place": county.place.pk,
        "petitioner_name": "张三",
        "petitioner_phone": "13812345678",
    }
    old = as_("clerk").post("/api/cases", {**body, "registered_at": "1900-03-06T22:17:27+00:00"})
    assert old.status_code == 422
    # (since issue 12's leftovers no registration time before 2000: tests/test_registration_dates.py)
    assert old.json()["errors"] == {"registered_at": ["登记时间年份应在2000至2999之间"]}
    ok = as_("clerk").post("/api/cases", {**body, "registered_at": "2000-01-02T08:00:00+08:00"})
    assert ok.status_code == 201
    assert ok.json()["case"]["registered_at"] == "2000-01-02T08:00:00+08:00"
