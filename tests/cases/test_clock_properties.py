"""Properties every clock must keep, for any start, length, pause and holiday override."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from xinfang.cases import clocks
from xinfang.cases.calendar import WorkCalendar
from xinfang.cases.clocks import LOCAL, DayKind

OFFICIAL = WorkCalendar()
DAY_KINDS = st.sampled_from([DayKind.CALENDAR, DayKind.WORKING])

# Starts from 2005 (known to the library) to 2030 (fallback years), at any instant of the day,
# in Beijing time or in UTC.
starts = st.datetimes(
    min_value=dt.datetime(2005, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.sampled_from([LOCAL, dt.UTC]),
)
lengths = st.integers(min_value=1, max_value=90)
pause_days = st.integers(min_value=0, max_value=60)


@st.composite
def calendars(draw) -> WorkCalendar:
    """The official calendar, sometimes with admin overrides sprinkled over it."""
    days = draw(
        st.dictionaries(
            st.dates(min_value=dt.date(2005, 1, 1), max_value=dt.date(2031, 6, 30)),
            st.booleans(),
            max_size=40,
        )
    )
    return WorkCalendar(overrides=days)


def _last_day(due: dt.datetime) -> dt.date:
    """The last day the clock runs (the due instant is 24:00 of that day)."""
    return (due.astimezone(LOCAL) - dt.timedelta(microseconds=1)).date()


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, kind=DAY_KINDS, cal=calendars(), paused=pause_days)
def test_day_clocks_end_at_beijing_midnight_on_a_working_day(start, length, kind, cal, paused):
    due = clocks.due_at(start, length, kind, cal, paused)
    local = due.astimezone(LOCAL)
    assert local.time() == dt.time(0)
    assert cal.is_workday(_last_day(due))
    assert due > start


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, cal=calendars())
def test_working_day_clock_counts_exactly_length_working_days(start, length, cal):
    due = clocks.due_at(start, length, DayKind.WORKING, cal)
    first = clocks.local_date(start)
    assert cal.workdays_between(first, _last_day(due)) == length


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, cal=calendars())
def test_calendar_clock_moves_only_past_rest_days(start, length, cal):
    due = clocks.due_at(start, length, DayKind.CALENDAR, cal)
    first = clocks.local_date(start)
    nominal = first + dt.timedelta(days=length)
    last = _last_day(due)
    assert last >= nominal
    # Every day skipped between the nominal end and the real one is a rest day.
    skipped = [nominal + dt.timedelta(days=i) for i in range((last - nominal).days)]
    assert all(cal.is_rest_day(day) for day in skipped)


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, extra=st.integers(1, 30), kind=DAY_KINDS, cal=calendars())
def test_longer_clocks_never_end_earlier(start, length, extra, kind, cal):
    assert clocks.due_at(start, length + extra, kind, cal) >= clocks.due_at(
        start, length, kind, cal
    )


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=400)),
    length=lengths,
    kind=DAY_KINDS,
    cal=calendars(),
)
def test_later_starts_never_end_earlier(start, later, length, kind, cal):
    assert clocks.due_at(start + later, length, kind, cal) >= clocks.due_at(
        start, length, kind, cal
    )


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    length=lengths,
    kind=DAY_KINDS,
    paused=pause_days,
    more=st.integers(1, 30),
    cal=calendars(),
)
def test_pauses_never_shorten_a_clock(start, length, kind, paused, more, cal):
    base = clocks.due_at(start, length, kind, cal)
    with_pause = clocks.due_at(start, length, kind, cal, paused)
    assert with_pause >= base
    assert clocks.due_at(start, length, kind, cal, paused + more) >= with_pause


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, kind=st.sampled_from(list(DayKind)), paused=pause_days)
def test_clocks_are_deterministic(start, length, kind, paused):
    first = clocks.due_at(start, length, kind, OFFICIAL, paused)
    again = clocks.due_at(start, length, kind, WorkCalendar(), paused)
    assert first == again
    # The same instant written in another time zone gives the same deadline.
    assert clocks.due_at(start.astimezone(dt.UTC), length, kind, OFFICIAL, paused) == first


@settings(max_examples=150, deadline=None)
@given(start=starts, hours=st.integers(1, 24 * 30))
def test_hours_clocks_run_by_the_clock(start, hours):
    due = clocks.due_at(start, hours, DayKind.HOURS, OFFICIAL)
    assert due - start == dt.timedelta(hours=hours)


@settings(max_examples=150, deadline=None)
@given(start=starts, length=lengths, kind=DAY_KINDS)
def test_due_state_is_monotonic_in_time(start, length, kind):
    due = clocks.due_at(start, length, kind, OFFICIAL)
    order = [clocks.DueState.RUNNING, clocks.DueState.DUE_SOON, clocks.DueState.OVERDUE]
    moments = [
        start,
        clocks.warn_at(due, 3),
        due - dt.timedelta(seconds=1),
        due,
        due + dt.timedelta(days=1),
    ]
    states = [clocks.due_state(due, m, 3) for m in moments]
    ranks = [order.index(s) for s in states]
    assert ranks == sorted(ranks)
    assert states[-2:] == [clocks.DueState.OVERDUE, clocks.DueState.OVERDUE]
