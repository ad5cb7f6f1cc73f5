"""Portal settings: Django settings read from the environment once at start (xinfang/settings.py).

========================  ===============================================  ==========================
variable                  meaning                                          default
========================  ===============================================  ==========================
XINFANG_PORTAL_OFFICE     code of the unit that registers online matters  first petition_office unit
XINFANG_PORTAL_RATE_LIMIT query-code look-ups allowed per window, per       10
                          client IP and per case number
XINFANG_PORTAL_RATE_WINDOW  the window, in seconds                          900 (15 minutes)
========================  ===============================================  ==========================

The counters live in Django's default cache. Without a CACHES setting that is the per-process
local-memory cache: enough for one process; a deployment with several processes should
configure a shared cache (Redis, Memcached or the database cache) so the limit holds across them.
"""

from __future__ import annotations

from django.conf import settings


def office_code() -> str:
    return settings.XINFANG_PORTAL_OFFICE


def rate_limit() -> int:
    return settings.XINFANG_PORTAL_RATE_LIMIT


def rate_window() -> int:
    return settings.XINFANG_PORTAL_RATE_WINDOW
