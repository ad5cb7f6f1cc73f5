"""The portal under abuse (issue 12): SMS bombing, look-up lock-outs, the query code in cookies.

- Submissions are limited per client address and per contact (phone or e-mail), and every SMS
  leaves only within a budget per phone number per Beijing day: past it the outbox row is
  skipped, with the reason, and never sent.
- Query-code look-ups are limited per client address. A number many addresses have tried is
  braked (each address gets one try at it per window), never locked: its owner always gets in.
- The query code is shown on the receipt page, from the server-side session; it never travels
  in a cookie (Django's cookie message storage would put it there).
"""

from __future__ import annotations

import re
import zlib

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, bj, register
from xinfang.cases import services as case_services
from xinfang.cases.models import Case, Kind
from xinfang.notify import services as notify
from xinfang.notify.backends import MemorySms
from xinfang.notify.models import Outbox

NOW = bj(2026, 9, 16, 10)


@pytest.fixture(autouse=True)
def _portal(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.XINFANG_PORTAL_OFFICE = ""
    settings.XINFANG_PORTAL_RATE_LIMIT = 10
    settings.XINFANG_PORTAL_RATE_WINDOW = 900
    settings.XINFANG_PORTAL_LOOKUP_BRAKE = 30
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = 10
    settings.XINFANG_PORTAL_SUBMIT_WINDOW = 3600
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 3
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW = 86400
    settings.XINFANG_SMS_DAILY_LIMIT = 5
    settings.XINFANG_PROXY_COUNT = 0
    cache.clear()
    MemorySms.reset()
    yield
    cache.clear()
    MemorySms.reset()


def travel(moment):
    return time_machine.travel(moment, tick=False)


def form_data(county, **kw):
    data = {
        "kind": Kind.APPEAL,
        "title": "小区门口道路破损",
        "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
        "place": county.town_place.pk,
        "name": "李四",
        "phone": VALID_PHONE,
        "email": "",
        "address": "东湖街道2号",
        "id_number": VALID_ID,
        "consent": "on",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def submit(client, county, ip="10.0.0.1", **kw):
    return client.post("/portal/submit/", form_data(county, **kw), REMOTE_ADDR=ip)


def follow(client, number, code, ip):
    return client.post("/portal/track/", {"number": number, "code": code}, REMOTE_ADDR=ip)


def sms_rows():
    return Outbox.objects.filter(channel=Outbox.Channel.SMS, recipient=VALID_PHONE)


# ---------------------------------------------------------------- submissions and the SMS budget


def test_twelve_submissions_to_one_phone_stop_at_the_limit_in_chinese(client, county):
    """The issue's scenario: before, 12 submissions made 12 matters and 12 SMS."""
    with travel(NOW):
        answers = [submit(client, county, ip=f"10.0.1.{i}") for i in range(12)]
    assert [r.status_code for r in answers[:3]] == [302, 302, 302]
    assert all(r.status_code == 429 for r in answers[3:])
    html = answers[-1].content.decode()
    assert "该手机号码提交次数已达上限（24小时内最多3次）" in html and "12345热线" in html
    assert Case.objects.count() == 3
    assert sms_rows().count() <= 5


def test_one_address_submitting_for_many_phones_is_limited(client, county):
    with travel(NOW):
        answers = [
            submit(client, county, ip="10.0.2.1", phone=f"1391234{i:04d}") for i in range(12)
        ]
    assert [r.status_code for r in answers].count(302) == 10
    assert answers[-1].status_code == 429
    assert "提交次数过多" in answers[-1].content.decode()
    # Another address is served.
    with travel(NOW):
        assert submit(client, county, ip="10.0.2.2", phone="13912349999").status_code == 302


def test_invalid_forms_do_not_use_up_the_limit(client, county):
    with travel(NOW):
        for _ in range(12):
            assert submit(client, county, ip="10.0.3.1", title="").status_code == 200
        assert submit(client, county, ip="10.0.3.1").status_code == 302


def test_the_sms_budget_per_phone_per_day_skips_the_rest_with_a_reason(client, county, settings):
    """Whatever path queues them (here the portal with its limits raised), at most the budget
    of SMS leave for one phone in a Beijing day; the first, the submission receipt, always."""
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 100
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = 100
    with travel(NOW):
        for i in range(12):
            assert submit(client, county, ip=f"10.0.4.{i}").status_code == 302
        assert sms_rows().count() == 12
        notify.deliver_due()
        notify.deliver_due()
    assert len(MemorySms.sent) == 5
    first = sms_rows().order_by("id").first()
    assert first.status == Outbox.Status.SENT and first.kind == "submission"
    skipped = list(sms_rows().filter(status=Outbox.Status.SKIPPED))
    assert len(skipped) == 7
    assert all("超出每个号码每日短信限额（5 条）" in r.last_error for r in skipped)
    # A skipped receipt does not keep the query code.
    assert all(r.body == notify.REDACTED for r in skipped if r.sensitive)
    # The next Beijing day the number has its budget again.
    with travel(bj(2026, 9, 17, 9)):
        case = Case.objects.order_by("id").first()
        notify.queue_to_citizen(case=case, body="您的信访事项已受理。", kind="case.accepted")
        notify.deliver_due()
    assert len(MemorySms.sent) == 6


def test_the_budget_holds_for_messages_from_the_workflow_too(county, people, settings):
    settings.XINFANG_SMS_DAILY_LIMIT = 2
    with travel(NOW):
        for _ in range(4):
            register(county, people.clerk, NOW)  # each tells the petitioner "已登记" by SMS
        assert sms_rows().count() == 4
        notify.deliver_due()
    assert sms_rows().filter(status=Outbox.Status.SENT).count() == 2
    assert sms_rows().filter(status=Outbox.Status.SKIPPED).count() == 2


def test_the_first_receipt_of_the_day_goes_even_when_the_budget_is_spent(
    client, county, people, settings
):
    settings.XINFANG_SMS_DAILY_LIMIT = 2
    with travel(NOW):
        for _ in range(3):
            register(county, people.clerk, NOW)  # three step messages: two sent, one skipped
        assert submit(client, county, ip="10.0.5.1").status_code == 302
        assert submit(client, county, ip="10.0.5.2").status_code == 302
        notify.deliver_due()
    receipts = list(sms_rows().filter(kind="submission").order_by("id"))
    assert [r.status for r in receipts] == [Outbox.Status.SENT, Outbox.Status.SKIPPED]


def test_a_batch_of_messages_keeps_the_budget(county, people, settings):
    """The import's multi-row insert applies the same budget, counting what is already queued."""
    settings.XINFANG_SMS_DAILY_LIMIT = 3
    with travel(NOW):
        case = register(county, people.clerk, NOW)  # one SMS already today
        written = notify.outbox_insert(
            [("sms", VALID_PHONE, "", f"第{i}条", "case.registered", case.pk) for i in range(5)]
            + [("sms", "13912340000", "", "另一号码", "case.registered", case.pk)]
        )
    assert written == 6
    assert sms_rows().exclude(status=Outbox.Status.SKIPPED).count() == 3
    assert sms_rows().filter(status=Outbox.Status.SKIPPED).count() == 3
    assert Outbox.objects.get(recipient="13912340000").status == Outbox.Status.PENDING


# ---------------------------------------------------------------- query-code look-ups


def issued(county, people):
    case = register(county, people.clerk, NOW)
    return case, case_services.case_issue_query_code(case=case)


def test_an_attacker_cannot_lock_the_owner_out_of_a_lookup(client, county, people):
    """The issue's scenario: the limit was per number, so anyone could spend it."""
    case, code = issued(county, people)
    # One address hammering the number is held back after its own limit...
    answers = [follow(client, case.number, "WRONGCODE1", ip="10.5.0.1") for _ in range(15)]
    assert answers[9].status_code == 200 and answers[10].status_code == 429
    # ...and many addresses trying it past the brake still do not lock it.
    for i in range(40):
        follow(client, case.number, "WRONGCODE1", ip=f"10.5.1.{i}")
    owner = follow(client, case.number, code, ip="10.5.9.9")
    assert owner.status_code == 302 and owner["Location"] == "/portal/case/"


def test_lookups_are_limited_per_client_address(client, county, people):
    case, code = issued(county, people)
    for i in range(10):
        assert follow(client, f"XF-{i}", "WRONG", ip="10.6.0.1").status_code == 200
    blocked = follow(client, case.number, code, ip="10.6.0.1")
    assert blocked.status_code == 429 and "尝试次数过多，请稍后再试" in blocked.content.decode()
    assert "portal_case" not in client.session
    assert follow(client, case.number, code, ip="10.6.0.2").status_code == 302


def test_a_braked_number_gives_each_address_one_try_per_window(client, county, people):
    case, code = issued(county, people)
    for i in range(30):  # the brake: 30 failures on one number within the window
        follow(client, case.number, "WRONGCODE1", ip=f"10.7.0.{i}")
    # An address that already tried this number waits for the window...
    assert follow(client, case.number, code, ip="10.7.0.1").status_code == 429
    # ...an address that has not gets its try; a wrong try uses it up.
    assert follow(client, case.number, "WRONGCODE1", ip="10.7.1.1").status_code == 200
    assert follow(client, case.number, code, ip="10.7.1.1").status_code == 429
    assert follow(client, case.number, code, ip="10.7.1.2").status_code == 302
    # Other numbers are not braked.
    other, other_code = issued(county, people)
    assert follow(client, other.number, "WRONGCODE1", ip="10.7.0.1").status_code == 200
    assert follow(client, other.number, other_code, ip="10.7.0.1").status_code == 302


# ---------------------------------------------------------------- the query code out of cookies


def readable(value: str) -> str:
    """A cookie value as anyone holding it can read it: a signed Django value is only encoded
    (base64, maybe zlib), not encrypted, so decode every part that decodes."""
    found = [value]
    for part in re.split(r"[:$]", value):
        compressed = part.startswith(".")
        try:
            raw = signing.b64_decode(part.lstrip(".").encode())
            found.append((zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace"))
        except (ValueError, zlib.error):  # not an encoded part
            continue
    return " ".join(found)


def cookie_text(client, response) -> str:
    values = [m.value for m in response.cookies.values()] + [
        m.value for m in client.cookies.values()
    ]
    return " ".join(readable(v) for v in values)


def test_no_cookie_carries_the_query_code_after_a_portal_submission(client, county):
    with travel(NOW):
        posted = submit(client, county, ip="10.8.0.1")
        page = client.get("/portal/submit/done/")
    html = page.content.decode()
    code = re.search(r'id="query-code">([^<]+)<', html).group(1)
    number = re.search(r'id="case-number">([^<]+)<', html).group(1)
    for response in (posted, page):
        text = cookie_text(client, response)
        assert code not in text and number not in text
        assert set(response.cookies) <= {"sessionid", "csrftoken"}


def test_no_cookie_carries_the_code_after_a_staff_registration(client, county, people):
    assert client.login(username="clerk", password=PASSWORD)
    response = client.post(
        reverse("cases:register"),
        {
            "channel": "visit",
            "kind": "appeal",
            "title": "小区物业乱收费",
            "content": "物业公司多收停车费。",
            "place": county.place.pk,
            "category": county.wages.pk,
            "petitioner_name": "李四",
            "petitioner_id_number": VALID_ID,
            "petitioner_phone": VALID_PHONE,
            "group_size": 1,
        },
    )
    assert response.status_code == 302
    shown = client.get(response.url)
    code = shown.content.decode().split("查询码 ", 1)[1][:10]
    assert code not in cookie_text(client, response) and code not in cookie_text(client, shown)
    assert "messages" not in response.cookies


def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(client, county, settings):
    settings.XINFANG_PROXY_COUNT = 1
    with travel(NOW):
        for i in range(10):
            client.post(
                "/portal/submit/",
                form_data(county, phone=f"1391234{i:04d}"),
                REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="198.51.100.7",
            )
        other = client.post(
            "/portal/submit/",
            form_data(county, phone="13912340099"),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.8",
        )
        same = client.post(
            "/portal/submit/",
            form_data(county, phone="13912340098"),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    assert other.status_code == 302 and same.status_code == 429
