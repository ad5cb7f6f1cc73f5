"""Appointments (约访): a public booking page, capacity kept under concurrency, phones masked and audited."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection
from django.test import Client

from tests.factories import PASSWORD, VALID_PHONE
from tests.reception.helpers import d, frozen, make_leaders
from xinfang.reception import services
from xinfang.reception.models import Booking, BookingPhoneView


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def leaders(county):
    return make_leaders(county)


def open_slot(county, by, leader, capacity=2, date="2026-10-10"):
    with frozen(2026, 10, 8, 9):
        return services.slot_create(
            office=county.office,
            by=by,
            date=d(date),
            start=dt.time(9),
            end=dt.time(11),
            capacity=capacity,
            leader=leader,
            place="接待大厅",
        )


def book(slot, phone=VALID_PHONE, **kw):
    data = {"name": "王五", "phone": phone, "description": "反映小区噪音扰民"}
    data.update(kw)
    with frozen(2026, 10, 8, 10):
        return services.slot_book(slot_id=slot.pk, **data)


def test_slots_are_offered_on_working_days_only(county, people, leaders):
    with frozen(2026, 10, 8, 9), pytest.raises(ValidationError):
        services.slot_create(
            office=county.office,
            by=people.clerk,
            date=d("2026-10-05"),
            start=dt.time(9),
            end=dt.time(11),
            capacity=3,
            leader=leaders.director,
        )
    with frozen(2026, 10, 8, 9), pytest.raises(PermissionDenied):
        services.slot_create(
            office=county.office,
            by=people.officer,
            date=d("2026-10-10"),
            start=dt.time(9),
            end=dt.time(11),
            capacity=3,
            leader=leaders.director,
        )
    slot = open_slot(county, people.clerk, leaders.director)
    assert slot.date == d("2026-10-10") and slot.places_left == 2  # a swapped working Saturday


def test_capacity_is_kept_and_cancelling_frees_a_place(county, people, leaders):
    slot = open_slot(county, people.clerk, leaders.director, capacity=2)
    first = book(slot)
    book(slot, phone="13900001111")
    with pytest.raises(ValidationError) as err:
        book(slot, phone="13900002222")
    assert "已约满" in str(err.value)
    services.booking_cancel(booking=first, by=people.clerk)
    services.booking_cancel(booking=first, by=people.clerk)  # twice frees one place only
    slot.refresh_from_db()
    assert slot.booked == 1
    assert book(slot, phone="13900002222").reference.startswith("YF")
    with pytest.raises(ValidationError):
        book(slot, phone="13900003333")


def test_a_booking_checks_the_phone_and_the_description(county, people, leaders):
    slot = open_slot(county, people.clerk, leaders.director)
    with pytest.raises(ValidationError) as err:
        book(slot, phone="12345", description="")
    assert set(err.value.message_dict) == {"phone", "description"}
    slot.refresh_from_db()
    assert slot.booked == 0


@pytest.mark.django_db(transaction=True)
def test_two_people_booking_the_last_place_at_once_one_succeeds(county, people, leaders):
    slot = open_slot(county, people.clerk, leaders.director, capacity=1)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(phone: str) -> None:
        barrier.wait()
        try:
            for _ in range(200):
                try:
                    services.slot_book(
                        slot_id=slot.pk, name="王五", phone=phone, description="同一时刻预约"
                    )
                    results.append("ok")
                    return
                except ValidationError:
                    results.append("full")
                    return
                except OperationalError as exc:
                    # The test database is SQLite in memory with a shared cache, which answers a
                    # second writer "table is locked" at once instead of waiting out the busy
                    # timeout the real (file, WAL) database has. Waiting here is that timeout.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        finally:
            connection.close()

    with frozen(2026, 10, 8, 10):
        threads = [
            threading.Thread(target=attempt, args=(p,)) for p in ("13900001111", "13900002222")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == ["full", "ok"]
    slot.refresh_from_db()
    assert slot.booked == 1 and Booking.objects.count() == 1


def test_public_booking_page_books_without_login_and_get_changes_nothing(county, people, leaders):
    slot = open_slot(county, people.clerk, leaders.director)
    client = Client(enforce_csrf_checks=True)
    with frozen(2026, 10, 8, 10):
        page = client.get("/reception/book/")
        assert page.status_code == 200 and "预约领导接访" in page.content.decode()
        assert 'name="viewport"' in page.content.decode()
        assert Booking.objects.count() == 0
        # Without the CSRF token the booking is refused.
        data = {
            "slot": slot.pk,
            "name": "王五",
            "phone": VALID_PHONE,
            "description": "噪音扰民",
            "case_number": "",
        }
        assert client.post("/reception/book/", data).status_code == 403
        data["csrfmiddlewaretoken"] = page.cookies["csrftoken"].value
        response = client.post("/reception/book/", data)
        assert response.status_code == 302
        booking = Booking.objects.get()
        done = client.get(response["Location"]).content.decode()
    assert booking.reference in done and VALID_PHONE not in done and "王五" not in done
    slot.refresh_from_db()
    assert slot.booked == 1


def test_bookings_are_rate_limited_per_address(county, people, leaders, settings):
    settings.XINFANG_BOOKING_RATE_LIMIT = 2
    slot = open_slot(county, people.clerk, leaders.director, capacity=10)
    client = Client()
    with frozen(2026, 10, 8, 10):
        codes = [
            client.post(
                "/reception/book/",
                {
                    "slot": slot.pk,
                    "name": "王五",
                    "phone": f"1390000{i:04d}",
                    "description": "噪音",
                },
            ).status_code
            for i in range(3)
        ]
        other = Client(REMOTE_ADDR="10.0.0.9").post(
            "/reception/book/",
            {"slot": slot.pk, "name": "赵六", "phone": "13900009999", "description": "x"},
        )
    assert codes == [302, 302, 429]
    assert other.status_code == 302
    assert Booking.objects.count() == 3


def test_a_rate_limited_empty_cancel_says_so_and_never_fails(county, people, leaders, settings):
    """An empty form from an address past its limit: 429 with the reason, not a 500."""
    settings.XINFANG_BOOKING_RATE_LIMIT = 1
    client = Client()
    for url in ("/reception/book/cancel/", "/reception/book/"):
        cache.clear()
        first = client.post(url, {})
        again = client.post(url, {})
        assert first.status_code == 200
        assert again.status_code == 429 and "提交过于频繁" in again.content.decode()


def test_citizen_cancels_with_reference_and_phone(county, people, leaders):
    slot = open_slot(county, people.clerk, leaders.director)
    booking = book(slot)
    client = Client()
    wrong = client.post(
        "/reception/book/cancel/", {"reference": booking.reference, "phone": "13900001111"}
    )
    assert "不符" in wrong.content.decode()
    ok = client.post(
        "/reception/book/cancel/", {"reference": booking.reference.lower(), "phone": VALID_PHONE}
    )
    assert "已取消" in ok.content.decode()
    slot.refresh_from_db()
    booking.refresh_from_db()
    assert slot.booked == 0 and booking.status == Booking.Status.CANCELLED


def test_staff_see_masked_phones_and_full_views_are_logged(county, people, leaders, client):
    slot = open_slot(county, people.clerk, leaders.director)
    booking = book(slot, case_number="XF430102-2026-000001")
    client.login(username="clerk", password=PASSWORD)
    html = client.get(f"/reception/slots/{slot.pk}/").content.decode()
    assert "138****5678" in html and VALID_PHONE not in html
    assert BookingPhoneView.objects.count() == 0
    html = client.post(
        f"/reception/slots/{slot.pk}/", {"booking": booking.pk, "reveal": "1"}
    ).content.decode()
    assert VALID_PHONE in html
    view = BookingPhoneView.objects.get()
    assert view.user == people.clerk and view.booking == booking
    # The county supervisor sees the slot but not the full number.
    client.login(username="supervisor", password=PASSWORD)
    assert client.get(f"/reception/slots/{slot.pk}/").status_code == 200
    with pytest.raises(PermissionDenied):
        services.booking_phone_reveal(booking=booking, by=people.supervisor)
    client.login(username="outsider", password=PASSWORD)
    assert client.get(f"/reception/slots/{slot.pk}/").status_code == 404


def test_staff_cancel_from_the_slot_page(county, people, leaders, client):
    slot = open_slot(county, people.clerk, leaders.director)
    booking = book(slot)
    client.login(username="clerk", password=PASSWORD)
    assert (
        client.post(
            f"/reception/slots/{slot.pk}/", {"booking": booking.pk, "cancel": "1"}
        ).status_code
        == 302
    )
    slot.refresh_from_db()
    assert slot.booked == 0
