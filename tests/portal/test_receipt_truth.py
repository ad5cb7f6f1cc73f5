"""The receipt page tells the citizen what really happened to the SMS with the query code.

Before: a receipt the per-number daily SMS budget skipped (xinfang/notify/budget.py) was still
announced as sent ("我们也已将编号和查询码发送给您"), so a citizen who did not write the code
down lost it.
"""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from tests.factories import VALID_ID, VALID_PHONE, bj
from xinfang.cases.models import Kind
from xinfang.notify.backends import MemorySms
from xinfang.notify.models import Outbox

NOW = bj(2026, 9, 16, 10)
SKIPPED = "今日发往该号码的短信已达上限，未发送短信，请记下查询码"


@pytest.fixture(autouse=True)
def _portal(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.XINFANG_PORTAL_OFFICE = ""
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = 100
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 100
    settings.XINFANG_SMS_DAILY_LIMIT = 1
    settings.XINFANG_PROXY_COUNT = 0
    cache.clear()
    MemorySms.reset()
    yield
    cache.clear()


def _submit(client, county, ip, email=""):
    data = {
        "kind": Kind.APPEAL,
        "title": "小区门口道路破损",
        "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
        "place": county.town_place.pk,
        "name": "李四",
        "phone": VALID_PHONE,
        "email": email,
        "address": "东湖街道2号",
        "id_number": VALID_ID,
        "consent": "on",
    }
    with time_machine.travel(NOW, tick=False):
        assert client.post("/portal/submit/", data, REMOTE_ADDR=ip).status_code == 302
        return client.get("/portal/submit/done/").content.decode()


def test_a_receipt_within_the_budget_says_it_goes_by_sms(client, county):
    html = _submit(client, county, "10.0.7.1")
    assert "通过短信发送" in html
    assert SKIPPED not in html


def test_a_receipt_skipped_by_the_budget_says_so(client, county):
    _submit(client, county, "10.0.7.1")
    html = _submit(client, county, "10.0.7.2")
    receipts = Outbox.objects.filter(recipient=VALID_PHONE, kind="submission").order_by("id")
    assert [r.status for r in receipts] == [Outbox.Status.PENDING, Outbox.Status.SKIPPED]
    assert SKIPPED in html
    assert "通过短信发送" not in html and "已将编号和查询码发送给您" not in html
    assert 'id="query-code"' in html  # the code itself is still shown, once


def test_a_skipped_sms_with_an_e_mail_still_says_the_e_mail_goes(client, county):
    _submit(client, county, "10.0.7.1")
    html = _submit(client, county, "10.0.7.2", email="lisi@example.com")
    assert SKIPPED in html
    assert "通过电子邮件发送" in html
