"""Shared fixtures: the county, its personas, and a clock frozen where each test wants it."""

from __future__ import annotations

import pytest

from tests.factories import make_county, make_personas
from xinfang.cases import access
from xinfang.cases.selectors import work_calendar


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """PBKDF2 costs most of a second a user; tests need logins, not key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _memory_cache(settings):
    """Each test process its own cache: the shared file cache would leak between xdist workers."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _no_history_cut(settings):
    """The suite's dates are fixed in the past, mostly without freezing the clock: an event of
    2026-03 recorded "now" would be history (XINFANG_HISTORY_DAYS, default 30) and tell no one.
    Tests of that rule set the office's value themselves (tests/cases/test_reactions.py)."""
    settings.XINFANG_HISTORY_DAYS = 365_000


@pytest.fixture(autouse=True)
def _fresh_caches():
    work_calendar.cache_clear()
    access.clear_cache()
    yield
    work_calendar.cache_clear()
    access.clear_cache()


@pytest.fixture
def county(db):
    return make_county()


@pytest.fixture
def people(county):
    return make_personas(county)
