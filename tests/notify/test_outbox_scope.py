"""The outbox page is scoped to the viewer (issue 9, finding 6): messages about matters the viewer
may see, staff messages of units in the viewer's scope, and never the contact of a petitioner the
viewer may not see."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, bj, make_user, petitioner, register
from xinfang.cases import services as cases
from xinfang.cases.models import Kind
from xinfang.notify import services
from xinfang.notify.backends import MemorySms
from xinfang.notify.models import Outbox
from xinfang.orgs.models import Place, Role, Unit

NOW = bj(2026, 9, 16, 10)
REPORT_PHONE = "13900001111"


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MemorySms.reset()
    yield
    MemorySms.reset()


@pytest.fixture
def other_supervisor(county):
    place = Place.objects.create(code="430103", name="A2区", parent=county.place.parent)
    a2 = Unit.objects.create(
        name="A2区人民政府",
        code="G430103",
        parent=county.city,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.GOVERNMENT,
        place=place,
    )
    return make_user("a2_supervisor", a2, Role.SUPERVISOR, display_name="A2区督查")


@pytest.fixture
def outbox(county, people):
    """An ordinary matter, a report against the county government, and a staff digest."""
    ordinary = register(county, people.clerk, NOW)
    cases.case_route(case=ordinary, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    report = register(
        county,
        people.clerk,
        NOW,
        kind=Kind.ACCUSATION,
        accused_unit=county.county,
        title="举报区政府某领导",
        petitioner=petitioner(name="李四", phone=REPORT_PHONE),
    )
    digest = services.outbox_queue(
        channel="email",
        recipient="officer@hr.example",
        kind="digest",
        body="A1区人社局每日汇总",
        unit=county.hr,
    )
    assert Outbox.objects.filter(case=report).exists()
    return ordinary, report, digest


def page(client, username) -> str:
    client.login(username=username, password=PASSWORD)
    response = client.get("/notify/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_supervisor_of_another_county_sees_none_of_these_messages(
    client, outbox, other_supervisor
):
    ordinary, report, _digest = outbox
    html = page(client, "a2_supervisor")
    assert ordinary.number not in html and report.number not in html
    assert "o***@hr.example" not in html and "138****5678" not in html
    assert "暂无消息" in html


def test_the_accused_supervisor_sees_the_message_but_not_who_gets_it(client, outbox):
    ordinary, report, _digest = outbox
    html = page(client, "supervisor")  # the county government's supervisor: the report accuses it
    assert ordinary.number in html and "138****5678" in html
    assert report.number in html and "信访人（保密）" in html
    assert "139****1111" not in html and REPORT_PHONE not in html
    assert "o***@hr.example" in html  # the labour bureau is in the county's scope


def test_masked_rows_carry_no_body_or_error_that_names_the_petitioner(people, outbox):
    from xinfang.notify import selectors

    _ordinary, report, _digest = outbox
    Outbox.objects.filter(case=report).update(last_error=f"网关拒绝：{REPORT_PHONE}")
    rows = [
        r
        for r in selectors.outbox_rows(people.supervisor, selectors.outbox_list(people.supervisor))
        if r["row"].case_id == report.pk
    ]
    assert rows and all(r["hidden"] for r in rows)
    assert all(REPORT_PHONE not in f"{r['to']} {r['body']} {r['error']}" for r in rows)


def test_admins_see_everything(client, outbox, other_supervisor):
    ordinary, report, _digest = outbox
    html = page(client, "admin")
    assert ordinary.number in html and report.number in html and "139****1111" in html


def test_a_staff_message_goes_only_to_its_unit_s_scope(client, county, people, outbox):
    head = make_user("office_head", county.office, Role.SUPERVISOR, display_name="信访局督查")
    html = page(client, head.username)
    assert "o***@hr.example" not in html  # the labour bureau's digest is not the office's


def test_digests_and_reminders_name_their_unit(county, people, settings):
    settings.XINFANG_DIGEST_HOUR = 8
    for user, email in (
        (people.officer, "officer@hr.example"),
        (people.clerk, "clerk@office.example"),
    ):
        user.email = email
        user.save(update_fields=["email"])
    overdue = register(county, people.clerk, bj(2026, 9, 1, 9))
    cases.case_route(case=overdue, by=people.clerk, unit=county.hr, at=bj(2026, 9, 2, 9))
    services.queue_reminders(now=bj(2026, 9, 30, 9))
    services.queue_digests(now=bj(2026, 9, 21, 8))
    staff = Outbox.objects.filter(channel="email")
    assert (
        staff.filter(kind="digest").exists() and staff.filter(kind__startswith="reminder.").exists()
    )
    by_recipient = {(r.kind.split(".")[0], r.recipient): r.unit_id for r in staff}
    assert by_recipient[("digest", "officer@hr.example")] == county.hr.pk
    assert by_recipient[("reminder", "officer@hr.example")] == county.hr.pk
    assert all(r.unit_id is None for r in Outbox.objects.filter(channel="sms"))


def test_masking_report_rows_costs_no_query_per_row(county, people, outbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.notify import selectors

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.outbox_rows(
                people.supervisor, list(selectors.outbox_list(people.supervisor))
            )
        assert any(r["hidden"] for r in rows)
        return len(ctx.captured_queries)

    people.supervisor.unit  # noqa: B018 (loaded with the session user in a real request)
    queries()  # the scope's subtree is cached after the first read
    before = queries()
    for n in range(3):
        register(
            county,
            people.clerk,
            NOW,
            kind=Kind.ACCUSATION,
            accused_unit=county.county,
            title=f"举报{n}",
            petitioner=petitioner(name="王五", phone="13900002222"),
        )
    assert queries() == before
