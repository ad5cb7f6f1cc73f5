"""Reminders are never lost: one without an address waits for one, and every reminder and due
matter is listed in the app (the bell in the header and 我的提醒)."""

from __future__ import annotations

import pytest
import time_machine

from tests.factories import bj, register
from xinfang.cases import services as cases
from xinfang.cases.models import Outcome
from xinfang.notify import services
from xinfang.notify.models import Outbox, Reminder, ReminderRead

NOW = bj(2026, 9, 16, 10)
DUE_SOON = bj(2026, 11, 15, 9)
OVERDUE = bj(2026, 11, 20, 9)


@pytest.fixture(autouse=True)
def _memory_backends(settings):
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def accepted(county, people):
    case = register(county, people.clerk, NOW)
    case = cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    return cases.case_accept(case=case, by=people.officer, at=bj(2026, 9, 18, 9))


def staff_mail():
    return [(r.recipient, r.kind) for r in Outbox.objects.filter(channel="email").order_by("id")]


def test_a_reminder_without_an_address_waits_and_goes_out_once_there_is_one(
    county, people, accepted
):
    for user in (people.officer, people.head):
        assert not user.email
    assert services.queue_reminders(now=DUE_SOON) == 0
    assert staff_mail() == []
    reminder = Reminder.objects.get()
    assert reminder.unit_id == county.hr.pk and reminder.emailed_at is None
    # nothing changes while the unit still has no address
    assert services.queue_reminders(now=bj(2026, 11, 15, 10)) == 0
    # an address is added: the waiting reminder goes out on the next pass, once
    people.officer.email = "officer@hr.example"
    people.officer.save(update_fields=["email"])
    assert services.queue_reminders(now=bj(2026, 11, 15, 11)) == 1
    assert staff_mail() == [("officer@hr.example", "reminder.due_soon")]
    assert services.queue_reminders(now=bj(2026, 11, 15, 12)) == 0
    reminder.refresh_from_db()
    assert reminder.emailed_at is not None


def test_a_waiting_due_soon_reminder_is_not_sent_after_the_deadline(county, people, accepted):
    services.queue_reminders(now=DUE_SOON)
    people.officer.email = "officer@hr.example"
    people.officer.save(update_fields=["email"])
    services.queue_reminders(now=OVERDUE)
    assert staff_mail() == [("officer@hr.example", "reminder.overdue")]


def test_a_waiting_reminder_of_a_clock_that_moved_on_is_not_sent(county, people, accepted):
    services.queue_reminders(now=DUE_SOON)
    cases.case_reply(
        case=accepted,
        by=people.officer,
        outcome=Outcome.EXPLAINED,
        text="已解释。",
        at=bj(2026, 11, 15, 9, 30),
    )
    people.officer.email = "officer@hr.example"
    people.officer.save(update_fields=["email"])
    assert services.queue_reminders(now=bj(2026, 11, 15, 10)) == 0
    assert staff_mail() == []


def test_the_bell_counts_unread_reminders_and_the_page_lists_them(client, county, people, accepted):
    with time_machine.travel(DUE_SOON, tick=False):
        services.queue_reminders(now=DUE_SOON)
        client.force_login(people.officer)
        page = client.get("/notify/mine/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'class="bell"' in html and 'data-count="1"' in html
        assert accepted.number in html and "即将到期" in html
        assert "张三" not in html  # a reminder names the matter, never the petitioner
        # the page lists the due-soon matters of the officer's queue too
        assert html.count(accepted.number) >= 2
        reminder = Reminder.objects.get()
        response = client.post("/notify/mine/read/", {"reminder": reminder.pk})
        assert response.status_code == 302
        assert ReminderRead.objects.filter(reminder=reminder, user=people.officer).exists()
        html = client.get("/notify/mine/").content.decode()
        assert 'data-count="0"' in html
        # the head of the same unit has not read it yet
        client.force_login(people.head)
        assert 'data-count="1"' in client.get("/notify/mine/").content.decode()
        client.post("/notify/mine/read/", {"all": "1"})
        assert 'data-count="0"' in client.get("/notify/mine/").content.decode()


def test_another_units_reminders_cannot_be_marked_or_seen(client, county, people, accepted):
    with time_machine.travel(DUE_SOON, tick=False):
        services.queue_reminders(now=DUE_SOON)
        reminder = Reminder.objects.get()
        client.force_login(people.outsider)
        html = client.get("/notify/mine/").content.decode()
        assert accepted.number not in html and 'data-count="0"' in html
        client.post("/notify/mine/read/", {"reminder": reminder.pk})
        client.post("/notify/mine/read/", {"reminder": "abc"})
        # a digit that is not 0-9 ("²".isdigit() is True) is ignored, not a 500
        assert client.post("/notify/mine/read/", {"reminder": "²"}).status_code == 302
        assert not ReminderRead.objects.exists()


def test_the_bell_costs_at_most_two_queries(
    client, county, people, accepted, django_assert_max_num_queries
):
    from django.template import Context, Template
    from django.test import RequestFactory

    with time_machine.travel(DUE_SOON, tick=False):
        services.queue_reminders(now=DUE_SOON)
        request = RequestFactory().get("/")
        request.user = people.officer
        people.officer.unit  # noqa: B018 (loaded with the session user in a real request)
        template = Template("{% load notify_bell %}{% notify_bell %}")
        with django_assert_max_num_queries(2):
            html = template.render(Context({"request": request, "user": people.officer}))
        assert 'data-count="1"' in html and "/notify/mine/" in html
