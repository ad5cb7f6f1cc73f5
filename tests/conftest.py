"""Shared fixtures: the county, its personas, and a clock frozen where each test wants it."""

from __future__ import annotations

import os

import pytest

from tests.factories import make_county, make_personas
from xinfang.cases import access
from xinfang.cases.selectors import work_calendar

DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def _uses_database(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & DATABASE_FIXTURES) or item.get_closest_marker("django_db") is not None


# The long tests, longest kind first; the rest keep pytest's order.
LONG_MARKERS = ("crawl", "slow", "crash")


def _django_group(item: pytest.Item) -> int:
    """pytest-django's order: database tests, then transactional ones (which empty the tables
    at the end, seeded rows included), then tests without a database."""
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    if (
        (marker is not None and marker.kwargs.get("transaction"))
        or "transactional_db" in names
        or "live_server" in names
    ):
        return 1
    return 0 if marker is not None or "db" in names else 2


def _longest_first(items: list[pytest.Item]) -> None:
    """Start the long tests of each of pytest-django's groups first: scripts/test.sh hands tests
    to the xdist workers one at a time (`--maxschedchunk 1`), so the crawls, the fuzzer and the
    process tests spread over the workers and the many short tests fill the end, instead of one
    worker finishing a crawl alone while the other waits. The groups keep their order (a
    transactional test must not run before a test that reads the rows migrations seed). A
    stable sort: the same order on every worker."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        long = next(
            (i for i, name in enumerate(LONG_MARKERS) if item.get_closest_marker(name)),
            len(LONG_MARKERS),
        )
        return _django_group(item), long

    items.sort(key=rank)


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (scripts/test.sh) runs the tests that reach a database: a test that
    never opens one (the clocks' tables, the classifier, the validators) does the same thing on
    both, so it runs once, in the SQLite pass. The crash tests start their own processes on the
    database they are given, so they stay."""
    _longest_first(items)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    keep, dropped = [], []
    for item in items:
        wanted = _uses_database(item) or item.get_closest_marker("crash") is not None
        (keep if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """PBKDF2 costs most of a second a user; tests need logins, not key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _memory_cache(settings):
    """Each test process its own cache: the shared file cache would leak between xdist workers."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _no_saved_answers_index(settings):
    """The knowledge base's index is not saved to var/: test databases are made anew, with ids
    and frozen times that repeat (tests/answers/test_index_warm_a.py sets a folder of its own)."""
    settings.XINFANG_ANSWERS_INDEX_DIR = ""


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
