"""A deadline is shown as its last day everywhere, never as 00:00 of the day after (issue 9, #12),
and a holiday year the calendar does not know is flagged, entered, and followed by every open
clock (issue 9, #13).

The worked example: a clock that started on Thursday 3 December 2026 and runs 15 calendar days
ends on Friday 18 December, a working day; it is stored as 2026-12-19 00:00 Beijing time.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from docx import Document

from tests.factories import PASSWORD, bj, register
from tests.reception.helpers import frozen, make_leaders
from xinfang.api.services import api_token_issue
from xinfang.cases import clocks, deadlines, holidays, notices, services
from xinfang.cases.calendar import WorkCalendar, parse_notice
from xinfang.cases.models import Case, CaseEvent, HolidayOverride
from xinfang.ledger import exporting
from xinfang.portal import selectors as portal
from xinfang.reception import services as reception

D = dt.date
CAL = WorkCalendar()
DUE = bj(2026, 12, 19)  # 24:00 of Friday 18 December 2026


@pytest.fixture
def leaders(county):
    return make_leaders(county)


# ---------------------------------------------------------------- the one formatter


def test_a_deadline_at_24_00_is_shown_as_its_last_day():
    assert deadlines.last_day(DUE) == D(2026, 12, 18)
    assert deadlines.format_deadline(DUE) == "2026-12-18 24:00"
    assert deadlines.format_last_day(DUE) == "2026-12-18"
    assert deadlines.cn_last_day(DUE) == "2026年12月18日"
    # The same instant in UTC (how it is stored) is the same last day.
    assert deadlines.format_deadline(DUE.astimezone(dt.UTC)) == "2026-12-18 24:00"
    # A clock in hours ends at a time of day and is shown with it.
    assert deadlines.format_deadline(bj(2026, 12, 18, 15, 30)) == "2026-12-18 15:30"
    assert deadlines.last_day(bj(2026, 12, 18, 15, 30)) == D(2026, 12, 18)
    assert deadlines.format_deadline(None) == "—"
    assert deadlines.format_deadline(None, empty="") == ""


def test_template_filters_use_the_same_formatter():
    page = Template(
        '{% load xinfang %}{{ due|deadline }}|{{ due|last_day|date:"Y-m-d" }}|{{ due|cn_deadline }}'
    )
    assert page.render(Context({"due": DUE})) == "2026-12-18 24:00|2026-12-18|2026年12月18日"


@pytest.mark.parametrize(
    ("asked", "day", "note"),
    [
        (D(2026, 12, 18), D(2026, 12, 18), ""),  # a Friday: kept
        (D(2026, 12, 19), D(2026, 12, 21), "原定2026年12月19日为休息日，顺延至2026年12月21日"),
        (D(2026, 10, 1), D(2026, 10, 8), "原定2026年10月1日为休息日，顺延至2026年10月8日"),
        (D(2026, 10, 10), D(2026, 10, 10), ""),  # a swapped working Saturday (调休上班)
    ],
)
def test_an_explicit_date_on_a_rest_day_moves_to_the_next_working_day_with_a_note(asked, day, note):
    explicit = deadlines.explicit_last_day(asked, CAL)
    assert (explicit.day, explicit.note, explicit.moved) == (day, note, day != asked)
    assert explicit.due_at == clocks.end_of_day(day)


# ---------------------------------------------------------------- every place that prints one


def _instruction(county, people, leaders, **kw):
    with frozen(2026, 12, 3, 10):
        record = reception.record_create(
            office=county.office,
            by=people.clerk,
            held_at=bj(2026, 12, 3, 10),
            leader=leaders.director,
        )
        return record, reception.instruction_add(
            record=record,
            by=people.clerk,
            text="责成人社局查明欠薪情况",
            owner_unit=county.hr,
            **kw,
        )


def test_instruction_list_and_reception_record_show_the_last_day(county, people, leaders, client):
    record, instruction = _instruction(county, people, leaders)
    assert instruction.deadline == DUE and instruction.deadline_note == ""
    client.login(username=people.clerk.username, password=PASSWORD)
    with frozen(2026, 12, 4, 9):
        pages = [
            client.get(reverse("reception:instructions")).content.decode(),
            client.get(reverse("reception:record", args=[record.pk])).content.decode(),
        ]
    for page in pages:
        assert "2026-12-18" in page
        assert "2026-12-19" not in page


def test_an_instruction_date_on_a_rest_day_moves_and_says_so(county, people, leaders, client):
    record, instruction = _instruction(county, people, leaders, deadline_date=D(2026, 12, 19))
    assert instruction.deadline == bj(2026, 12, 22)  # Monday 21 December, 24:00
    assert instruction.deadline_note == "原定2026年12月19日为休息日，顺延至2026年12月21日"
    client.login(username=people.clerk.username, password=PASSWORD)
    with frozen(2026, 12, 4, 9):
        page = client.get(reverse("reception:record", args=[record.pk])).content.decode()
    assert "2026-12-21" in page and "原定2026年12月19日为休息日，顺延至2026年12月21日" in page


def test_the_form_says_where_the_instruction_date_moved(county, people, leaders, client):
    record, _ = _instruction(county, people, leaders)
    client.login(username=people.clerk.username, password=PASSWORD)
    with frozen(2026, 12, 4, 9):
        response = client.post(
            reverse("reception:record", args=[record.pk]),
            {
                "submit-instruct": "1",
                "instruct-text": "月中前办结",
                "instruct-owner_unit": county.hr.pk,
                "instruct-deadline_date": "2026-12-19",
            },
            follow=True,
        )
    page = response.content.decode()
    assert "办理期限至2026年12月21日（原定2026年12月19日为休息日，顺延至2026年12月21日）" in page


def test_ledger_export_cell_shows_the_last_day(county, people):
    with frozen(2026, 12, 4, 9):
        case = register(county, people.clerk, bj(2026, 12, 3, 10))
        assert case.due_at == DUE
        header = [name for name, _ in exporting.EXPORT_COLUMNS]
        row = dict(
            zip(
                header,
                next(iter(exporting.export_rows(Case.objects.all(), user=people.clerk))),
                strict=True,
            )
        )
    assert row["到期时间"] == "2026-12-18 24:00"


def test_api_gives_the_last_day_as_a_date(county, people, client):
    with frozen(2026, 12, 4, 9):
        case = register(county, people.clerk, bj(2026, 12, 3, 10))
        token = api_token_issue(user=people.clerk, name="test")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        detail = client.get(f"/api/cases/{case.pk}", **auth)
        queue = client.get("/api/cases", **auth)
    assert detail.status_code == 200, detail.content
    body = detail.json()
    assert body["due_last_day"] == "2026-12-18"
    assert body["due_at"] == "2026-12-19T00:00:00+08:00"  # the instant itself stays for clients
    items = [i for i in queue.json()["items"] if i["id"] == case.pk]
    assert items and items[0]["due_last_day"] == "2026-12-18"


def test_acceptance_notice_names_the_last_day(county, people):
    # Accepted Monday 19 October 2026: 60 days end on Friday 18 December.
    case = register(county, people.clerk, bj(2026, 10, 9, 10))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 10, 12, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 10, 19, 9))
    assert case.due_at == DUE
    doc = Document(io.BytesIO(notices.render_notice(case, "accept", viewer=notices.PETITIONER)))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "2026年12月18日" in body and "2026年12月19日" not in body


# ---------------------------------------------------------------- unknown holiday years

NOTICE_2027 = """# 2027年部分节假日安排（测试用）
元旦 放假 2027-01-01 至 2027-01-03
春节 放假 2027-02-06 至 2027-02-14
春节 调休上班 2027-02-20
"""


def _accepted_on(county, people, day: dt.datetime) -> Case:
    case = register(county, people.clerk, day - dt.timedelta(days=2))
    case = services.case_route(
        case=case, by=people.clerk, unit=county.hr, at=day - dt.timedelta(days=1)
    )
    return services.case_accept(case=case, by=people.officer, at=day)


def test_check_lists_open_clocks_that_run_into_an_unknown_year(county, people):
    with time_machine.travel(bj(2026, 12, 10, 9), tick=False):
        # Accepted 10 December 2026: 60 days end on Monday 8 February 2027.
        case = _accepted_on(county, people, bj(2026, 12, 10, 9))
        assert deadlines.last_day(case.due_at) == D(2027, 2, 8)
        out = io.StringIO()
        with pytest.raises(SystemExit) as exit_:
            call_command("calendar", "check", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert "2027年节假日安排尚未录入" in text
    assert "1个进行中的时限已进入2027年" in text
    assert case.number in text


def test_check_passes_when_nothing_runs_into_an_unknown_year(county, people):
    with time_machine.travel(bj(2026, 6, 1, 9), tick=False):
        register(county, people.clerk, bj(2026, 6, 1, 9))
        out = io.StringIO()
        call_command("calendar", "check", stdout=out)
    assert "节假日安排齐全" in out.getvalue()


def test_admins_see_a_banner_others_do_not(county, people, client):
    with time_machine.travel(bj(2026, 12, 10, 9), tick=False):
        _accepted_on(county, people, bj(2026, 12, 10, 9))
        client.login(username=people.admin.username, password=PASSWORD)
        admin_page = client.get(reverse("cases:queue")).content.decode()
        client.logout()
        client.login(username=people.clerk.username, password=PASSWORD)
        clerk_page = client.get(reverse("cases:queue")).content.decode()
    assert "2027年节假日安排尚未录入" in admin_page and 'id="calendar-banner"' in admin_page
    assert "calendar-banner" not in clerk_page


def test_loading_the_notice_moves_open_deadlines_later_with_an_event(county, people, tmp_path):
    with time_machine.travel(bj(2026, 12, 10, 9), tick=False):
        case = _accepted_on(county, people, bj(2026, 12, 10, 9))
        # 8 February 2027 becomes a Spring Festival rest day: the last day moves to 15 February.
        path = tmp_path / "2027.txt"
        path.write_text(NOTICE_2027, encoding="utf-8")
        out = io.StringIO()
        call_command("calendar", "load", str(path), stdout=out)
        case.refresh_from_db()
        assert deadlines.last_day(case.due_at) == D(2027, 2, 15)
        event = CaseEvent.objects.get(case=case, kind=holidays.EVENT_KIND)
        assert event.public
        assert event.details["old_last_day"] == "2027-02-08"
        assert event.details["new_last_day"] == "2027-02-15"
        assert event.details["note"] == "因节假日调整，期限由2027年2月8日顺延至2027年2月15日"
        assert f"{case.number} 期限由2027-02-08顺延至2027-02-15" in out.getvalue()
        # The year is now entered: the check passes, and loading it again changes nothing.
        assert holidays.entered_years() == {2027}
        check = io.StringIO()
        call_command("calendar", "check", stdout=check)
        assert "节假日安排齐全" in check.getvalue()
        holidays.notice_load(notice=parse_notice(NOTICE_2027))
        assert CaseEvent.objects.filter(kind=holidays.EVENT_KIND).count() == 1
        # The citizen's page shows the later day.
        events = list(case.events.filter(public=True))
        entries = portal.public_timeline(case, events)
        assert any(
            e.title == "因节假日调整，期限顺延" and "新的期限：2027年2月15日" in e.lines
            for e in entries
        )


def test_a_deadline_never_moves_earlier_than_the_one_already_set(county, people):
    with time_machine.travel(bj(2026, 12, 22, 9), tick=False):
        # Accepted 22 December 2026: 60 days end on Saturday 20 February 2027, a rest day on the
        # fallback calendar, so on Monday 22 February.
        case = _accepted_on(county, people, bj(2026, 12, 22, 9))
        assert deadlines.last_day(case.due_at) == D(2027, 2, 22)
        # The notice makes 20 February a working Saturday (调休上班): the count now ends earlier.
        result = holidays.notice_load(notice=parse_notice(NOTICE_2027))
        case.refresh_from_db()
    assert deadlines.last_day(case.due_at) == D(2027, 2, 22)
    assert [(c.number, c.kept, c.new_day) for c in result.changes] == [
        (case.number, True, D(2027, 2, 20))
    ]
    assert not CaseEvent.objects.filter(case=case, kind=holidays.EVENT_KIND).exists()
    assert "保持原期限不变" in result.summary()


def test_clocks_untouched_by_the_changed_days_are_left_alone(county, people):
    with time_machine.travel(bj(2026, 12, 3, 10), tick=False):
        case = register(county, people.clerk, bj(2026, 12, 3, 10))  # ends 18 December 2026
        version = case.version
        holidays.notice_load(notice=parse_notice(NOTICE_2027))
        case.refresh_from_db()
    assert case.due_at == DUE and case.version == version


def test_an_admin_enters_the_notice_in_one_form(county, people, client):
    with time_machine.travel(bj(2026, 12, 10, 9), tick=False):
        case = _accepted_on(county, people, bj(2026, 12, 10, 9))
        client.login(username=people.admin.username, password=PASSWORD)
        url = reverse("admin:cases_holidayoverride_notice")
        form = client.get(url)
        assert form.status_code == 200 and "2027年节假日安排尚未录入" in form.content.decode()
        bad = client.post(url, {"text": "春节 2027-02-06", "title": ""})
        assert bad.status_code == 200 and "请写明“放假”或“调休上班”" in bad.content.decode()
        assert not HolidayOverride.objects.exists()
        done = client.post(url, {"text": NOTICE_2027, "title": "国务院办公厅通知"}, follow=True)
        assert "已录入2027年节假日安排13天，1个进行中的期限已顺延" in done.content.decode()
        case.refresh_from_db()
        assert deadlines.last_day(case.due_at) == D(2027, 2, 15)
        client.logout()
        client.login(username=people.clerk.username, password=PASSWORD)
        assert client.get(url).status_code in (302, 403)


def test_an_admin_override_edit_recomputes_the_clocks_it_touches(county, people, client):
    with time_machine.travel(bj(2026, 12, 10, 9), tick=False):
        case = _accepted_on(county, people, bj(2026, 12, 10, 9))
        client.login(username=people.admin.username, password=PASSWORD)
        response = client.post(
            reverse("admin:cases_holidayoverride_add"),
            {"date": "2027-02-08", "is_workday": "", "note": "春节"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        case.refresh_from_db()
    assert deadlines.last_day(case.due_at) == D(2027, 2, 9)
    event = CaseEvent.objects.get(case=case, kind=holidays.EVENT_KIND)
    assert event.actor == people.admin
    assert (event.details["old_last_day"], event.details["new_last_day"]) == (
        "2027-02-08",
        "2027-02-09",
    )


def test_the_objection_window_follows_the_notice_too(county, people):
    """5 working days from a routing on Thursday 4 February 2027: on the fallback calendar the
    window ends on 11 February; with the Spring Festival (6-14 February) it ends on the 18th."""
    with time_machine.travel(bj(2027, 2, 4, 10), tick=False):
        case = register(county, people.clerk, bj(2027, 2, 4, 9))
        case = services.case_route(
            case=case, by=people.clerk, unit=county.hr, at=bj(2027, 2, 4, 10)
        )
        assert deadlines.last_day(case.object_due_at) == D(2027, 2, 11)
        holidays.notice_load(notice=parse_notice(NOTICE_2027))
        case.refresh_from_db()
    assert deadlines.last_day(case.object_due_at) == D(2027, 2, 18)
    event = CaseEvent.objects.get(case=case, kind=holidays.EVENT_KIND, details__clock="object")
    assert (
        not event.public
        and event.details["note"] == "因节假日调整，异议期限由2027年2月11日顺延至2027年2月18日"
    )


@pytest.mark.parametrize("day", [dt.date(9999, 12, 31), dt.date(9999, 12, 25), dt.date(3000, 1, 1)])
def test_a_typed_deadline_beyond_the_calendar_is_refused_in_chinese(day):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="期限不能晚于"):
        deadlines.explicit_last_day(day, WorkCalendar())


def test_a_far_instruction_deadline_is_refused_before_anything_is_written(county, people, leaders):
    from django.core.exceptions import ValidationError

    from xinfang.reception.models import Instruction

    with pytest.raises(ValidationError, match="期限不能晚于"):
        _instruction(county, people, leaders, deadline_date=D(9999, 12, 31))
    assert not Instruction.objects.exists()
