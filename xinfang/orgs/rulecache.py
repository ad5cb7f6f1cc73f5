"""Per-process caches of rules (unit subtrees, the holiday calendar) that every process keeps current.

Each process (a web worker, `xinfang worker`, a command) keeps what it computed from the rules in
an `lru_cache`. A change calls `bump(name)`, which publishes a new version of those rules in
Django's default cache, shared by every process of a deployment (a file cache under var/cache).
Before a cached function answers, its process compares the version it last saw with the shared
one and drops its local copy when they differ.

How often the shared version is read: at the first use in every request (`request_started` marks
every rule cache for a check), so a change made in one web worker is seen by the next request in
every other worker; outside requests (the worker, commands, imports) at most once every
`CHECK_INTERVAL` seconds, so a loop that asks a million times reads the cache about once a second,
not a million times. The process that makes the change drops its own copy at once.

The version is a random token, not a counter. Any value other than the one a process last saw
means "changed": two processes bumping at once (the file cache's `incr` is a read and a write) or
a version the file cache culled and recreated can never look unchanged, as a counter restarting at
1 could. A missing version counts as a change; a shared cache that fails counts as a change on
every check (the rules are then recomputed, never served stale, and nothing fails).

Inside a transaction the new version is published when it commits, so no process can read the new
version and recompute from rows it cannot see yet. The changing process drops its own copy at once
(it sees its own uncommitted rows); if that transaction rolls back, it drops the copy again at the
first check after the transaction ended.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.signals import request_started
from django.db import transaction

logger = logging.getLogger(__name__)

# The rule sets, by name: one version each.
UNITS = "units"  # the unit tree (subtrees, hence access scope)
CALENDAR = "calendar"  # the holiday calendar with the admins' overrides

CHECK_INTERVAL = 1.0  # seconds between reads of the shared version outside a request
_PREFIX = "xinfang:rules:"
_clock = time.monotonic


@dataclass
class _RuleSet:
    clears: list[Callable[[], None]] = field(default_factory=list)
    seen: str | None = None  # the shared version the local copies were computed under
    checked_at: float = -math.inf
    pending: bool = False  # changed in a transaction that has not committed yet


_sets: dict[str, _RuleSet] = {}


def _rule_set(name: str) -> _RuleSet:
    return _sets.setdefault(name, _RuleSet())


def version_key(name: str) -> str:
    return f"{_PREFIX}{name}"


def _new_token() -> str:
    return secrets.token_hex(8)


def shared_version(name: str) -> str | None:
    """The version of `name` in the shared cache (created when missing); None when the cache fails."""
    key = version_key(name)
    try:
        token = cache.get(key)
        if token is None:
            cache.add(key, _new_token(), timeout=None)
            token = cache.get(key)
    except Exception:  # a full disk or a broken cache must not break a page: recompute instead
        logger.warning("rule cache %s: the shared version cannot be read", name, exc_info=True)
        return None
    return token


def _drop(rules: _RuleSet) -> None:
    for clear in rules.clears:
        clear()


def _check(name: str, rules: _RuleSet) -> None:
    if rules.pending and not transaction.get_connection().in_atomic_block:
        # The transaction that changed the rules ended without publishing: it rolled back, and
        # what this process computed inside it is gone from the database.
        rules.pending = False
        _drop(rules)
    now = _clock()
    if now - rules.checked_at < CHECK_INTERVAL:
        return
    token = shared_version(name)
    if token is None or token != rules.seen:
        _drop(rules)
        rules.seen = token
    rules.checked_at = now


def _publish(name: str) -> None:
    rules = _rule_set(name)
    token: str | None = _new_token()
    try:
        cache.set(version_key(name), token, timeout=None)
    except Exception:
        logger.warning("rule cache %s: the new version cannot be published", name, exc_info=True)
        token = None
    _drop(rules)
    rules.seen, rules.checked_at, rules.pending = token, _clock(), False


def bump(name: str) -> None:
    """The rules `name` changed: drop this process's copy now and tell every other process
    (when the current transaction commits, or now outside one)."""
    rules = _rule_set(name)
    _drop(rules)
    if transaction.get_connection().in_atomic_block:
        rules.pending = True
        transaction.on_commit(functools.partial(_publish, name))
    else:
        _publish(name)


def versioned(
    name: str, *, maxsize: int | None = 128
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Cache a function of the rules `name` in this process, as `lru_cache` does, and drop the
    cache whenever the shared version of `name` changes. `cache_clear()` drops this process's
    copy only and reads the shared version at the next call (tests); a change of the rules
    calls `bump(name)`."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        rules = _rule_set(name)
        rules.clears.append(cached.cache_clear)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _check(name, rules)
            return cached(*args, **kwargs)

        def cache_clear() -> None:
            cached.cache_clear()
            rules.checked_at, rules.pending = -math.inf, False

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _check_at_next_use(**kwargs: Any) -> None:
    for rules in _sets.values():
        rules.checked_at = -math.inf


request_started.connect(_check_at_next_use, dispatch_uid="xinfang.orgs.rulecache")
