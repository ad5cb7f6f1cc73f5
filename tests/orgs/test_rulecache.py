"""Per-process rule caches that every process keeps current through a version in the shared cache."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.signals import request_started
from django.db import close_old_connections, transaction

from xinfang.cases.models import HolidayOverride
from xinfang.cases.selectors import work_calendar
from xinfang.orgs import rulecache

ROOT = Path(__file__).resolve().parents[2]

RULES = {"value": 1}
CALLS = []


@rulecache.versioned("test-rules")
def rules() -> int:
    CALLS.append(1)
    return RULES["value"]


@pytest.fixture(autouse=True)
def _reset(monkeypatch):
    RULES["value"] = 1
    CALLS.clear()
    rules.cache_clear()
    now = [1000.0]
    monkeypatch.setattr(rulecache, "_clock", lambda: now[0])
    yield now
    rules.cache_clear()


def a_request_starts():
    """What a request does first here; as Django's test client does, without closing the
    test's database connection."""
    request_started.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
    finally:
        request_started.connect(close_old_connections)


def _another_process_changes_the_rules(value):
    """What another process does: change the source and publish a new version. This
    process's local copy is not touched."""
    RULES["value"] = value
    cache.set(rulecache.version_key("test-rules"), f"from-elsewhere-{uuid.uuid4()}", None)


def test_the_local_copy_serves_repeated_calls(_reset):
    assert rules() == 1
    assert rules() == 1
    assert len(CALLS) == 1


def test_a_change_published_elsewhere_is_seen_at_the_next_request(_reset):
    assert rules() == 1
    _another_process_changes_the_rules(2)
    assert rules() == 1  # same request, same second: the local copy
    a_request_starts()
    assert rules() == 2


def test_a_change_published_elsewhere_is_seen_within_the_interval_outside_requests(_reset):
    now = _reset
    assert rules() == 1
    _another_process_changes_the_rules(2)
    now[0] += rulecache.CHECK_INTERVAL / 2
    assert rules() == 1
    now[0] += rulecache.CHECK_INTERVAL
    assert rules() == 2


def test_a_bump_here_is_seen_here_at_once(_reset):
    assert rules() == 1
    RULES["value"] = 3
    rulecache.bump("test-rules")
    assert rules() == 3


def test_an_evicted_version_counts_as_a_change(_reset):
    now = _reset
    assert rules() == 1
    RULES["value"] = 4
    cache.delete(rulecache.version_key("test-rules"))  # a file cache culls entries
    now[0] += rulecache.CHECK_INTERVAL * 2
    assert rules() == 4


def test_a_broken_shared_cache_degrades_to_no_caching_not_to_an_error(_reset, monkeypatch):
    now = _reset
    assert rules() == 1

    class Broken:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise OSError("disk full")

            return fail

    monkeypatch.setattr(rulecache, "cache", Broken())
    RULES["value"] = 5
    now[0] += rulecache.CHECK_INTERVAL * 2
    assert rules() == 5
    RULES["value"] = 6
    rulecache.bump("test-rules")  # a change here is still seen here
    assert rules() == 6


def test_a_bump_inside_a_transaction_is_published_on_commit(
    _reset, db, django_capture_on_commit_callbacks
):
    key = rulecache.version_key("test-rules")
    before = rulecache.shared_version("test-rules")
    with django_capture_on_commit_callbacks(execute=True):
        RULES["value"] = 6
        rulecache.bump("test-rules")
        assert rules() == 6  # this process sees its own change inside the transaction
        assert cache.get(key) == before  # the others only after the commit
    assert cache.get(key) != before


CHILD = textwrap.dedent(
    """
    import sys, django
    from django.conf import settings
    settings.configure(CACHES={"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                           "LOCATION": sys.argv[1]}})
    django.setup()
    from pathlib import Path
    from django.core.signals import request_started
    from xinfang.orgs import rulecache

    source = Path(sys.argv[2])

    @rulecache.versioned("file-rules")
    def rules():
        return source.read_text()

    for line in sys.stdin:
        if line.strip() == "request":
            request_started.send(sender=None)
        print(rules(), flush=True)
    """
)


def test_two_real_processes_share_the_version_through_a_file_cache(tmp_path, settings):
    """A child process caches the rules; this process changes them and bumps the version in a
    FileBasedCache both use; the child's next request sees the change."""
    cache_dir, source = tmp_path / "cache", tmp_path / "rules.txt"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(cache_dir),
        }
    }
    source.write_text("old")
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, str(cache_dir), str(source)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:

        def ask(line):
            child.stdin.write(line + "\n")
            child.stdin.flush()
            return child.stdout.readline().strip()

        assert ask("request") == "old"
        source.write_text("new")
        assert ask("call") == "old"  # the child holds its local copy
        rulecache.bump("file-rules")
        assert ask("request") == "new"
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    assert child.returncode == 0


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_dropped_here_too(_reset):
    assert rules() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        RULES["value"] = 7
        rulecache.bump("test-rules")
        assert rules() == 7  # this process saw the change inside its transaction
        raise RuntimeError
    RULES["value"] = 1  # the rollback undid it
    assert rules() == 1  # the first call after the transaction drops what it computed inside
    assert len(CALLS) == 3


def test_the_holiday_calendar_of_a_stale_process_follows_a_change_made_elsewhere(db):
    day = dt.date(2027, 2, 8)  # a Monday
    assert work_calendar().is_workday(day)
    # Another process enters the 2027 Spring Festival: its rows, and its published version.
    HolidayOverride.objects.bulk_create(
        [HolidayOverride(date=day, is_workday=False, note="春节")]
    )  # no signal
    assert work_calendar().is_workday(day)  # this process still holds its copy
    cache.set(rulecache.version_key(rulecache.CALENDAR), f"elsewhere-{uuid.uuid4()}", None)
    a_request_starts()
    assert not work_calendar().is_workday(day)


def test_a_holiday_entered_here_is_seen_here_at_once(db):
    day = dt.date(2027, 2, 9)
    assert work_calendar().is_workday(day)
    override = HolidayOverride.objects.create(date=day, is_workday=False, note="春节")
    assert not work_calendar().is_workday(day)
    override.delete()
    assert work_calendar().is_workday(day)
