"""The statutory clocks (时限) as table tests: every clock, holidays, 调休, year ends, pauses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.factories import bj
from xinfang.cases import clocks
from xinfang.cases.calendar import WorkCalendar
from xinfang.cases.clocks import DEFAULT_CLOCKS, DayKind, DueState, Pause

CAL = WorkCalendar()
UTC = dt.UTC
CAL_ = DayKind.CALENDAR
WORK = DayKind.WORKING
HOURS = DayKind.HOURS


@pytest.mark.parametrize(
    ("start", "length", "kind", "due"),
    [
        # domain.md: 5 working days from a receipt on 30 Sept 2026 end on 13 Oct (24:00).
        pytest.param(bj(2026, 9, 30, 10), 5, WORK, bj(2026, 10, 14), id="worked-example-working"),
        # domain.md: 15 calendar days from 16 Sept end on 1 Oct, a holiday, so on 8 Oct.
        pytest.param(bj(2026, 9, 16, 10), 15, CAL_, bj(2026, 10, 9), id="worked-example-calendar"),
        # A calendar period ending on a plain weekday is not moved.
        pytest.param(bj(2026, 3, 2, 10), 15, CAL_, bj(2026, 3, 18), id="plain-weekday"),
        # Ending on a Saturday moves to Monday; on a swapped working Saturday it stays.
        pytest.param(bj(2026, 3, 2, 10), 12, CAL_, bj(2026, 3, 17), id="ends-saturday"),
        pytest.param(bj(2026, 9, 25, 10), 15, CAL_, bj(2026, 10, 11), id="ends-swapped-saturday"),
        pytest.param(bj(2026, 9, 5, 10), 15, CAL_, bj(2026, 9, 21), id="ends-swapped-sunday"),
        # Working days count the swapped Saturday 10 Oct and skip the whole Golden Week.
        pytest.param(bj(2026, 9, 30, 10), 1, WORK, bj(2026, 10, 9), id="golden-week-1"),
        pytest.param(bj(2026, 9, 30, 10), 3, WORK, bj(2026, 10, 11), id="golden-week-sat"),
        pytest.param(bj(2026, 9, 30, 10), 4, WORK, bj(2026, 10, 13), id="golden-week-4"),
        # Year boundary: 2026-01-01..03 rest, Sunday 4 Jan is a swapped working day.
        pytest.param(bj(2025, 12, 31, 10), 1, CAL_, bj(2026, 1, 5), id="new-year-calendar"),
        pytest.param(bj(2025, 12, 20, 10), 15, CAL_, bj(2026, 1, 5), id="ends-jan4-swapped-sunday"),
        pytest.param(bj(2025, 12, 30, 10), 1, WORK, bj(2026, 1, 1), id="dec31-last-day"),
        pytest.param(bj(2025, 12, 31, 10), 2, WORK, bj(2026, 1, 6), id="new-year-working"),
        pytest.param(bj(2025, 12, 1, 10), 60, CAL_, bj(2026, 1, 31), id="60-days-over-year-end"),
        # Into 2027, a year the library does not know: weekends + fixed-date holidays.
        pytest.param(bj(2026, 12, 25, 10), 7, CAL_, bj(2027, 1, 5), id="into-2027-holiday"),
        pytest.param(bj(2026, 12, 25, 10), 10, CAL_, bj(2027, 1, 5), id="into-2027-monday"),
        pytest.param(bj(2026, 12, 28, 10), 5, WORK, bj(2027, 1, 6), id="into-2027-working"),
        # Spring Festival 2026: rest 15-23 Feb, Saturdays 14 and 28 Feb are working days.
        pytest.param(bj(2026, 2, 13, 10), 1, WORK, bj(2026, 2, 15), id="spring-sat-14"),
        pytest.param(bj(2026, 2, 13, 10), 2, WORK, bj(2026, 2, 25), id="spring-skip-week"),
        pytest.param(bj(2026, 2, 12, 10), 10, WORK, bj(2026, 3, 5), id="spring-10-working"),
        pytest.param(bj(2026, 2, 1, 10), 15, CAL_, bj(2026, 2, 25), id="spring-calendar"),
        pytest.param(bj(2026, 2, 13, 10), 15, CAL_, bj(2026, 3, 1), id="spring-ends-sat-28"),
        # Labour Day 2026 (1-5 May rest, Saturday 9 May working).
        pytest.param(bj(2026, 3, 2, 10), 60, CAL_, bj(2026, 5, 7), id="handle-into-labour-day"),
        pytest.param(bj(2026, 4, 30, 10), 2, WORK, bj(2026, 5, 8), id="labour-day-working"),
        # Hours run by the clock, holidays or not.
        pytest.param(bj(2026, 10, 1, 23, 30), 2, HOURS, bj(2026, 10, 2, 1, 30), id="hours-holiday"),
        pytest.param(bj(2026, 2, 16, 8), 24, HOURS, bj(2026, 2, 17, 8), id="hours-24"),
        pytest.param(bj(2026, 12, 31, 23), 2, HOURS, bj(2027, 1, 1, 1), id="hours-year-end"),
    ],
)
def test_due_at_table(start, length, kind, due):
    assert clocks.due_at(start, length, kind, CAL) == due


@pytest.mark.parametrize(
    ("start", "length", "kind", "due"),
    [
        # 16:30 UTC on 29 Sept is 00:30 on 30 Sept in Beijing: the Beijing date counts.
        pytest.param(
            dt.datetime(2026, 9, 29, 16, 30, tzinfo=UTC),
            15,
            CAL_,
            bj(2026, 10, 16),
            id="utc-after-bj-midnight",
        ),
        pytest.param(
            dt.datetime(2026, 9, 29, 15, 30, tzinfo=UTC),
            15,
            CAL_,
            bj(2026, 10, 15),
            id="utc-before-bj-midnight",
        ),
        pytest.param(bj(2026, 9, 29, 23, 59, 59), 5, WORK, bj(2026, 10, 13), id="bj-23:59"),
        pytest.param(bj(2026, 9, 30, 0, 0), 5, WORK, bj(2026, 10, 14), id="bj-00:00"),
        pytest.param(bj(2026, 9, 30, 23, 59, 59), 5, WORK, bj(2026, 10, 14), id="bj-end-of-day"),
        pytest.param(
            dt.datetime(2026, 9, 30, 0, 0, tzinfo=ZoneInfo("America/New_York")),
            5,
            WORK,
            bj(2026, 10, 14),
            id="new-york-is-noon-in-beijing",
        ),
    ],
)
def test_start_near_midnight_counts_the_beijing_date(start, length, kind, due):
    result = clocks.due_at(start, length, kind, CAL)
    assert result == due
    assert result.astimezone(clocks.LOCAL).time() == dt.time(0)


def test_due_at_refuses_a_naive_start():
    with pytest.raises(ValueError, match="timezone-aware"):
        clocks.due_at(dt.datetime(2026, 3, 2, 10), 15, CAL_, CAL)


def test_end_of_day_is_the_next_midnight_in_beijing():
    assert clocks.end_of_day(dt.date(2026, 12, 31)) == bj(2027, 1, 1)
    assert clocks.end_of_day(dt.date(2026, 12, 31)) == dt.datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert clocks.local_date(dt.datetime(2026, 12, 31, 16, tzinfo=UTC)) == dt.date(2027, 1, 1)


# ---------------------------------------------------------------- every configured clock

# Every entry of DEFAULT_CLOCKS started on Monday 2 March 2026 at 10:00 (no holiday before April).
EVERY_CLOCK = {
    "route": bj(2026, 3, 18),
    "accept": bj(2026, 3, 18),
    "object": bj(2026, 3, 10),  # 3, 4, 5, 6, 9 March
    "handle": bj(2026, 5, 7),  # 1 May is a holiday: 6 May
    "extension_max": bj(2026, 4, 2),
    "review_request": bj(2026, 4, 2),
    "review_decide": bj(2026, 4, 2),
    "rereview_request": bj(2026, 4, 2),
    "rereview_decide": bj(2026, 4, 2),
    "hotline_enquiry": bj(2026, 3, 5),
    "hotline_help": bj(2026, 3, 17),
    "hotline_suggestion": bj(2026, 3, 17),
    "hotline_complaint": bj(2026, 3, 24),
    "hotline_report": bj(2026, 3, 24),
    "hotline_emergency": bj(2026, 3, 2, 12),
    "hotline_outage": bj(2026, 3, 3, 10),
}


def test_every_default_clock_is_in_the_table():
    assert set(EVERY_CLOCK) == set(DEFAULT_CLOCKS)


@pytest.mark.parametrize(("name", "due"), sorted(EVERY_CLOCK.items()))
def test_every_default_clock(name, due):
    rule = DEFAULT_CLOCKS[name]
    assert rule.label
    assert clocks.rule_due_at(rule, bj(2026, 3, 2, 10), CAL) == due


@pytest.mark.parametrize(
    ("name", "length", "kind"),
    [
        ("route", 15, CAL_),
        ("accept", 15, CAL_),
        ("object", 5, WORK),
        ("handle", 60, CAL_),
        ("extension_max", 30, CAL_),
        ("review_request", 30, CAL_),
        ("review_decide", 30, CAL_),
        ("rereview_request", 30, CAL_),
        ("rereview_decide", 30, CAL_),
        ("hotline_enquiry", 2, WORK),
        ("hotline_help", 10, WORK),
        ("hotline_suggestion", 10, WORK),
        ("hotline_complaint", 15, WORK),
        ("hotline_report", 15, WORK),
        ("hotline_emergency", 2, HOURS),
        ("hotline_outage", 24, HOURS),
    ],
)
def test_default_lengths_follow_the_rules(name, length, kind):
    assert (DEFAULT_CLOCKS[name].length, DEFAULT_CLOCKS[name].kind) == (length, kind)


def test_clock_table_overrides():
    table = clocks.clock_table(
        {"handle": {"length": 90}, "object": {"kind": "calendar", "length": 7}}
    )
    assert table["handle"].length == 90 and table["handle"].kind is CAL_
    assert table["handle"].label == "办理答复"
    assert (table["object"].length, table["object"].kind) == (7, CAL_)
    assert table["route"] == DEFAULT_CLOCKS["route"]
    # The defaults themselves are never changed.
    assert DEFAULT_CLOCKS["handle"].length == 60
    assert clocks.clock_table(None) == DEFAULT_CLOCKS
    assert clocks.clock_table({}) == DEFAULT_CLOCKS


def test_clock_table_refuses_unknown_names_and_kinds():
    with pytest.raises(KeyError, match="未知的时限名称"):
        clocks.clock_table({"hande": {"length": 90}})
    with pytest.raises(ValueError, match="weeks"):
        clocks.clock_table({"handle": {"kind": "weeks"}})


def test_configured_lengths_reach_the_selector(settings):
    from xinfang.cases.selectors import clock_rules

    settings.XINFANG_CLOCKS = {"handle": {"length": 90}}
    assert clock_rules()["handle"].length == 90
    settings.XINFANG_CLOCKS = {"nonsense": {"length": 1}}
    with pytest.raises(KeyError):
        clock_rules()


# ---------------------------------------------------------------- pauses


@pytest.mark.parametrize(
    ("pauses", "days"),
    [
        ([], 0),
        ([Pause(bj(2026, 3, 5, 9), bj(2026, 3, 5, 17), "听证")], 1),
        ([Pause(bj(2026, 3, 5, 9), bj(2026, 3, 8, 17), "鉴定")], 4),
        ([Pause(bj(2026, 3, 5, 9), None, "听证")], 0),
        (
            [
                Pause(bj(2026, 3, 5, 9), bj(2026, 3, 5, 17), "听证"),
                Pause(bj(2026, 3, 10, 9), bj(2026, 3, 12, 9), "鉴定"),
                Pause(bj(2026, 3, 20, 9), None, "听证"),
            ],
            4,
        ),
        # UTC times that fall on one Beijing date count once.
        (
            [
                Pause(
                    dt.datetime(2026, 3, 4, 17, tzinfo=UTC),
                    dt.datetime(2026, 3, 5, 15, tzinfo=UTC),
                    "听证",
                )
            ],
            1,
        ),
        # Across the year end.
        ([Pause(bj(2026, 12, 30, 9), bj(2027, 1, 2, 9), "鉴定")], 4),
    ],
)
def test_paused_days(pauses, days):
    assert clocks.paused_days(pauses) == days


@pytest.mark.parametrize(
    ("start", "length", "kind", "paused", "due"),
    [
        (bj(2026, 9, 16, 10), 15, CAL_, 0, bj(2026, 10, 9)),
        (bj(2026, 9, 16, 10), 15, CAL_, 2, bj(2026, 10, 9)),  # 3 Oct is still a holiday
        (bj(2026, 9, 16, 10), 15, CAL_, 8, bj(2026, 10, 10)),  # 9 Oct
        (bj(2026, 9, 30, 10), 5, WORK, 1, bj(2026, 10, 15)),  # one more working day
        (bj(2026, 3, 2, 10), 2, HOURS, 3, bj(2026, 3, 2, 12)),  # hours clocks do not pause by days
    ],
)
def test_paused_days_extend_the_clock(start, length, kind, paused, due):
    assert clocks.due_at(start, length, kind, CAL, paused_days=paused) == due


# ---------------------------------------------------------------- due state


DUE = bj(2026, 10, 14)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (DUE - dt.timedelta(days=10), DueState.RUNNING),
        (DUE - dt.timedelta(days=3, microseconds=1), DueState.RUNNING),
        (DUE - dt.timedelta(days=3), DueState.DUE_SOON),
        (DUE - dt.timedelta(microseconds=1), DueState.DUE_SOON),
        (DUE, DueState.OVERDUE),
        (DUE + dt.timedelta(days=40), DueState.OVERDUE),
    ],
)
def test_due_state_boundaries(now, state):
    assert clocks.due_state(DUE, now, warn_days=3) is state


def test_due_state_without_a_clock_and_with_no_warning():
    assert clocks.due_state(None, DUE, warn_days=3) is DueState.NONE
    assert clocks.due_state(DUE, DUE - dt.timedelta(seconds=1), warn_days=0) is DueState.RUNNING
    assert clocks.warn_at(DUE, 3) == bj(2026, 10, 11)
    assert clocks.DUE_STATE_LABELS[DueState.OVERDUE] == "已超期"
    assert clocks.DUE_STATE_LABELS[DueState.DUE_SOON] == "即将到期"
