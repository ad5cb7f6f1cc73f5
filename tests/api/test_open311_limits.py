"""Open311 `POST requests` keeps the portal's submission limits (issue 12 leftovers).

Before: an api_key holder could post any number of requests naming one phone (a matter and a
receipt each time: an SMS bomb at the office's cost) from one address. Now one rule
(`xinfang.portal.limits`) counts every road from outside, the counters shared, and answers
with 429, a Chinese description and Retry-After.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import VALID_ID, VALID_PHONE
from xinfang.cases.models import Case, Kind

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.XINFANG_PORTAL_OFFICE = ""
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = 10
    settings.XINFANG_PORTAL_SUBMIT_WINDOW = 3600
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 3
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW = 86400
    settings.XINFANG_PROXY_COUNT = 0
    settings.XINFANG_SMS_BACKEND = "memory"
    cache.clear()
    yield
    cache.clear()


def _post(client, key, ip, fmt="json", **fields):
    data = {
        "api_key": key,
        "service_code": "LD01",
        "description": "工地拖欠农民工工资两个月",
        "address_string": "东湖街道建设路18号工地",
        "first_name": "三",
        "last_name": "张",
        "phone": VALID_PHONE,
        "email": "",
    }
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data, REMOTE_ADDR=ip)


def test_one_phone_gets_three_requests_a_day_then_429_in_chinese(client, county, o311_key):
    answers = [_post(client, o311_key, ip=f"10.1.0.{i}") for i in range(6)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429, 429]
    (error,) = answers[-1].json()
    assert error["code"] == 429
    assert "该手机号码提交次数已达上限（24小时内最多3次）" in error["description"]
    assert 0 < int(answers[-1]["Retry-After"]) <= 86400
    assert Case.objects.count() == 3


def test_the_refusal_in_xml_too(client, county, o311_key):
    for i in range(3):
        assert _post(client, o311_key, ip=f"10.1.1.{i}").status_code == 200
    refused = _post(client, o311_key, ip="10.1.1.9", fmt="xml")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "<code>429</code>" in refused.content.decode()


def test_one_address_is_limited_across_phones(client, county, o311_key):
    answers = [_post(client, o311_key, ip="10.1.2.1", phone=f"1391234{i:04d}") for i in range(12)]
    assert [r.status_code for r in answers].count(200) == 10
    assert answers[-1].status_code == 429
    assert "提交次数过多（每1小时最多10次）" in answers[-1].json()[0]["description"]
    assert 0 < int(answers[-1]["Retry-After"]) <= 3600
    assert _post(client, o311_key, ip="10.1.2.2", phone="13912349999").status_code == 200


def test_the_counters_are_shared_with_the_portal(client, county, o311_key, tmp_path, settings):
    """Three portal submissions for a phone leave none for it on Open311, and the reverse."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    form = {
        "kind": Kind.APPEAL,
        "title": "小区门口道路破损",
        "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
        "place": county.town_place.pk,
        "name": "李四",
        "phone": VALID_PHONE,
        "address": "东湖街道2号",
        "id_number": VALID_ID,
        "consent": "on",
    }
    for i in range(2):
        answer = client.post("/portal/submit/", form, REMOTE_ADDR=f"10.1.3.{i}")
        assert answer.status_code == 302
    assert _post(client, o311_key, ip="10.1.3.8").status_code == 200
    refused = client.post("/portal/submit/", form, REMOTE_ADDR="10.1.3.9")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert "该手机号码提交次数已达上限" in refused.content.decode()


def test_a_malformed_request_does_not_use_up_the_limit(client, county, o311_key):
    for _ in range(5):
        assert _post(client, o311_key, ip="10.1.4.1", description="").status_code == 400
    assert _post(client, o311_key, ip="10.1.4.1").status_code == 200
