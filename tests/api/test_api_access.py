"""Persona × API: the JSON API shows exactly what the staff pages show, to the same people."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.conftest import PERSONAS, Api
from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, bj, register
from xinfang.api.models import ApiToken, digest
from xinfang.cases import access
from xinfang.orgs.models import PersonalDataView

SCOPES = ["lead", "office", "review", "rereview", "co"]


def _api_ids(api: Api) -> set[int]:
    ids: set[int] = set()
    for scope in SCOPES:
        params = {"scope": scope}
        while True:
            response = api.get("/api/cases", params)
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["scope"] == scope
            ids |= {row["id"] for row in body["items"]}
            if not body["next"]:
                break
            params = {"scope": scope, "after": body["next"]}
    return ids


def _page_ids(client, matters) -> set[int]:
    shown: set[int] = set()
    for scope in SCOPES:
        text = client.get(reverse("cases:queue"), {"scope": scope}).content.decode()
        shown |= {c.pk for c in matters.values() if c.number in text}
    return shown


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_detail_match_the_pages_for_every_persona(client, people, matters, as_, persona):
    api = as_(persona)
    user = getattr(people, persona)
    assert client.login(username=user.username, password=PASSWORD)
    assert _api_ids(api) == _page_ids(client, matters), persona
    for name, case in matters.items():
        page = client.get(reverse("cases:detail", args=[case.pk]))
        data = api.get(f"/api/cases/{case.pk}")
        assert data.status_code == page.status_code, (persona, name)
        assert data.status_code in {200, 404}
        if data.status_code == 404:
            assert data.json()["detail"] == "没有找到该事项，或您无权查看"
            continue
        body = data.json()
        case.refresh_from_db()
        assert (body["petitioner"] is None) is (not access.can_see_petitioner(user, case))
        assert body["allowed_actions"] == access.allowed_actions(user, case)
        assert body["number"] == case.number and body["version"] == case.version


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_accused_unit_never_learns_who_reported_it(client, people, matters, as_, persona):
    user = getattr(people, persona)
    report = matters["report"]
    listing = json.dumps(
        [as_(persona).get("/api/cases", {"scope": s}).json() for s in SCOPES], ensure_ascii=False
    )
    detail = as_(persona).get(f"/api/cases/{report.pk}")
    revealed = as_(persona).post(f"/api/cases/{report.pk}/reveal", {"reason": "核实"})
    text = listing + detail.content.decode() + revealed.content.decode()
    assert client.login(username=user.username, password=PASSWORD)
    page = client.get(reverse("cases:detail", args=[report.pk])).content.decode()
    assert ("王举报" in text) is ("王举报" in page), persona
    assert "13900001111" not in listing
    if detail.status_code == 200 and detail.json()["petitioner"] is None:
        assert "13900001111" not in text and "王举报" not in text


def test_the_clerk_of_the_accused_office_sees_the_report_but_not_the_reporter(matters, as_):
    body = as_("clerk").get(f"/api/cases/{matters['report'].pk}").json()
    assert body["petitioner_visible"] is False and body["petitioner"] is None
    refused = as_("clerk").post(f"/api/cases/{matters['report'].pk}/reveal", {"reason": "核实"})
    assert refused.status_code == 404
    assert not PersonalDataView.objects.filter(case=matters["report"]).exists()
    assert body["attachments"] == []
    row = next(
        r
        for r in as_("clerk").get("/api/cases", {"scope": "office"}).json()["items"]
        if r["id"] == matters["report"].pk
    )
    assert row["petitioner"] == "（保密）" and row["phone"] == ""


def test_full_numbers_only_with_reveal_and_then_logged(people, matters, as_):
    case = matters["appeal"]
    plain = as_("officer").get(f"/api/cases/{case.pk}").json()
    assert plain["petitioner"]["id_number"] == "1101**********002X"
    assert plain["petitioner"]["phone"] == "138****5678"
    assert plain["petitioner"]["revealed"] is False
    assert not PersonalDataView.objects.filter(user=people.officer, case=case).exists()
    # A GET never reveals nor writes an audit row, whatever its parameters (a link cannot).
    still = as_("officer").get(f"/api/cases/{case.pk}", {"reveal": 1}).json()
    assert still["petitioner"]["revealed"] is False and VALID_ID not in json.dumps(still)
    assert not PersonalDataView.objects.filter(user=people.officer, case=case).exists()
    blank = as_("officer").post(f"/api/cases/{case.pk}/reveal", {"reason": "  "})
    assert blank.status_code == 422
    assert not PersonalDataView.objects.exists()
    shown = as_("officer").post(f"/api/cases/{case.pk}/reveal", {"reason": "电话回访核实"}).json()
    assert (
        shown["petitioner"]["id_number"] == VALID_ID and shown["petitioner"]["phone"] == VALID_PHONE
    )
    view = PersonalDataView.objects.get(user=people.officer, case=case)
    assert (
        view.fields == "id_number,phone" and view.purpose == "api" and view.reason == "电话回访核实"
    )
    listing = as_("officer").get("/api/cases").content.decode()
    assert VALID_ID not in listing and VALID_PHONE not in listing and "138****5678" in listing


def test_detail_carries_the_whole_timeline_with_internal_steps(matters, as_):
    from xinfang.cases import services

    case = matters["appeal"]
    services.case_urge(case=case, by=None, note="请抓紧办理")
    body = as_("supervisor").get(f"/api/cases/{case.pk}").json()
    kinds = [(e["kind"], e["label"], e["public"]) for e in body["timeline"]]
    assert kinds == [
        ("case.registered", "登记", True),
        ("case.routed", "转送/交办", True),
        ("case.urged", "催办", False),
    ]
    assert body["timeline"][1]["details"]["unit"] == "A1区人力资源和社会保障局"
    assert body["timeline"][0]["actor"] == "登记员小王"
    assert body["allowed_actions"] == ["urge"]


# ---------------------------------------------------------------- authentication


def test_requests_without_a_valid_token_are_refused(client, people, tokens):
    assert client.get("/api/cases").status_code == 401
    assert client.get("/api/units").json()["detail"].startswith("未认证")
    assert Api(client, "xf_not-a-token").get("/api/cases").status_code == 401
    assert (
        client.get("/api/cases", HTTP_AUTHORIZATION=f"Token {tokens['clerk']}").status_code == 401
    )
    ApiToken.objects.filter(user=people.officer).update(revoked=True)
    assert Api(client, tokens["officer"]).get("/api/cases").status_code == 401
    people.head.is_active = False
    people.head.save()
    assert Api(client, tokens["head"]).get("/api/cases").status_code == 401
    assert Api(client, tokens["clerk"]).get("/api/cases").status_code == 200


def test_tokens_are_stored_as_sha256_only_and_note_their_use(people, tokens, as_):
    row = ApiToken.objects.get(user=people.clerk)
    assert row.token_hash == digest(tokens["clerk"]) and len(row.token_hash) == 64
    assert not ApiToken.objects.filter(token_hash=tokens["clerk"]).exists()
    assert row.last_used is None
    as_("clerk").get("/api/units")
    row.refresh_from_db()
    assert row.last_used is not None


def test_api_token_command_prints_a_working_token_once(client, people, capsys):
    call_command("api_token", "officer", "--name", "对接测试")
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("xf_") and "只显示这一次" in err
    assert ApiToken.objects.get(token_hash=digest(token)).name == "对接测试"
    assert Api(client, token).get("/api/units").status_code == 200
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有用户名为 nobody"):
        call_command("api_token", "nobody")


# ---------------------------------------------------------------- lists and filters


def test_filters_and_cursor_follow_the_queue_page(client, county, people, as_):
    from tests.factories import bj, register
    from xinfang.cases import services

    for day in range(1, 26):
        case = register(county, people.clerk, bj(2026, 10, day, 9), title=f"第{day}件欠薪")
        services.case_route(case=case, by=people.clerk, unit=county.hr)
    register(
        county,
        people.clerk,
        bj(2026, 10, 27, 9),
        title="入学问题",
        category=county.schooling,
        content="入学划片问题",
    )
    api = as_("clerk")
    first = api.get("/api/cases").json()
    assert first["scope"] == "office" and len(first["items"]) == 20 and first["next"]
    second = api.get("/api/cases", {"after": first["next"]}).json()
    assert len(second["items"]) == 6 and second["next"] is None
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    assert [r["state"] for r in api.get("/api/cases", {"state": "registered"}).json()["items"]] == [
        "registered"
    ]
    only = api.get("/api/cases", {"category": county.schooling.parent_id}).json()["items"]
    assert [r["title"] for r in only] == ["入学问题"]
    found = api.get("/api/cases", {"q": "入学"}).json()["items"]
    assert [r["title"] for r in found] == ["入学问题"]
    window = api.get("/api/cases", {"date_from": "2026-10-05", "date_to": "2026-10-06"}).json()
    assert sorted(r["title"] for r in window["items"]) == ["第5件欠薪", "第6件欠薪"]
    assert client.login(username="clerk", password=PASSWORD)
    page = client.get(reverse("cases:queue"), {"date_from": "2026-10-05", "date_to": "2026-10-06"})
    assert all(r["number"] in page.content.decode() for r in window["items"])


def test_bad_filters_are_422_in_chinese(as_):
    api = as_("clerk")
    bad = api.get("/api/cases", {"state": "nonsense"})
    assert bad.status_code == 422 and bad.json()["detail"] == "请求参数不正确"
    assert bad.json()["errors"]["state"] == ["不是允许的取值"]
    missing = api.get("/api/cases", {"place": 999999})
    assert missing.status_code == 422 and "place" in missing.json()["errors"]
    far = api.get("/api/cases", {"date_to": "9999-12-31"})
    assert far.status_code == 422 and "年份" in far.json()["errors"]["date_to"][0]
    epoch = api.get("/api/cases", {"date_to": "0"})
    assert epoch.status_code == 422 and epoch.json()["errors"]["date_to"] == [
        "日期格式应为 YYYY-MM-DD"
    ]
    assert "信访" in api.get("/api/units").content.decode("utf-8")


def test_units_and_categories(county, as_):
    units = as_("officer").get("/api/units").json()
    office = next(u for u in units if u["code"] == "XF430102")
    assert office == {
        "id": county.office.pk,
        "code": "XF430102",
        "name": "A1区信访局",
        "parent_id": county.county.pk,
        "level": "county",
        "level_label": "县级",
        "kind": "petition_office",
        "kind_label": "信访工作机构",
        "place_id": county.place.pk,
    }
    categories = as_("officer").get("/api/categories").json()
    wages = next(c for c in categories if c["code"] == "LD01")
    assert (
        wages["full_name"] == "劳动和社会保障/拖欠工资"
        and wages["parent_id"] == county.wages.parent_id
    )


def test_responses_keep_chinese_readable(matters, as_):
    raw = as_("clerk").get(f"/api/cases/{matters['appeal'].pk}").content
    assert "某公司拖欠工资三个月".encode() in raw and b"\\u" not in raw


def test_times_are_given_in_beijing_time_with_the_offset(matters, as_):
    body = as_("clerk").get(f"/api/cases/{matters['appeal'].pk}").json()
    assert body["registered_at"] == "2026-11-02T09:00:00+08:00"
    assert body["timeline"][0]["at"] == "2026-11-02T09:00:00+08:00"
    assert body["due_at"].endswith("+08:00")


def test_a_longer_list_costs_no_more_queries(county, people, as_):
    """No query per row: a page of many matters with sub-categories costs what a page of one does."""
    api = as_("clerk")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api.get("/api/cases", {"scope": "office"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    register(county, people.clerk, bj(2026, 11, 2, 9), category=county.wages)
    queries()  # the token's first use is noted once
    one = queries()
    for day in range(3, 9):
        register(county, people.clerk, bj(2026, 11, day, 9), category=county.schooling)
    assert queries() == one
