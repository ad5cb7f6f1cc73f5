"""A registration time is bounded: not before 2000-01-01 (Beijing), not in the future beyond
the clock skew. One rule (`lib.bounds.registration_time_error`), on every road: the staff page,
the JSON API, the register itself (and with it the ledger import's row check).

Before: the staff registration page accepted 1900-01-01 (and so did the import and the API
from 1970).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import VALID_PHONE, bj, petitioner, register
from xinfang.api.services import api_token_issue
from xinfang.cases import bulk
from xinfang.cases.models import Case, Channel, Kind
from xinfang.lib import bounds

NOW = bj(2026, 9, 16, 10)
TOO_EARLY = "登记时间不能早于2000年1月1日"


@pytest.fixture(autouse=True)
def _frozen(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    with time_machine.travel(NOW, tick=False):
        yield


def _page(client, people, county, when: str):
    client.force_login(people.clerk)
    return client.post(
        reverse("cases:register"),
        {
            "channel": Channel.VISIT,
            "kind": Kind.APPEAL,
            "title": "拖欠工资",
            "content": "公司拖欠工资三个月",
            "place": county.town_place.pk,
            "petitioner_name": "王五",
            "petitioner_phone": VALID_PHONE,
            "registered_at": when,
            "group_size": 1,
        },
    )


@pytest.mark.parametrize("when", ["1900-01-01T09:00", "1999-12-31T23:59"])
def test_the_staff_page_refuses_a_date_before_2000(client, people, county, when):
    response = _page(client, people, county, when)
    assert response.status_code == 200
    assert TOO_EARLY in response.content.decode()
    assert not Case.objects.exists()


def test_the_staff_page_takes_the_first_day_of_2000(client, people, county):
    assert _page(client, people, county, "2000-01-01T00:00").status_code == 302
    assert Case.objects.get().registered_at == bj(2000, 1, 1, 0)


def test_the_staff_page_refuses_tomorrow(client, people, county):
    response = _page(client, people, county, "2026-09-17T10:00")
    assert response.status_code == 200
    assert "登记时间不能晚于当前时间" in response.content.decode()
    assert not Case.objects.exists()


def test_the_register_refuses_it_whatever_the_road(county):
    with pytest.raises(ValidationError) as exc:
        register(county, None, bj(1999, 6, 1, 9))
    assert exc.value.message_dict["registered_at"] == [TOO_EARLY]


def test_the_import_row_check_refuses_it(county):
    row = bulk.Row(
        channel=Channel.VISIT,
        kind=Kind.APPEAL,
        title="拖欠工资",
        content="公司拖欠工资",
        place_id=county.place.pk,
        registered_at=bj(1900, 3, 1, 9),
        petitioner=petitioner(),
    )
    assert bulk.validate(row, now=NOW)["registered_at"] == [TOO_EARLY]


def test_the_api_refuses_it_with_422(client, people, county):
    token = api_token_issue(user=people.clerk, name="t")
    body = {
        "channel": "visit",
        "kind": "appeal",
        "title": "拖欠工资",
        "content": "公司拖欠工资",
        "place": county.place.pk,
        "petitioner_name": "张三",
        "petitioner_phone": VALID_PHONE,
        "registered_at": "1999-12-31T12:00:00+08:00",
    }
    answer = client.post(
        "/api/cases",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 422
    assert answer.json()["errors"]["registered_at"] == ["登记时间年份应在2000至2999之间"]


def test_the_rule_itself():
    now = NOW
    assert bounds.registration_time_error(bj(2000, 1, 1, 0), now) is None
    assert bounds.registration_time_error(now + dt.timedelta(minutes=4), now) is None
    assert bounds.registration_time_error(bj(1999, 12, 31, 23, 59), now) == TOO_EARLY
    late = bounds.registration_time_error(now + dt.timedelta(minutes=6), now)
    assert late == "登记时间不能晚于当前时间"
