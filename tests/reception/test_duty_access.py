"""A rota day opens the petition office's reception work for that day only (issue 9, finding 10),
and a booking about a report never shows its booker to the accused (reception slots use the same
predicate as every other page)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, VALID_PHONE, bj, register
from tests.reception.helpers import d, frozen, make_leaders
from xinfang.cases.models import Kind
from xinfang.reception import selectors, services
from xinfang.reception.models import BookingPhoneView

DUTY = "2026-10-14"  # a Wednesday


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def duty_day(county, people):
    """The labour bureau's head receives at the petition office on one day: a record, a slot, a booking."""
    leaders = make_leaders(county)
    with frozen(2026, 10, 13, 9):
        services.rota_day_set(
            office=county.office, by=leaders.office_clerk, date=d(DUTY), leader=people.head
        )
        slot = services.slot_create(
            office=county.office,
            by=leaders.office_clerk,
            date=d(DUTY),
            start=dt.time(9),
            end=dt.time(11),
            capacity=3,
            leader=people.head,
        )
        services.slot_book(
            slot_id=slot.pk, name="王五", phone=VALID_PHONE, description="反映小区噪音扰民"
        )
    with frozen(2026, 10, 14, 10):
        record = services.record_create(
            office=county.office,
            by=leaders.office_clerk,
            held_at=bj(2026, 10, 14, 9, 30),
            leader=people.head,
            summary="反映小区噪音扰民",
        )
    return record, slot, leaders.office_clerk


def _pages(client, record, slot) -> dict[str, int]:
    return {
        "record": client.get(f"/reception/records/{record.pk}/").status_code,
        "slot": client.get(f"/reception/slots/{slot.pk}/").status_code,
        "listed": f"/reception/records/{record.pk}/"
        in client.get("/reception/records/").content.decode(),
    }


def test_the_leader_on_duty_sees_the_day_s_work(county, people, duty_day, client):
    record, slot, _clerk = duty_day
    client.login(username="head", password=PASSWORD)
    with frozen(2026, 10, 14, 15):
        assert _pages(client, record, slot) == {"record": 200, "slot": 200, "listed": True}
        assert county.office in selectors.offices_for_user(people.head)


def test_after_the_rota_day_the_leader_loses_the_office_s_bookings_and_records(
    county, people, duty_day, client
):
    record, slot, _clerk = duty_day
    client.login(username="head", password=PASSWORD)
    with frozen(2026, 10, 15, 9):
        assert _pages(client, record, slot) == {"record": 404, "slot": 404, "listed": False}
        assert county.office not in selectors.offices_for_user(people.head)
        assert not selectors.can_view_office(people.head, county.office)
        assert client.get("/reception/slots/").status_code == 404
    # Nor before it: being on the rota some day is not being on duty today.
    with frozen(2026, 10, 13, 15):
        assert _pages(client, record, slot) == {"record": 404, "slot": 404, "listed": False}


def test_an_absent_leader_is_not_on_duty_but_the_substitute_is(county, people, duty_day, client):
    record, slot, office_clerk = duty_day
    with frozen(2026, 10, 14, 8):
        services.rota_day_set(
            office=county.office,
            by=office_clerk,
            date=d(DUTY),
            leader=people.head,
            leader_absent=True,
            substitute=people.supervisor,
        )
    client.login(username="head", password=PASSWORD)
    with frozen(2026, 10, 14, 15):
        assert _pages(client, record, slot) == {"record": 404, "slot": 404, "listed": False}


def test_the_leader_keeps_the_rota_calendar_and_own_instructions(county, people, duty_day, client):
    record, _slot, office_clerk = duty_day
    with frozen(2026, 10, 14, 11):
        services.instruction_add(
            record=record, by=office_clerk, text="请人社局核实", owner_user=people.head, days=5
        )
    client.login(username="head", password=PASSWORD)
    with frozen(2026, 10, 20, 9):
        assert client.get(f"/reception/{county.office.code}/rota.ics").status_code == 200
        assert "请人社局核实" in client.get("/reception/instructions/").content.decode()


# ---------------------------------------------------------------- bookings about a report


@pytest.fixture
def report_booking(county, people):
    """A citizen books a slot about a report against the petition office itself."""
    leaders = make_leaders(county)
    report = register(
        county,
        people.clerk,
        bj(2026, 10, 9, 9),
        kind=Kind.ACCUSATION,
        accused_unit=county.office,
        title="反映信访局工作人员推诿",
    )
    with frozen(2026, 10, 13, 9):
        slot = services.slot_create(
            office=county.office,
            by=leaders.office_clerk,
            date=d(DUTY),
            start=dt.time(9),
            end=dt.time(11),
            capacity=3,
            leader=leaders.director,
        )
        booking = services.slot_book(
            slot_id=slot.pk,
            name="张三",
            phone=VALID_PHONE,
            description="反映信访局工作人员推诿",
            case_number=report.number,
        )
    return slot, booking


def test_the_accused_office_never_sees_who_booked_about_its_report(
    county, people, report_booking, client
):
    slot, booking = report_booking
    client.login(username="clerk", password=PASSWORD)
    with frozen(2026, 10, 13, 10):
        html = client.get(f"/reception/slots/{slot.pk}/").content.decode()
        assert booking.reference in html and "（保密）" in html
        assert "张三" not in html and "138****5678" not in html and VALID_PHONE not in html
        response = client.post(
            f"/reception/slots/{slot.pk}/", {"booking": booking.pk, "reveal": "1"}
        )
        assert response.status_code in (200, 403)
        assert VALID_PHONE not in response.content.decode()
    assert not BookingPhoneView.objects.exists()


def test_who_may_see_the_complainant_sees_the_booker(county, people, report_booking, client):
    slot, _booking = report_booking
    client.login(username="supervisor", password=PASSWORD)
    with frozen(2026, 10, 13, 10):
        html = client.get(f"/reception/slots/{slot.pk}/").content.decode()
    assert "张三" in html and "138****5678" in html
