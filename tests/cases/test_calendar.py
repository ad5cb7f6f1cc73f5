"""The working-day calendar (工作日): holidays, swapped working weekends (调休), admin overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from xinfang.cases.calendar import (
    NOTICE_EXAMPLE,
    NoticeError,
    WorkCalendar,
    parse_notice,
    unknown_years,
)
from xinfang.cases.models import HolidayOverride
from xinfang.cases.selectors import work_calendar

D = dt.date
CAL = WorkCalendar()


# ---------------------------------------------------------------- the official 2026 calendar


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        # Swapped working Saturdays (调休上班) of 2026.
        (D(2026, 2, 14), True),
        (D(2026, 2, 28), True),
        (D(2026, 5, 9), True),
        (D(2026, 10, 10), True),
        # A swapped working Sunday: 4 January and 20 September.
        (D(2026, 1, 4), True),
        (D(2026, 9, 20), True),
        # National Day week: 1 to 7 October are rest days, weekdays included.
        *[(D(2026, 10, d), False) for d in range(1, 8)],
        (D(2026, 10, 8), True),
        # Spring Festival: 15 to 23 February.
        *[(D(2026, 2, d), False) for d in range(15, 24)],
        (D(2026, 2, 24), True),
        # New Year, Labour Day, Qingming.
        (D(2026, 1, 1), False),
        (D(2026, 1, 2), False),
        (D(2026, 5, 1), False),
        (D(2026, 5, 5), False),
        (D(2026, 4, 6), False),
        # Ordinary weekdays and weekends.
        (D(2026, 3, 2), True),
        (D(2026, 3, 6), True),
        (D(2026, 3, 7), False),
        (D(2026, 3, 8), False),
        (D(2026, 11, 28), False),
    ],
)
def test_official_2026_calendar(day, workday):
    assert CAL.is_workday(day) is workday
    assert CAL.is_rest_day(day) is (not workday)


def test_plain_weekends_are_rest_days_unless_swapped():
    saturdays = [D(2026, 1, 3) + dt.timedelta(weeks=w) for w in range(52)]
    working = {d for d in saturdays if CAL.is_workday(d)}
    assert working == {D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 10, 10)}


def test_known_years():
    assert WorkCalendar.is_known_year(2026)
    assert WorkCalendar.is_known_year(2005)
    assert not WorkCalendar.is_known_year(2027)


# ---------------------------------------------------------------- counting helpers


def test_next_workday_on_or_after():
    assert CAL.next_workday_on_or_after(D(2026, 10, 1)) == D(2026, 10, 8)
    assert CAL.next_workday_on_or_after(D(2026, 10, 8)) == D(2026, 10, 8)
    assert CAL.next_workday_on_or_after(D(2026, 2, 15)) == D(2026, 2, 24)
    assert CAL.next_workday_on_or_after(D(2026, 10, 11)) == D(2026, 10, 12)


def test_add_workdays_skips_holidays_and_counts_swapped_saturdays():
    # The worked example: 5 working days from 30 Sept are 8, 9, 10 (Sat), 12, 13 Oct.
    assert CAL.add_workdays(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert CAL.add_workdays(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert CAL.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert CAL.add_workdays(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_workdays_between_is_half_open():
    assert CAL.workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert CAL.workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert CAL.workdays_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert CAL.workdays_between(D(2026, 3, 1), D(2026, 3, 2)) == 1


# ---------------------------------------------------------------- years the library does not know


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2027, 1, 1), False),  # fixed-date New Year
        (D(2027, 5, 1), False),  # Labour Day, a Saturday anyway
        (D(2027, 5, 3), True),  # not a fixed-date holiday: a plain Monday
        (D(2027, 10, 1), False),
        (D(2027, 10, 2), False),
        (D(2027, 10, 3), False),
        (D(2027, 10, 4), True),
        (D(2027, 10, 9), False),  # Saturday
        (D(2027, 10, 10), False),  # Sunday
        (D(2027, 6, 1), True),
        (D(2030, 12, 25), True),
        (D(2030, 12, 28), False),
    ],
)
def test_unknown_years_fall_back_to_weekends_and_fixed_holidays(day, workday):
    assert not WorkCalendar.is_known_year(day.year)
    assert CAL.is_workday(day) is workday


# ---------------------------------------------------------------- overrides


def test_overrides_win_over_the_library_and_the_fallback():
    cal = WorkCalendar(
        overrides={
            D(2026, 10, 10): False,  # a swapped Saturday cancelled
            D(2026, 10, 5): True,  # a holiday turned into a working day
            D(2027, 2, 6): True,  # a 2027 Saturday declared a working day
            D(2027, 2, 8): False,  # a 2027 Monday declared a holiday
        }
    )
    assert cal.is_workday(D(2026, 10, 10)) is False
    assert cal.is_workday(D(2026, 10, 5)) is True
    assert cal.is_workday(D(2027, 2, 6)) is True
    assert cal.is_workday(D(2027, 2, 8)) is False
    # Days without an override are untouched.
    assert cal.is_workday(D(2026, 10, 9)) is True
    assert cal.is_workday(D(2027, 2, 9)) is True


@pytest.mark.django_db
def test_override_table_feeds_the_calendar_and_clears_the_cache_on_save():
    assert work_calendar().is_workday(D(2027, 2, 8)) is True
    row = HolidayOverride.objects.create(date=D(2027, 2, 8), is_workday=False, note="2027年春节")
    assert work_calendar().is_workday(D(2027, 2, 8)) is False
    row.is_workday = True
    row.save()
    assert work_calendar().is_workday(D(2027, 2, 8)) is True
    row.delete()
    assert work_calendar().overrides == {}


@pytest.mark.django_db
def test_override_table_beats_the_library_for_a_known_year():
    assert work_calendar().is_workday(D(2026, 10, 10)) is True
    HolidayOverride.objects.create(date=D(2026, 10, 10), is_workday=False)
    HolidayOverride.objects.create(date=D(2026, 10, 3), is_workday=True)
    cal = work_calendar()
    assert cal.is_workday(D(2026, 10, 10)) is False
    assert cal.is_workday(D(2026, 10, 3)) is True
    assert cal.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 3)


@pytest.mark.django_db
def test_work_calendar_is_cached_between_edits(django_assert_num_queries):
    work_calendar()
    with django_assert_num_queries(0):
        work_calendar()
        work_calendar()


# ---------------------------------------------------------------- the year's notice, as text


@pytest.mark.parametrize(
    ("text", "rest", "work"),
    [
        ("春节 放假 2027-02-06 至 2027-02-08", [D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)], []),
        ("放假 2027/2/6 ~ 2027/2/7", [D(2027, 2, 6), D(2027, 2, 7)], []),
        (
            "国庆节：放假 2027年10月1日至10月3日",
            [D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)],
            [],
        ),
        ("2027年\n春节 放假 2月6日至8日", [D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8)], []),
        ("调休上班 2027-02-20、2027-02-27", [], [D(2027, 2, 20), D(2027, 2, 27)]),
        ("补班 2027-02-20, 2027-02-27", [], [D(2027, 2, 20), D(2027, 2, 27)]),
        ("# 注释\n\n元旦 放假 2027-01-01\n上班 2027-01-04", [D(2027, 1, 1)], [D(2027, 1, 4)]),
        ("年份：2027\n调休上班 2月20日", [], [D(2027, 2, 20)]),
    ],
)
def test_notice_lines_are_read_as_rest_and_working_days(text, rest, work):
    notice = parse_notice(text)
    assert sorted(d for d, w in notice.days.items() if not w) == rest
    assert sorted(d for d, w in notice.days.items() if w) == work
    assert notice.years == [2027]


def test_notice_notes_name_the_holiday_or_the_title():
    notice = parse_notice("春节 放假 2027-02-06\n调休上班 2027-02-20", title="国办通知")
    assert notice.notes == {D(2027, 2, 6): "春节", D(2027, 2, 20): "国办通知"}
    assert parse_notice("放假 2027-02-06").notes[D(2027, 2, 6)] == "2027年节假日安排"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("春节 2027-02-06", "第1行：请写明“放假”或“调休上班”"),
        ("放假 2027-02-30", "第1行：日期“2027-02-30”不存在"),
        ("放假 二月六日", "第1行：无法识别的日期“二月六日”，请写成 2027-02-11"),
        ("放假 2月6日", "第1行：日期“2月6日”缺少年份"),
        ("放假 2027-03-01 至 2027-02-01", "第1行：结束日期2027-02-01早于开始日期2027-03-01"),
        ("放假 2027-01-01 至 2027-03-01", "第1行：日期段超过31天，请检查"),
        (
            "放假 2027-02-06\n调休上班 2027-02-06",
            "第2行：2027-02-06在第1行已写为放假，不能同时上班",
        ),
        ("# 只有注释", "没有读到任何日期"),
        ("放假", "第1行：缺少日期"),
    ],
)
def test_a_bad_notice_is_refused_naming_the_line(text, problem):
    with pytest.raises(NoticeError) as err:
        parse_notice(text)
    assert problem in err.value.problems


def test_every_bad_line_is_named_at_once():
    with pytest.raises(NoticeError) as err:
        parse_notice("x\n放假 2027-02-06\n放假 2027-13-01")
    assert [p[:3] for p in err.value.problems] == ["第1行", "第3行"]


def test_the_example_notice_parses():
    assert parse_notice(NOTICE_EXAMPLE).years == [2027]


def test_unknown_years_leave_out_library_and_entered_years():
    assert unknown_years([2025, 2026, 2027, 2028]) == [2027, 2028]
    assert unknown_years([2026, 2027, 2028], confirmed=[2027]) == [2028]
