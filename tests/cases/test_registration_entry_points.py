"""Every way in registers through one `Registration` value: what a path was given is the matter.

The staff page, the JSON API, the portal, Open311, reception and screening each build the value
once and hand it to `case_register`; these stories check, through what each path leaves behind,
that no field is lost or changed on the way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import VALID_ID, VALID_PHONE, bj, make_user, petitioner, registration
from xinfang.api.services import api_token_issue, open311_key_issue
from xinfang.backlog import screening
from xinfang.cases import services
from xinfang.cases.models import Case, CaseEvent, Channel, Kind
from xinfang.orgs.models import Role
from xinfang.reception import services as reception

NOW = bj(2026, 9, 16, 10)
AT = bj(2026, 9, 15, 9, 30)  # the page and the API register a visit of yesterday


@pytest.fixture(autouse=True)
def _frozen(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_PORTAL_OFFICE = ""
    with time_machine.travel(NOW, tick=False):
        yield


def _matter(case: Case) -> dict:
    """What a registration decides about a matter (not its number, id or writing times)."""
    case = Case.objects.get(pk=case.pk)
    return {
        "office": case.office,
        "channel": case.channel,
        "kind": case.kind,
        "title": case.title,
        "content": case.content,
        "place": case.place,
        "category": case.category,
        "anonymous": case.anonymous,
        "petitioner": (
            case.petitioner_name,
            case.petitioner_id_number,
            case.petitioner_phone,
            case.petitioner_address,
        ),
        "group_size": case.group_size,
        "urgency": case.urgency,
        "representatives": list(case.representatives.values_list("name", "id_number", "phone")),
        "accused": (
            case.accused_unit,
            sorted(u.code for u in case.other_accused_units.all()),
            case.accused_person,
            case.accused_pending,
        ),
        "attachments": list(case.attachments.values_list("name", flat=True)),
        "registered_at": case.registered_at,
        "created_by": case.created_by,
        "events": list(CaseEvent.objects.filter(case=case).values_list("kind", "actor")),
    }


def _report(county, people) -> dict:
    """A 检举控告 of two units by a group of three: the fields only a staff path can give."""
    return {
        "office": county.office,
        "channel": Channel.PHONE,
        "kind": Kind.ACCUSATION,
        "title": "举报住建局某科长",
        "content": "住建局某科长在拆迁中收受好处，请查处。",
        "place": county.town_place,
        "category": county.wages,
        "anonymous": False,
        "petitioner": ("王五", VALID_ID, VALID_PHONE, "东湖街道3号"),
        "group_size": 3,
        "urgency": "",
        "representatives": [("代表甲", VALID_ID, "13700001111"), ("代表乙", "", "")],
        "accused": (county.housing, [county.edu.code], "某科长", False),
        "registered_at": AT,
        "created_by": people.clerk,
        "events": [("case.registered", people.clerk.pk)],
    }


def test_the_staff_page_registers_what_the_clerk_typed(client, county, people):
    client.force_login(people.clerk)
    response = client.post(
        reverse("cases:register"),
        {
            "channel": Channel.PHONE,
            "kind": Kind.ACCUSATION,
            "title": "举报住建局某科长",
            "content": "住建局某科长在拆迁中收受好处，请查处。",
            "place": county.town_place.pk,
            "category": county.wages.pk,
            "petitioner_name": "王五",
            "petitioner_id_number": VALID_ID,
            "petitioner_phone": VALID_PHONE,
            "petitioner_address": "东湖街道3号",
            "registered_at": "2026-09-15T09:30",
            "group_size": 3,
            "representatives": f"代表甲 {VALID_ID} 13700001111\n代表乙",
            "accused_unit": county.housing.pk,
            "other_accused_units": [county.edu.pk],
            "accused_person": "某科长",
            "attachments": SimpleUploadedFile("证据.pdf", b"%PDF-1.4", "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    expected = _report(county, people) | {"attachments": ["证据.pdf"]}
    assert _matter(Case.objects.get()) == expected


def test_the_api_registers_what_the_body_says(client, county, people):
    token = api_token_issue(user=people.clerk, name="test")
    body = {
        "channel": Channel.PHONE,
        "kind": Kind.ACCUSATION,
        "title": "举报住建局某科长",
        "content": "住建局某科长在拆迁中收受好处，请查处。",
        "place": county.town_place.pk,
        "category": county.wages.pk,
        "petitioner_name": "王五",
        "petitioner_id_number": VALID_ID,
        "petitioner_phone": VALID_PHONE,
        "petitioner_address": "东湖街道3号",
        "registered_at": AT.isoformat(),
        "group_size": 3,
        "representatives": [
            {"name": "代表甲", "id_number": VALID_ID, "phone": "13700001111"},
            {"name": "代表乙"},
        ],
        "accused_unit": county.housing.pk,
        "other_accused_units": [county.edu.pk],
        "accused_person": "某科长",
    }
    response = client.post(
        "/api/cases",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content.decode()
    expected = _report(county, people) | {"attachments": []}
    assert _matter(Case.objects.get()) == expected


def test_the_portal_registers_what_the_citizen_submitted(client, county):
    response = client.post(
        "/portal/submit/",
        {
            "kind": Kind.APPEAL,
            "title": "小区门口道路破损",
            "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
            "place": county.town_place.pk,
            "name": "李四",
            "phone": VALID_PHONE,
            "address": "东湖街道2号",
            "id_number": VALID_ID,
            "consent": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    matter = _matter(Case.objects.get())
    assert matter == matter | {
        "office": county.office,
        "channel": Channel.ONLINE,
        "kind": Kind.APPEAL,
        "title": "小区门口道路破损",
        "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
        "place": county.town_place,
        "category": None,
        "anonymous": False,
        "petitioner": ("李四", VALID_ID, VALID_PHONE, "东湖街道2号"),
        "group_size": 1,
        "representatives": [],
        "registered_at": NOW,
        "created_by": None,
        "events": [("case.registered", None)],
    }


def test_open311_registers_what_the_request_said(client, county, settings):
    settings.XINFANG_OPEN311_KINDS = {"LD": Kind.APPEAL}
    key = open311_key_issue(name="城市服务App")
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "LD01",
            "description": "工地拖欠农民工工资两个月",
            "address_string": "东湖街道建设路18号工地",
            "first_name": "三",
            "last_name": "张",
            "phone": VALID_PHONE,
        },
    )
    assert response.status_code == 200, response.content.decode()
    matter = _matter(Case.objects.get())
    assert matter["content"].startswith("工地拖欠农民工工资两个月")
    assert matter == matter | {
        "office": county.office,
        "channel": Channel.ONLINE,
        "kind": Kind.APPEAL,
        "title": "拖欠工资：工地拖欠农民工工资两个月",
        "category": county.wages,
        "anonymous": False,
        "petitioner": ("张三", "", VALID_PHONE, ""),
        "registered_at": NOW,
        "created_by": None,
        "events": [("case.registered", None)],
    }


def test_reception_registers_what_the_leader_heard(county, people):
    director = make_user("director", county.office, Role.HEAD, display_name="张局长")
    record = reception.record_create(
        office=county.office, by=people.clerk, held_at=bj(2026, 9, 16, 9), leader=director
    )
    case = reception.record_register_case(
        record=record,
        by=people.clerk,
        kind=Kind.APPEAL,
        title="集体反映拆迁补偿",
        content="八户村民反映拆迁补偿标准不一致。",
        place=county.town_place,
        category=county.wages,
        petitioner=petitioner(name="赵六"),
        group_size=8,
        representatives=[{"name": "代表丙", "phone": "13700002222"}],
    )
    matter = _matter(case)
    assert matter == matter | {
        "office": county.office,
        "channel": Channel.VISIT,
        "kind": Kind.APPEAL,
        "title": "集体反映拆迁补偿",
        "content": "八户村民反映拆迁补偿标准不一致。",
        "place": county.town_place,
        "category": county.wages,
        "petitioner": ("赵六", VALID_ID, VALID_PHONE, "A1区东湖街道1号"),
        "group_size": 8,
        "representatives": [("代表丙", "", "13700002222")],
        "registered_at": NOW,
        "created_by": people.clerk,
    }


def test_screening_registers_the_issue_it_found(county, people):
    round_ = screening.round_create(
        by=people.clerk,
        name="秋季矛盾纠纷排查",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30),
    )
    entry = screening.entry_create(
        round_=round_,
        by=people.clerk,
        data=screening.EntryData(issue="加装电梯意见分歧", place=county.town_place),
    )
    case = screening.entry_to_case(entry=entry, by=people.clerk, channel=Channel.ONLINE)
    matter = _matter(case)
    assert matter == matter | {
        "office": county.office,
        "channel": Channel.ONLINE,
        "kind": Kind.SUGGESTION,
        "title": "排查问题：加装电梯意见分歧",
        "place": county.town_place,
        "anonymous": True,
        "petitioner": ("", "", "", ""),
        "registered_at": NOW,
        "created_by": people.clerk,
    }


# ---------------------------------------------------------------- the value itself


def test_the_value_is_data_the_register_does_not_change(county, people):
    """case_register cleans a copy: the caller's value, and the Petitioner it holds, stay."""
    given = petitioner(phone="138-1234-5678", id_number=VALID_ID.lower())
    reg = registration(county, petitioner=given)
    case = services.case_register(reg, by=people.clerk).case
    assert given.phone == "138-1234-5678" and reg.petitioner is given
    assert case.petitioner_phone == VALID_PHONE
    with pytest.raises(dataclasses.FrozenInstanceError):
        reg.title = "另一件事"  # type: ignore[misc]
    # the same value registers the same matter again
    again = services.case_register(reg, by=people.clerk).case
    assert _matter(again) | {"events": []} == _matter(case) | {"events": []}
