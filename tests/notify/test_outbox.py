"""Notifications: the outbox written with its event, the backends, delivery, retries, reminders."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from tests.factories import PASSWORD, VALID_PHONE, bj, petitioner, register
from xinfang.cases import services as cases
from xinfang.cases.models import Kind, Outcome
from xinfang.notify import backends, services
from xinfang.notify.backends import DeliveryError, FileSms, HttpSms, MemorySms
from xinfang.notify.models import Digest, Outbox, Reminder

NOW = bj(2026, 9, 16, 10)


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.XINFANG_NOTIFY_BACKOFF_SECONDS = 60
    settings.XINFANG_NOTIFY_MAX_ATTEMPTS = 3
    MemorySms.reset()
    yield
    MemorySms.reset()


def travel(moment):
    return time_machine.travel(moment, tick=False)


# ---------------------------------------------------------------- written with the event


def test_each_public_step_queues_a_plain_chinese_message(county, people):
    case = register(county, people.clerk, NOW)
    case = cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
    case = cases.case_accept(case=case, by=people.officer, at=bj(2026, 10, 9, 9))
    bodies = list(Outbox.objects.order_by("id").values_list("kind", "channel", "recipient", "body"))
    assert [b[:3] for b in bodies] == [
        ("case.registered", "sms", VALID_PHONE),
        ("case.routed", "sms", VALID_PHONE),
        ("case.accepted", "sms", VALID_PHONE),
    ]
    assert bodies[0][3].startswith(f"您的信访事项{case.number}已登记，将于2026年10月8日前转送")
    assert bodies[1][3].startswith(
        f"您的信访事项{case.number}已转送A1区人力资源和社会保障局，受理期限至2026年10月15日"
    )
    # 60 days from 9 Oct end on 8 Dec.
    assert bodies[2][3].startswith(
        f"您的信访事项{case.number}已由A1区人力资源和社会保障局受理，办理期限至2026年12月8日。"
    )
    assert all("查询进度请访问" in b[3] and "张三" not in b[3] for b in bodies)


def test_the_message_rolls_back_with_its_event(county, people):
    case = register(county, people.clerk, NOW)
    before = Outbox.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
        assert Outbox.objects.count() == before + 1
        raise RuntimeError("the request failed after the transition")
    assert Outbox.objects.count() == before
    assert not case.events.filter(kind="case.routed").exists()


def test_private_steps_and_unreachable_petitioners_get_no_message(county, people):
    case = register(county, people.clerk, NOW)
    case = cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    n = Outbox.objects.count()
    cases.case_urge(case=case, by=people.supervisor, note="请加快", at=bj(2026, 9, 18, 9))
    assert Outbox.objects.count() == n
    register(
        county,
        people.clerk,
        NOW,
        kind=Kind.ACCUSATION,
        petitioner=petitioner(name="", id_number="", phone="", address="", anonymous=True),
    )
    register(
        county, people.clerk, NOW, petitioner=petitioner(phone="01062345678")
    )  # a landline: no SMS
    assert Outbox.objects.count() == n


def test_the_query_code_is_never_in_a_step_message(county, people):
    case = register(county, people.clerk, NOW)
    code = cases.case_issue_query_code(case=case)
    case = cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    case = cases.case_accept(case=case, by=people.officer, at=bj(2026, 9, 18, 9))
    cases.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.EXPLAINED,
        text="已解释",
        at=bj(2026, 9, 20, 9),
    )
    bodies = list(Outbox.objects.order_by("id").values_list("body", flat=True))
    assert len(bodies) == 4 and not any(code in b for b in bodies)
    assert "已答复，处理结果：解释。如不服，可于2026年10月20日前向上一级机关申请复查" in bodies[-1]


# ---------------------------------------------------------------- backends


def test_console_backend_prints(capsys, settings):
    settings.XINFANG_SMS_BACKEND = "console"
    backends.get_sender("sms").send(recipient=VALID_PHONE, subject="", body="测试短信")
    assert f"[短信] 发送至 {VALID_PHONE}：测试短信" in capsys.readouterr().out


def test_memory_and_file_backends(tmp_path, settings):
    backends.get_sender("sms").send(recipient=VALID_PHONE, subject="", body="内存")
    assert [(m.recipient, m.body) for m in MemorySms.sent] == [(VALID_PHONE, "内存")]
    settings.XINFANG_SMS_BACKEND = "file"
    settings.XINFANG_SMS_FILE = str(tmp_path / "sms.jsonl")
    sender = backends.get_sender("sms")
    assert isinstance(sender, FileSms)
    sender.send(recipient=VALID_PHONE, subject="", body="第一条")
    sender.send(recipient="13900000000", subject="", body="第二条")
    lines = [
        json.loads(x) for x in (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert lines == [
        {"phone": VALID_PHONE, "text": "第一条"},
        {"phone": "13900000000", "text": "第二条"},
    ]


def test_unknown_sms_backend_is_a_delivery_error(settings):
    settings.XINFANG_SMS_BACKEND = "pigeon"
    with pytest.raises(DeliveryError, match="未知的短信后端"):
        backends.get_sender("sms")


class _Gateway(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
        self.send_response(200 if self.path == "/ok" else 500)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_gateway_backend(gateway, settings):
    settings.XINFANG_SMS_BACKEND = "http"
    settings.XINFANG_SMS_GATEWAY_URL = f"{gateway}/ok"
    settings.XINFANG_SMS_GATEWAY_TOKEN = "s3cret"
    backends.get_sender("sms").send(recipient=VALID_PHONE, subject="", body="您的信访事项已受理")
    assert _Gateway.received == [
        ("/ok", "Bearer s3cret", {"phone": VALID_PHONE, "text": "您的信访事项已受理"})
    ]
    with pytest.raises(DeliveryError, match="短信网关返回 500"):
        HttpSms(url=f"{gateway}/broken", token="").send(recipient=VALID_PHONE, subject="", body="x")
    with pytest.raises(DeliveryError, match="无法连接"):
        HttpSms(url="http://127.0.0.1:9/", token="", timeout=2).send(
            recipient=VALID_PHONE, subject="", body="x"
        )
    with pytest.raises(DeliveryError, match="未配置短信网关"):
        HttpSms(url="")


def test_email_goes_through_the_configured_django_backend():
    backends.get_sender("email").send(
        recipient="a@example.com", subject="信访事项通知", body="正文"
    )
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["a@example.com"], "信访事项通知", "正文")
    ]


# ---------------------------------------------------------------- delivery and retries


def queued(n=1, channel="sms", **kw):
    return [
        services.outbox_queue(
            channel=channel,
            recipient=VALID_PHONE if channel == "sms" else "a@example.com",
            body=f"消息{i}",
            kind="test",
            **kw,
        )
        for i in range(n)
    ]


@pytest.mark.django_db
def test_a_pass_delivers_due_messages_and_marks_them_sent():
    queued(3)
    services.outbox_queue(
        channel="email", recipient="b@example.com", subject="主题", body="邮件", kind="test"
    )
    assert services.deliver_due(worker="w1") == {"sent": 4}
    assert sorted(m.body for m in MemorySms.sent) == ["消息0", "消息1", "消息2"]
    assert [m.to for m in mail.outbox] == [["b@example.com"]]
    assert set(Outbox.objects.values_list("status", "attempts", "claimed_by")) == {("sent", 1, "")}
    assert services.deliver_due(worker="w1") == {}


@pytest.mark.django_db
def test_failures_back_off_exponentially_then_fail():
    start = dt.datetime(2026, 9, 16, 2, tzinfo=dt.UTC)
    [row] = queued(1, sensitive=True, at=start)
    MemorySms.fail = "网关繁忙"
    with travel(start):
        assert services.deliver_due(worker="w") == {"pending": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "网关繁忙")
    assert row.next_attempt_at == start + dt.timedelta(seconds=60)
    with travel(start + dt.timedelta(seconds=59)):
        assert services.deliver_due(worker="w") == {}  # not due yet
    with travel(start + dt.timedelta(seconds=60)):
        assert services.deliver_due(worker="w") == {"pending": 1}
    row.refresh_from_db()
    assert row.next_attempt_at == start + dt.timedelta(seconds=60 + 120)
    with travel(start + dt.timedelta(seconds=180)):
        assert services.deliver_due(worker="w") == {"failed": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.body == services.REDACTED  # the receipt with a query code is not kept


@pytest.mark.django_db
def test_a_retry_that_succeeds_is_sent_and_a_sensitive_body_cleared():
    [row] = queued(1, sensitive=True)
    MemorySms.fail = "超时"
    services.deliver_due(worker="w")
    MemorySms.fail = ""
    with travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)):
        assert services.deliver_due(worker="w") == {"sent": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.body) == ("sent", 2, services.REDACTED)
    assert [m.body for m in MemorySms.sent] == ["消息0"]


@pytest.mark.django_db
def test_two_workers_never_hold_the_same_message_and_dead_leases_are_taken_over(settings):
    settings.XINFANG_NOTIFY_LEASE_SECONDS = 30
    t0 = dt.datetime(2026, 9, 16, 2, tzinfo=dt.UTC)
    queued(5, at=t0)
    first = services.outbox_claim(worker="a", now=t0)
    second = services.outbox_claim(worker="b", now=t0)
    assert len(first) == 5 and second == []
    # Worker "a" dies holding them. Before the lease ends nobody takes them; after, "b" does.
    assert services.outbox_claim(worker="b", now=t0 + dt.timedelta(seconds=29)) == []
    taken = services.outbox_claim(worker="b", now=t0 + dt.timedelta(seconds=31))
    assert len(taken) == 5 and {r.attempts for r in taken} == {2}
    # "a" comes back to life: it no longer holds them and sends nothing.
    assert services.outbox_deliver(first[0], worker="a") == "lost"
    assert MemorySms.sent == []


@pytest.mark.django_db
def test_the_worker_command_runs_one_pass():
    queued(2)
    call_command("notify_worker", "--once", "--no-reminders")
    assert Outbox.objects.filter(status="sent").count() == 2


# ---------------------------------------------------------------- staff reminders and digests


def _with_emails(people):
    for user, email in (
        (people.officer, "officer@hr.example"),
        (people.head, "head@hr.example"),
        (people.clerk, "clerk@office.example"),
    ):
        user.email = email
        user.save(update_fields=["email"])


def staff_mail():
    return list(Outbox.objects.filter(channel="email").order_by("id"))


def test_reminders_go_once_per_clock_to_the_unit_holding_it(county, people):
    _with_emails(people)
    case = register(county, people.clerk, NOW)
    case = cases.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    case = cases.case_accept(case=case, by=people.officer, at=bj(2026, 9, 18, 9))
    # The handling clock runs to 17 Nov (24:00); due soon 3 days before.
    assert services.queue_reminders(now=bj(2026, 11, 1, 9)) == 0
    assert services.queue_reminders(now=bj(2026, 11, 15, 9)) == 2
    assert services.queue_reminders(now=bj(2026, 11, 16, 9)) == 0
    assert services.queue_reminders(now=bj(2026, 11, 20, 9)) == 2
    assert services.queue_reminders(now=bj(2026, 11, 21, 9)) == 0
    rows = staff_mail()
    assert [(r.recipient, r.kind) for r in rows] == [
        ("officer@hr.example", "reminder.due_soon"),
        ("head@hr.example", "reminder.due_soon"),
        ("officer@hr.example", "reminder.overdue"),
        ("head@hr.example", "reminder.overdue"),
    ]
    assert "将于2026年11月17日届满" in rows[0].body and "已于2026年11月17日届满" in rows[2].body
    assert Reminder.objects.count() == 2
    for row in rows:  # never the petitioner's identity
        assert "张三" not in row.body and VALID_PHONE not in row.body and case.title not in row.body


def test_a_report_reminder_names_no_petitioner_even_to_its_handlers(county, people):
    _with_emails(people)
    case = register(
        county,
        people.clerk,
        NOW,
        kind=Kind.ACCUSATION,
        accused_unit=county.housing,
        title="举报住建局某科长索贿",
    )
    services.queue_reminders(now=bj(2026, 10, 7, 9))
    [row] = staff_mail()
    assert row.recipient == "clerk@office.example" and case.number in row.body
    assert "张三" not in row.body and "索贿" not in row.body


def test_the_daily_digest_goes_once_a_day_per_unit(county, people, settings):
    settings.XINFANG_DIGEST_HOUR = 8
    _with_emails(people)
    overdue = register(county, people.clerk, bj(2026, 9, 1, 9))
    cases.case_route(case=overdue, by=people.clerk, unit=county.hr, at=bj(2026, 9, 2, 9))
    register(county, people.clerk, bj(2026, 9, 20, 9))
    assert services.queue_digests(now=bj(2026, 9, 21, 7)) == 0  # before the digest hour
    assert services.queue_digests(now=bj(2026, 9, 21, 8)) == 3
    assert services.queue_digests(now=bj(2026, 9, 21, 18)) == 0
    rows = {r.recipient: r for r in staff_mail()}
    office, hr = rows["clerk@office.example"], rows["officer@hr.example"]
    assert "新增1件，即将到期0件，已超期0件" in office.body
    assert "新增0件，即将到期0件，已超期1件" in hr.body and overdue.number in hr.body
    assert rows["head@hr.example"].body == hr.body
    assert set(Digest.objects.values_list("day", flat=True)) == {dt.date(2026, 9, 21)}
    # The next day again; the office has nothing new, due or overdue, so it gets no mail.
    assert services.queue_digests(now=bj(2026, 9, 22, 9)) == 2


# ---------------------------------------------------------------- the staff page


def test_outbox_page_for_admins_and_supervisors_with_masked_recipients(client, county, people):
    register(county, people.clerk, NOW)
    services.outbox_queue(
        channel="email", recipient="zhangsan@example.com", body="x", kind="test", unit=county.office
    )
    client.login(username="supervisor", password=PASSWORD)
    html = client.get("/notify/").content.decode()
    assert "138****5678" in html and "z***@example.com" in html
    assert VALID_PHONE not in html and "zhangsan@example.com" not in html and "已登记" not in html
    assert client.get("/notify/?status=sent").content.decode().count("138****5678") == 0
    client.login(username="officer", password=PASSWORD)
    assert client.get("/notify/").status_code == 403
    client.logout()
    assert client.get("/notify/").status_code == 302
