"""Who may open which reception page: staff only, scoped to the offices they work for."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import PASSWORD, bj, register
from tests.reception.helpers import frozen, make_leaders
from xinfang.reception import services

OFFICE_PAGES = ["/reception/", "/reception/slots/"]
LIST_PAGES = [
    "/reception/records/",
    "/reception/instructions/",
    "/reception/instructions/overdue/",
    "/reception/group-visits/",
    "/reception/warnings",
]


@pytest.fixture
def world(county, people):
    leaders = make_leaders(county)
    register(county, people.clerk, bj(2026, 10, 8, 9), group_size=7, title="七户反映拆迁补偿")
    with frozen(2026, 10, 8, 10):
        record = services.record_create(
            office=county.office,
            by=people.clerk,
            held_at=bj(2026, 10, 8, 10),
            leader=leaders.director,
            summary="反映供暖问题",
        )
    return record


@pytest.mark.parametrize(
    ("who", "office_status", "sees_office_work"),
    [
        ("clerk", 200, True),
        ("supervisor", 200, True),  # the county's supervisor oversees its petition office
        ("admin", 200, True),
        ("officer", 404, False),
        ("head", 404, False),
        ("outsider", 404, False),
    ],
)
def test_persona_page_access(county, people, world, client, who, office_status, sees_office_work):
    client.login(username=who, password=PASSWORD)
    for url in OFFICE_PAGES:
        assert client.get(url).status_code == office_status, url
    for url in LIST_PAGES:
        assert client.get(url).status_code == 200, url
    records = client.get("/reception/records/").content.decode()
    group = client.get("/reception/group-visits/").content.decode()
    assert (f"/reception/records/{world.pk}/" in records) is sees_office_work
    assert ("XF430102-2026-000001" in group) is sees_office_work
    warnings = json.loads(client.get("/reception/warnings").content)
    assert (warnings["count"] > 0) is sees_office_work


def test_anonymous_visitors_reach_only_the_booking_pages(county, world):
    client = Client()
    for url in [
        *OFFICE_PAGES,
        *LIST_PAGES,
        f"/reception/records/{world.pk}/",
        f"/reception/{county.office.code}/rota.ics",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert client.get("/reception/book/").status_code == 200
    assert client.get("/reception/book/cancel/").status_code == 200
