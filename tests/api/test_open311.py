"""Open311 GeoReport v2 at /open311/v2/, checked field by field against the specification.

Specification: http://wiki.open311.org/GeoReport_v2 — discovery, services, service definition,
POST/GET requests, GET request, tokens; .json and .xml; errors as a list of code/description.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.utils import timezone

from xinfang.api.models import Open311Key, Open311Request, digest
from xinfang.cases import services
from xinfang.cases.models import Case, CaseEvent, Channel, Kind, State
from xinfang.orgs.models import Place

# The field lists of the specification, in its order.
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
DEFINITION_FIELDS = ["service_code", "attributes"]
POST_FIELDS = ["service_request_id", "service_notice", "account_id"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _no_submission_limits(settings):
    """These tests post many requests for one phone; the limits have their own tests
    (test_open311_limits.py)."""
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 10_000


def _xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(response.content)  # noqa: S314 (our own response)


def _children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def _post(client, key, fmt="json", **fields):
    data = {
        "api_key": key,
        "service_code": "LD01",
        "description": "工地拖欠农民工工资两个月",
        "address_string": "东湖街道建设路18号工地",
        "first_name": "三",
        "last_name": "张",
        "phone": "13812345678",
        "email": "zhang@example.com",
    }
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", {k: v for k, v in data.items() if v is not None})


def _submit(client, key, **fields) -> Case:
    response = _post(client, key, **fields)
    assert response.status_code == 200, response.content.decode()
    return Case.objects.get(number=response.json()[0]["service_request_id"])


# ---------------------------------------------------------------- discovery and services


def test_discovery_json_and_xml(client, db):
    body = client.get(f"{BASE}/discovery.json").json()
    assert list(body) == DISCOVERY_FIELDS
    (endpoint,) = body["endpoints"]
    assert list(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    assert W3C.match(body["changeset"]) and body["contact"] == "示范县信访局"
    root = _xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and _children(root) == DISCOVERY_FIELDS
    endpoint = root.find("endpoints/endpoint")
    assert _children(endpoint) == ENDPOINT_FIELDS
    assert [f.text for f in endpoint.findall("formats/format")] == ["application/json", "text/xml"]


def test_services_are_the_leaf_categories(client, county):
    response = client.get(f"{BASE}/services.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "拖欠工资".encode() in response.content
    services_ = response.json()
    assert [s["service_code"] for s in services_] == ["JY01", "LD01"]
    wages = services_[1]
    assert list(wages) == SERVICE_FIELDS
    assert wages == {
        "service_code": "LD01",
        "service_name": "拖欠工资",
        "description": "劳动和社会保障：拖欠工资",
        "metadata": False,
        "type": "realtime",
        "keywords": "拖欠工资,劳动和社会保障",
        "group": "劳动和社会保障",
    }
    root = _xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and _children(root) == ["service", "service"]
    service = root[1]
    assert _children(service) == SERVICE_FIELDS
    assert service.findtext("metadata") == "false" and service.findtext("group") == "劳动和社会保障"


def test_service_definition_and_unknown_code(client, county):
    assert client.get(f"{BASE}/services/LD01.json").json() == {
        "service_code": "LD01",
        "attributes": [],
    }
    root = _xml(client.get(f"{BASE}/services/LD01.xml"))
    assert root.tag == "service_definition" and _children(root) == DEFINITION_FIELDS
    missing = client.get(f"{BASE}/services/NOPE.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "服务代码 NOPE 不存在"}]
    root = _xml(client.get(f"{BASE}/services/NOPE.xml"))
    assert root.tag == "errors" and _children(root) == ["error"]
    assert _children(root[0]) == ["code", "description"] and root.findtext("error/code") == "404"


# ---------------------------------------------------------------- POST requests


def test_a_post_registers_an_online_matter(client, county, o311_key):
    response = _post(client, o311_key)
    assert response.status_code == 200
    (answer,) = response.json()
    assert list(answer) == POST_FIELDS and answer["account_id"] is None
    case = Case.objects.get(number=answer["service_request_id"])
    assert answer["service_notice"].startswith(f"已登记，事项编号 {case.number}。转送交办期限：")
    assert case.channel == Channel.ONLINE and case.kind == Kind.HOTLINE_COMPLAINT
    assert case.office == county.office and case.category == county.wages
    assert case.place == county.town_place  # 东湖街道 in the address
    assert case.petitioner_name == "张三" and case.petitioner_phone == "13812345678"
    assert case.state == State.REGISTERED and case.created_by is None
    assert "问题地点：东湖街道建设路18号工地" in case.content
    made = Open311Request.objects.get(case=case)
    assert made.key.name == "城市服务App" and made.service_code == "LD01"
    assert CaseEvent.objects.get(case=case).details["channel"] == "online"


def test_a_post_in_xml_and_with_coordinates(client, county, o311_key, settings):
    settings.XINFANG_OPEN311_OFFICE = "XF430102"
    response = _post(
        client,
        o311_key,
        fmt="xml",
        address_string="",
        lat="28.1941",
        long="112.9823",
        media_url="https://example.com/p.jpg",
        email="",
        phone="0731-84561234",
    )
    root = _xml(response)
    assert root.tag == "service_requests" and _children(root) == ["request"]
    assert _children(root[0]) == POST_FIELDS and root.findtext("request/account_id") == ""
    case = Case.objects.get(number=root.findtext("request/service_request_id"))
    assert case.place == county.place and case.petitioner_phone == "073184561234"
    made = case.open311
    assert str(made.lat) == "28.194100" and str(made.long) == "112.982300"
    assert made.media_url == "https://example.com/p.jpg"


def test_a_post_can_answer_with_a_token(client, county, o311_key, settings):
    settings.XINFANG_OPEN311_RESPOND_WITH_TOKEN = True
    (answer,) = _post(client, o311_key).json()
    assert list(answer) == ["token", "service_notice", "account_id"]
    found = client.get(f"{BASE}/tokens/{answer['token']}.json").json()
    number = Open311Request.objects.get(token=answer["token"]).case.number
    assert found == [{"service_request_id": number, "token": answer["token"]}]
    root = _xml(client.get(f"{BASE}/tokens/{answer['token']}.xml"))
    assert root.tag == "service_requests" and _children(root[0]) == ["service_request_id", "token"]
    assert client.get(f"{BASE}/tokens/t_nothing.json").status_code == 404


def test_email_stands_in_for_a_phone(client, county, o311_key):
    case = _submit(client, o311_key, phone="")
    assert case.petitioner_phone == "" and case.petitioner_address == "电子邮箱：zhang@example.com"


@pytest.mark.parametrize(
    ("fields", "status", "description"),
    [
        ({"api_key": "wrong"}, 403, "api_key 无效或已吊销，不能提交诉求"),
        ({"api_key": ""}, 403, "api_key 无效或已吊销，不能提交诉求"),
        ({"service_code": ""}, 400, "缺少 service_code（服务代码）"),
        ({"service_code": "NOPE"}, 404, "服务代码 NOPE 不存在"),
        ({"description": "  "}, 400, "缺少 description（诉求内容）"),
        ({"address_string": "", "lat": "28.1"}, 400, "须提供位置：lat 与 long，或 address_string"),
        ({"lat": "north", "long": "112.9"}, 400, "lat 不是有效的坐标（应为 -90 至 90 之间的数字）"),
        ({"lat": "28.1", "long": "512"}, 400, "long 不是有效的坐标（应为 -180 至 180 之间的数字）"),
        ({"phone": "12345"}, 400, "联系电话不是有效的中国大陆电话号码"),
        ({"phone": "", "email": ""}, 400, "请提供联系电话（phone）或电子邮箱（email），以便答复"),
        (
            {"first_name": "", "last_name": ""},
            400,
            "该服务不接受匿名提交，请填写姓名（first_name、last_name）和联系电话或电子邮箱",
        ),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url 不是有效的网址"),
    ],
)
def test_post_errors_follow_the_specification(
    client, county, o311_key, fields, status, description
):
    fields = dict(fields)
    key = fields.pop("api_key", o311_key)
    for fmt in ("json", "xml"):
        response = _post(client, key, fmt=fmt, **fields)
        assert response.status_code == status
        if fmt == "json":
            assert response.json() == [{"code": status, "description": description}]
        else:
            root = _xml(response)
            assert root.tag == "errors" and root.findtext("error/code") == str(status)
            assert root.findtext("error/description") == description
    assert not Case.objects.exists() and not Open311Request.objects.exists()


def test_a_revoked_key_is_refused_and_keys_are_stored_hashed(client, county, capsys):
    call_command("open311_key", "区政务App")
    key = capsys.readouterr().out.strip()
    row = Open311Key.objects.get(name="区政务App")
    assert row.key_hash == digest(key) and key not in row.key_hash
    assert _post(client, key).status_code == 200
    Open311Key.objects.update(revoked=True)
    assert _post(client, key).status_code == 403


def test_kinds_by_category_allow_anonymous_suggestions(client, county, o311_key, settings):
    settings.XINFANG_OPEN311_KINDS = {"JY": "hotline_suggestion"}
    case = _submit(
        client,
        o311_key,
        service_code="JY01",
        first_name="",
        last_name="",
        phone="",
        email="",
        description="建议增加学位",
    )
    assert case.kind == Kind.HOTLINE_SUGGESTION and case.anonymous is True


# ---------------------------------------------------------------- GET requests


def test_get_request_field_by_field_without_personal_data(client, county, people, o311_key):
    case = _submit(client, o311_key, description="工地欠薪，联系我13812345678")
    response = client.get(f"{BASE}/requests/{case.number}.json")
    (row,) = response.json()
    assert list(row) == REQUEST_FIELDS
    assert row["service_request_id"] == case.number and row["status"] == "open"
    assert row["status_notes"] == "已登记，等待转交责任单位办理"
    assert row["service_name"] == "拖欠工资" and row["service_code"] == "LD01"
    # The matter's place, never the typed address; no coordinates of a house, no photo link.
    assert row["agency_responsible"] == "A1区信访局" and row["address"] == "A1区东湖街道"
    assert row["description"] == "工地欠薪，联系我[已隐去]"
    assert row["media_url"] == ""
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(row[name]) and row[name].endswith("+08:00"), name
    assert dt.datetime.fromisoformat(row["expected_datetime"]) == case.due_at
    assert row["service_notice"].startswith("转送交办期限：")
    assert (
        row["lat"] is None
        and row["long"] is None
        and row["address_id"] == ""
        and row["zipcode"] == ""
    )
    for fmt in ("json", "xml"):
        text = client.get(f"{BASE}/requests/{case.number}.{fmt}").content.decode()
        text += client.get(f"{BASE}/requests.{fmt}").content.decode()
        for personal in (
            "张三",
            "13812345678",
            "zhang@example.com",
            "first_name",
            "phone",
            "email",
        ):
            assert personal not in text, (fmt, personal)
    root = _xml(client.get(f"{BASE}/requests/{case.number}.xml"))
    assert root.tag == "service_requests" and _children(root) == ["request"]
    assert _children(root[0]) == REQUEST_FIELDS
    assert root.findtext("request/lat") == "" and root.findtext("request/status") == "open"


PERSONAL_DESCRIPTION = (
    "我是张三，住东湖街道建设路18号工地，电话138.1234.5678，手机１３９１２３４５６７８，"
    "身份证 4301 0219 9001 0112 3X，邮箱 zhang＠example．com，座机(0731) 8456 1234，工地欠薪三个月"
)
PERSONAL = [
    "张三",
    "138.1234.5678",
    "13812345678",
    "１３９１２３４５６７８",
    "13912345678",
    "4301 0219 9001 0112 3X",
    "430102199001011",
    "zhang＠example．com",
    "zhang",
    "example",
    "建设路",
    "18号",
    "8456",
    "img.example.org",
    "zhang.jpg",
    "https://",
    "28.1941",
    "112.9823",
]


def test_a_public_get_publishes_no_personal_data(client, county, o311_key):
    case = _submit(
        client,
        o311_key,
        description=PERSONAL_DESCRIPTION,
        lat="28.1941",
        long="112.9823",
        media_url="https://img.example.org/u/zhang.jpg",
    )
    assert "138.1234.5678" in case.content and case.open311.media_url  # staff keep what was sent
    paths = [
        f"requests/{case.number}.json",
        f"requests/{case.number}.xml",
        "requests.json",
        "requests.xml",
        f"requests.json?service_request_id={case.number}",
    ]
    for path in paths:
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200, path
        text = response.content.decode()
        assert case.number in text and "工地欠薪三个月" in text, path
        for personal in PERSONAL:
            assert personal not in text, (path, personal)
    (row,) = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert row["address"] == "A1区东湖街道" and row["media_url"] == ""
    assert row["lat"] is None and row["long"] is None
    assert row["description"].count("[已隐去]") == 7, row["description"]


def test_the_address_is_the_place_of_the_matter(client, county, o311_key):
    elsewhere = _submit(client, o311_key, address_string="幸福小区5栋301", description="楼道堆物")
    row = client.get(f"{BASE}/requests/{elsewhere.number}.json").json()[0]
    assert row["address"] == "A市A1区" and "幸福小区" not in str(row)
    # a community (社区) is published as its street
    Place.objects.create(code="430102001002", name="建设路社区", parent=county.town_place)
    community = _submit(
        client, o311_key, address_string="东湖街道建设路社区3栋", description="楼道堆物"
    )
    assert community.place.name == "建设路社区"
    row = client.get(f"{BASE}/requests/{community.number}.json").json()[0]
    assert row["address"] == "A1区东湖街道" and "建设路社区" not in str(row)


def test_unknown_request_is_404_and_other_channels_are_not_listed(client, county, people, o311_key):
    from tests.factories import bj, register

    visit = register(county, people.clerk, bj(2026, 11, 20, 9))
    for number in ("XF430102-2099-000001", visit.number):
        response = client.get(f"{BASE}/requests/{number}.json")
        assert response.status_code == 404
        assert response.json() == [{"code": 404, "description": f"诉求 {number} 不存在"}]
    assert client.get(f"{BASE}/requests.json").json() == []
    assert client.get(f"{BASE}/requests.json", {"service_request_id": visit.number}).json() == []


def test_status_and_notes_follow_the_matter(client, county, people, o311_key):
    case = _submit(client, o311_key)

    def row():
        return client.get(f"{BASE}/requests/{case.number}.json").json()[0]

    assert case.accused_pending  # a 投诉 from Open311 waits for the clerk (not a public step)
    case = services.case_record_accused(case=case, by=people.clerk, units=[], no_unit=True)
    assert row()["status_notes"] == "已登记，等待转交责任单位办理"
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    assert (row()["status"], row()["status_notes"]) == (
        "open",
        "已转交A1区人力资源和社会保障局办理",
    )
    assert row()["agency_responsible"] == "A1区人力资源和社会保障局"
    services.case_urge(case=case, by=people.supervisor, note="内部催办，不公开")
    assert (
        row()["status_notes"] == "已转交A1区人力资源和社会保障局办理"
    )  # internal steps stay inside
    case = services.case_accept(case=case, by=people.officer)
    assert row()["status_notes"] == "A1区人力资源和社会保障局已受理，正在办理"
    case = services.case_extend(case=case, by=people.head, days=10, reason="需调查")
    assert row()["status_notes"] == "办理期限延长10天"
    case = services.case_reply(case=case, by=people.officer, outcome="supported", text="已责令支付")
    replied = row()
    assert replied["status"] == "closed" and replied["status_notes"] == "已答复（处理结果：支持）"
    assert replied["expected_datetime"] is None and replied["service_notice"] == ""
    assert dt.datetime.fromisoformat(replied["updated_datetime"]) == case.replied_at.replace(
        microsecond=0
    )
    case = services.case_request_review(case=case, by=people.clerk, reason="不服")
    assert (row()["status"], row()["status_notes"]) == ("open", "已申请复查（A1区人民政府）")
    case = services.case_decide_review(
        case=case, by=people.reviewer, outcome="explained", text="维持"
    )
    assert (row()["status"], row()["status_notes"]) == ("closed", "复查决定：解释")
    other = _submit(client, o311_key)
    services.case_decline(case=other, by=people.clerk, reason="x", proper_channel="向人民法院起诉")
    declined = client.get(f"{BASE}/requests/{other.number}.json").json()[0]
    assert (declined["status"], declined["status_notes"]) == (
        "closed",
        "不予受理，请通过向人民法院起诉反映",
    )
    closed = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert {r["service_request_id"] for r in closed} == {case.number, other.number}
    assert client.get(f"{BASE}/requests.json", {"status": "open"}).json() == []


def test_get_requests_filters(client, county, people, o311_key):
    wages = _submit(client, o311_key)
    school = _submit(client, o311_key, service_code="JY01", description="学校门口积水")
    ids = f"{wages.number},{school.number}"
    listed = client.get(f"{BASE}/requests.json", {"service_request_id": ids}).json()
    assert [r["service_request_id"] for r in listed] == [
        school.number,
        wages.number,
    ]  # newest first
    only = client.get(f"{BASE}/requests.json", {"service_code": "JY01"}).json()
    assert [r["service_request_id"] for r in only] == [school.number]
    # A list of ids overrides the other parameters, as the specification says.
    both = client.get(
        f"{BASE}/requests.json",
        {
            "service_request_id": ids,
            "service_code": "JY01",
            "start_date": "2020-01-01T00:00:00+08:00",
        },
    ).json()
    assert len(both) == 2
    root = _xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and _children(root) == ["request", "request"]


def test_date_window_defaults_to_90_days_and_may_not_be_wider(client, county, o311_key):
    old = _submit(client, o311_key)
    Case.objects.filter(pk=old.pk).update(registered_at=timezone.now() - dt.timedelta(days=100))
    Open311Request.objects.filter(case=old).update(
        requested_at=timezone.now() - dt.timedelta(days=100)
    )
    recent = _submit(client, o311_key)
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()] == [
        recent.number
    ]
    start = (timezone.localtime() - dt.timedelta(days=120)).replace(microsecond=0)
    window = {
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=30)).isoformat(),
    }
    assert [
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json", window).json()
    ] == [old.number]
    naive = {
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%S")
    }  # no offset: Beijing time, 90 days on
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json", naive).json()] == [
        old.number
    ]
    wide = {
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=91)).isoformat(),
    }
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}", wide)
        assert response.status_code == 400
    assert client.get(f"{BASE}/requests.json", wide).json() == [
        {"code": 400, "description": "start_date 与 end_date 的间隔不能超过90天"}
    ]
    assert (
        client.get(f"{BASE}/requests.json", {"start_date": "yesterday"})
        .json()[0]["description"]
        .startswith("start_date 不是有效的 ISO 8601 时间")
    )
    backwards = {"start_date": "2026-11-10T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"}
    assert client.get(f"{BASE}/requests.json", backwards).status_code == 400
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).json() == [
        {"code": 400, "description": "status 只能是 open 或 closed"}
    ]


def test_the_record_cap(client, county, o311_key, settings):
    made = [_submit(client, o311_key, description=f"第{i}件") for i in range(5)]
    settings.XINFANG_OPEN311_MAX_RECORDS = 3
    listed = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [c.number for c in reversed(made)][:3]
    assert len(_xml(client.get(f"{BASE}/requests.xml"))) == 3


def test_get_never_writes_and_wrong_paths_answer_in_the_spec_format(client, county, o311_key):
    case = _submit(client, o311_key)
    before = (
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.count(),
        Open311Request.objects.count(),
    )
    for path in ("discovery.json", "services.xml", f"requests/{case.number}.xml", "requests.json"):
        assert client.get(f"{BASE}/{path}").status_code == 200
    assert (
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.count(),
        Open311Request.objects.count(),
    ) == before
    unknown = client.get(f"{BASE}/requests.csv")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    assert _xml(client.get(f"{BASE}/nothing.xml")).tag == "errors"
    refused = client.post(f"{BASE}/services.json")
    assert refused.status_code == 405 and refused.json()[0]["code"] == 405
    assert refused["Allow"] == "GET, HEAD"
