"""XINFANG_CACHE_URL: the shared cache a deployment's processes count rate limits in.

The default file cache keeps at most 300 entries and culls a third at random past them, so
under a flood of submissions the counters of a limit can be dropped and the limit stops
holding. A deployment picks the database cache or Redis with one validated variable; a wrong
value stops the start with a Chinese message (issue 12 leftovers).
"""

from __future__ import annotations

import ast
import importlib.util

import pytest
from django.core.cache import caches
from django.core.management import call_command

from tests.test_settings_env import boot
from xinfang.portal import limits

SHOW = "CACHES['default']"


def _cache(url: str) -> dict:
    done = boot({"XINFANG_CACHE_URL": url}, show=SHOW)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def _refused(url: str) -> str:
    done = boot({"XINFANG_CACHE_URL": url})
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last.startswith("ImproperlyConfigured: 配置错误"), last
    assert "XINFANG_CACHE_URL" in last
    return last


def test_unset_keeps_the_file_cache():
    done = boot({}, show=f"{SHOW}['BACKEND']")
    assert done.stdout.strip().endswith("FileBasedCache")


def test_the_database_cache():
    assert _cache("db://xinfang_cache") == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "xinfang_cache",
    }
    assert _cache("db://")["LOCATION"] == "xinfang_cache"


def test_a_file_cache_elsewhere_and_memory():
    assert _cache("file:///srv/xinfang/cache")["LOCATION"] == "/srv/xinfang/cache"
    assert _cache("memory://")["BACKEND"].endswith("LocMemCache")


@pytest.mark.skipif(importlib.util.find_spec("redis") is None, reason="redis not installed")
def test_redis_when_installed():
    assert _cache("redis://127.0.0.1:6379/1") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }


@pytest.mark.skipif(importlib.util.find_spec("redis") is not None, reason="redis installed")
def test_redis_without_its_client_library_stops_the_start():
    assert "redis" in _refused("redis://127.0.0.1:6379/1")


@pytest.mark.parametrize("url", ["mongo://x/y", "db://drop table;", "file://relative/dir", "x"])
def test_a_wrong_value_stops_the_start(url):
    _refused(url)


def test_the_submission_limits_hold_in_the_database_cache(db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "xinfang_cache_test",
        }
    }
    settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 3
    call_command("createcachetable", verbosity=0)
    try:
        answers = [
            limits.submission_refusal(ip=f"10.2.0.{i}", phone="13812345678") for i in range(5)
        ]
        assert answers[:3] == [None, None, None]
        assert answers[3] is not None and "已达上限" in answers[3].message
    finally:
        caches["default"].clear()
