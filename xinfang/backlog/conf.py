"""Backlog settings: Django settings read from the environment once at start (xinfang/settings.py).

- XINFANG_BACKLOG_RULES: JSON defaults for the flag rules when the rule table is empty, e.g.
  {"open_days": 90, "repeat": 3, "reviewed": true}. Admins edit the rules in the admin once
  the table has rows (a migration seeds it with these defaults).
- XINFANG_BACKLOG_STUCK_DAYS: days without a recorded step after which the board suggests a
  summons (约谈) of the unit head (default 30).
- XINFANG_BACKLOG_PLAN_DAYS: default deadline of a resolution plan, calendar days (default 60).
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_RULES = {"open_days": 90, "repeat": 3, "reviewed": True}


def default_rules() -> dict:
    rules = dict(DEFAULT_RULES)
    rules.update(settings.XINFANG_BACKLOG_RULES)
    return rules


def stuck_days() -> int:
    return settings.XINFANG_BACKLOG_STUCK_DAYS


def plan_days() -> int:
    return settings.XINFANG_BACKLOG_PLAN_DAYS
