"""Reception settings, read from the environment at call time (so a test may change them).

XINFANG_ROTA_WARN_DAYS            working days ahead in which an empty rota day is a warning (10)
XINFANG_GROUP_VISIT_SIZE          visitors from which a visit is a group visit, 集体访 (5)
XINFANG_GROUP_VISIT_RECEIVE_HOURS hours within which a leader must receive a group visit (2)
XINFANG_INSTRUCTION_DAYS          calendar days a leader's instruction (批示) runs by default (15)
XINFANG_BOOKING_RATE_LIMIT        bookings one IP address may attempt per hour (5)
XINFANG_BOOKING_DAYS_AHEAD        days ahead the public booking page offers slots (30)
"""

from __future__ import annotations

from xinfang.env import env_int


def rota_warn_days() -> int:
    return max(env_int("XINFANG_ROTA_WARN_DAYS", 10), 0)


def group_visit_size() -> int:
    return max(env_int("XINFANG_GROUP_VISIT_SIZE", 5), 2)


def group_visit_receive_hours() -> int:
    return max(env_int("XINFANG_GROUP_VISIT_RECEIVE_HOURS", 2), 1)


def instruction_days() -> int:
    return max(env_int("XINFANG_INSTRUCTION_DAYS", 15), 1)


def booking_rate_limit() -> int:
    return max(env_int("XINFANG_BOOKING_RATE_LIMIT", 5), 1)


def booking_days_ahead() -> int:
    return max(env_int("XINFANG_BOOKING_DAYS_AHEAD", 30), 1)
