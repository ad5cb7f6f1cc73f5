"""Portal settings: Django settings read from the environment once at start (xinfang/settings.py).

========================  ===============================================  ==========================
variable                  meaning                                          default
========================  ===============================================  ==========================
XINFANG_PORTAL_OFFICE     code of the unit that registers online matters  first petition_office unit
XINFANG_PORTAL_RATE_LIMIT query-code look-ups allowed per window, per       10
                          client address
XINFANG_PORTAL_RATE_WINDOW  the window, in seconds                          900 (15 minutes)
XINFANG_PORTAL_LOOKUP_BRAKE failed look-ups of one number in a window past   30
                          which each address gets one try at it a window
XINFANG_PORTAL_SUBMIT_LIMIT submissions per client address per window       10
XINFANG_PORTAL_SUBMIT_WINDOW  that window, in seconds                       3600
XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT  submissions per phone / e-mail          3
XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW  that window, in seconds               86400
========================  ===============================================  ==========================

The submission limits hold on every road from outside, the portal and Open311's POST requests,
with counters shared between them (`xinfang.portal.limits`); a refusal is a 429 with Retry-After.

The counters live in Django's default cache: by default the file cache under var/cache, which
every process on one machine shares (XINFANG_CACHE_DIR). Several machines need one shared
cache (Redis, Memcached or the database cache) for the limits to hold across them. The client
address is `xinfang.orgs.http.client_address` (XINFANG_PROXY_COUNT behind reverse proxies).
"""

from __future__ import annotations

from django.conf import settings


def office_code() -> str:
    return settings.XINFANG_PORTAL_OFFICE


def rate_limit() -> int:
    return settings.XINFANG_PORTAL_RATE_LIMIT


def rate_window() -> int:
    return settings.XINFANG_PORTAL_RATE_WINDOW


def lookup_brake() -> int:
    return settings.XINFANG_PORTAL_LOOKUP_BRAKE


def submit_limit() -> tuple[int, int]:
    """(submissions, seconds) per client address."""
    return settings.XINFANG_PORTAL_SUBMIT_LIMIT, settings.XINFANG_PORTAL_SUBMIT_WINDOW


def submit_contact_limit() -> tuple[int, int]:
    """(submissions, seconds) per phone number or e-mail address."""
    return (
        settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT,
        settings.XINFANG_PORTAL_SUBMIT_CONTACT_WINDOW,
    )
