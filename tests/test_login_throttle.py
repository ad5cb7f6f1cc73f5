"""Staff login throttling (issue 12): a guessed password never gets in, however many tries.

Failures are counted per account and per client address; past the limit the account (or the
address) is locked for a while and even the right password is refused with a Chinese message.
The lock is a row the administrator sees in the admin and can clear.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.factories import PASSWORD
from xinfang.orgs.models import LoginLock

LOCKED = "登录失败次数过多"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.XINFANG_LOGIN_ACCOUNT_LIMIT = 5
    settings.XINFANG_LOGIN_ADDRESS_LIMIT = 20
    settings.XINFANG_LOGIN_WINDOW = 900
    settings.XINFANG_LOGIN_LOCKOUT = 900
    settings.XINFANG_PROXY_COUNT = 0


def attempt(client, username, password, ip="10.9.0.1", url="/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_25_wrong_passwords_then_the_right_one_is_refused_in_chinese(client, people):
    """The issue's scenario: before, the 26th try (the right password) got in."""
    for _ in range(25):
        attempt(client, "clerk", "wrong-password")
    response = attempt(client, "clerk", PASSWORD)
    assert not logged_in(client)
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "已暂时锁定" in html


def test_the_account_locks_after_five_failures_and_other_accounts_still_work(client, people):
    for _ in range(4):
        response = attempt(client, "clerk", "wrong")
        assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()
    fifth = attempt(client, "clerk", "wrong")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()
    # Locked from any address, even with the right password.
    assert attempt(client, "clerk", PASSWORD, ip="10.9.9.9").status_code == 429
    assert not logged_in(client)
    # Another account from the same address is not held back.
    assert attempt(client, "officer", PASSWORD).status_code == 302 and logged_in(client)


def test_the_lock_ends_by_itself_after_the_lockout(client, people):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            attempt(client, "clerk", "wrong")
        assert attempt(client, "clerk", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert attempt(client, "clerk", PASSWORD).status_code == 302 and logged_in(client)


def test_a_successful_login_clears_the_accounts_failures(client, people):
    for _ in range(4):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", PASSWORD).status_code == 302


def test_one_address_spraying_many_accounts_is_locked(client, people):
    for i in range(20):
        attempt(client, f"user{i}", "wrong", ip="10.7.0.1")
    response = attempt(client, "officer", PASSWORD, ip="10.7.0.1")
    assert response.status_code == 429 and not logged_in(client)
    assert "本地址" in response.content.decode()
    # The same account from another address is served.
    assert attempt(client, "officer", PASSWORD, ip="10.7.0.2").status_code == 302


def test_a_good_login_does_not_reset_the_address_count(client, people):
    """Otherwise an attacker with one account resets the address limit between guesses."""
    for round_ in range(4):
        for i in range(5):
            attempt(client, f"guess{round_}{i}", "wrong", ip="10.6.0.1")
        attempt(client, "officer", PASSWORD, ip="10.6.0.1")
        client.logout()
    assert attempt(client, "officer", PASSWORD, ip="10.6.0.1").status_code == 429


def test_an_unknown_username_locks_the_same_way(client, people):
    """The lock says nothing about whether the account exists."""
    for _ in range(5):
        last = attempt(client, "nobody", "wrong")
    assert last.status_code == 429 and LOCKED in last.content.decode()
    lock = LoginLock.objects.get(kind=LoginLock.Kind.ACCOUNT)
    assert "nobody" not in lock.key  # an unknown name is kept only as a hash
    assert lock.label == "（不存在的账号）"


def test_the_admin_login_is_throttled_too(client, people):
    for _ in range(5):
        attempt(client, "admin", "wrong", url="/admin/login/")
    response = attempt(client, "admin", PASSWORD, url="/admin/login/")
    assert not logged_in(client)
    assert LOCKED in response.content.decode()


def test_the_lock_is_shown_in_the_admin_and_can_be_cleared(client, people):
    for _ in range(5):
        attempt(client, "clerk", "wrong")
    lock = LoginLock.objects.get(kind=LoginLock.Kind.ACCOUNT)
    assert lock.label == "clerk" and lock.locked_until > timezone.now()
    admin = client.__class__()
    admin.force_login(people.admin)
    page = admin.get("/admin/orgs/loginlock/").content.decode()
    assert "clerk" in page and "登录锁定" in page
    done = admin.post("/admin/orgs/loginlock/", {"action": "unlock", "_selected_action": [lock.pk]})
    assert done.status_code == 302
    lock.refresh_from_db()
    assert lock.locked_until is None and lock.failures == 0
    assert attempt(client, "clerk", PASSWORD).status_code == 302 and logged_in(client)


def test_behind_a_proxy_the_forwarded_client_address_counts(client, people, settings):
    settings.XINFANG_PROXY_COUNT = 1
    for i in range(20):
        client.post(
            "/login/",
            {"username": f"u{i}", "password": "x"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    # Another client behind the same proxy is not locked out.
    ok = client.post(
        "/login/",
        {"username": "officer", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.6",
    )
    assert ok.status_code == 302
    # A spoofed extra entry on the left does not escape the limit.
    client.logout()
    spoofed = client.post(
        "/login/",
        {"username": "officer", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",
    )
    assert spoofed.status_code == 429
