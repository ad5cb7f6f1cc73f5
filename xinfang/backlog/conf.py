"""Backlog settings read from the environment (the lead documents them in .env.example).

- XINFANG_BACKLOG_RULES: JSON defaults for the flag rules when the rule table is empty, e.g.
  {"open_days": 90, "repeat": 3, "reviewed": true}. Admins edit the rules in the admin once
  the table has rows (a migration seeds it with these defaults).
- XINFANG_BACKLOG_STUCK_DAYS: days without a recorded step after which the board suggests a
  summons (约谈) of the unit head (default 30).
- XINFANG_BACKLOG_PLAN_DAYS: default deadline of a resolution plan, calendar days (default 60).
"""

from __future__ import annotations

from xinfang.env import env_int, env_json

DEFAULT_RULES = {"open_days": 90, "repeat": 3, "reviewed": True}


def default_rules() -> dict:
    rules = dict(DEFAULT_RULES)
    rules.update(env_json("XINFANG_BACKLOG_RULES", {}))
    return rules


def stuck_days() -> int:
    return env_int("XINFANG_BACKLOG_STUCK_DAYS", 30)


def plan_days() -> int:
    return env_int("XINFANG_BACKLOG_PLAN_DAYS", 60)
