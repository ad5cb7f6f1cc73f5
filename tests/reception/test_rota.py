"""The reception rota (接访排班): working days only, round-robin, gaps warned, an ICS feed."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tests.factories import PASSWORD
from tests.reception.helpers import d, frozen, make_leaders, parse_ics, unescape
from xinfang.cases.models import HolidayOverride
from xinfang.reception import ics, selectors, services
from xinfang.reception.models import RotaDay
from xinfang.reception.services import Leader


@pytest.fixture
def leaders(county):
    return make_leaders(county)


def fill(county, by, start, end, *people):
    return services.rota_fill(
        office=county.office,
        by=by,
        start=d(start),
        end=d(end),
        leaders=[Leader(user=p) if not isinstance(p, str) else Leader(name=p) for p in people],
    )


def test_the_rota_holds_only_working_days_including_swapped_saturdays(county, people, leaders):
    days = fill(county, people.clerk, "2026-09-28", "2026-10-12", leaders.director)
    dates = [day.date for day in days]
    # 1-7 Oct are the National Day holiday; Saturday 10 Oct is a swapped working day (调休).
    assert dates == [
        d("2026-09-28"),
        d("2026-09-29"),
        d("2026-09-30"),
        d("2026-10-08"),
        d("2026-10-09"),
        d("2026-10-10"),
        d("2026-10-12"),
    ]
    with pytest.raises(ValidationError) as err:
        services.rota_day_set(
            office=county.office, by=people.clerk, date=d("2026-10-03"), leader=leaders.director
        )
    assert "不是工作日" in str(err.value)
    day = services.rota_day_set(
        office=county.office, by=people.clerk, date=d("2026-10-10"), leader=leaders.deputy
    )
    assert day.on_duty == "李副局长"


def test_round_robin_skips_rest_days_and_takes_named_leaders(county, people, leaders):
    days = fill(
        county,
        people.clerk,
        "2026-09-30",
        "2026-10-12",
        leaders.director,
        leaders.deputy,
        "王副县长",
    )
    assert [(day.date.isoformat(), day.on_duty) for day in days] == [
        ("2026-09-30", "张局长"),
        ("2026-10-08", "李副局长"),
        ("2026-10-09", "王副县长"),
        ("2026-10-10", "张局长"),
        ("2026-10-12", "李副局长"),
    ]
    assert RotaDay.objects.count() == 5
    # Refilling a range replaces those days, not adds to them.
    fill(county, people.clerk, "2026-10-08", "2026-10-09", leaders.deputy)
    assert RotaDay.objects.count() == 5
    assert RotaDay.objects.get(date=d("2026-10-08")).leader == leaders.deputy


def test_an_admin_override_turns_a_day_into_a_rest_day(county, people, leaders):
    HolidayOverride.objects.create(date=d("2026-10-09"), is_workday=False, note="临时调整")
    days = fill(county, people.clerk, "2026-10-08", "2026-10-10", leaders.director)
    assert [day.date for day in days] == [d("2026-10-08"), d("2026-10-10")]


def test_only_leaders_of_the_government_tree_may_receive(county, people, leaders):
    with pytest.raises(ValidationError) as err:
        fill(county, people.clerk, "2026-10-08", "2026-10-09", people.officer)
    assert "不是可安排接访的领导" in str(err.value)
    # A head or supervisor of the county's units may: the labour bureau's head, the supervisor.
    assert (
        len(fill(county, people.clerk, "2026-10-08", "2026-10-09", people.head, people.supervisor))
        == 2
    )


@pytest.mark.parametrize("who", ["officer", "outsider", "supervisor", "head"])
def test_only_the_office_clerks_and_leaders_manage_the_rota(county, people, leaders, who):
    with pytest.raises(PermissionDenied):
        fill(county, getattr(people, who), "2026-10-08", "2026-10-09", leaders.director)
    assert fill(county, leaders.director, "2026-10-08", "2026-10-09", leaders.deputy)


def test_a_gap_within_the_warning_window_is_warned(county, people, leaders, settings):
    fill(county, people.clerk, "2026-09-28", "2026-10-30", leaders.director, leaders.deputy)
    services.rota_day_clear(office=county.office, by=people.clerk, date=d("2026-10-13"))
    # From 28 Sept, the 10 working days are 28, 29, 30 Sept and 8, 9, 10, 12, 13, 14, 15 Oct.
    warnings = selectors.rota_warnings(county.office, start=d("2026-09-28"))
    assert [(w.date, w.reason) for w in warnings] == [(d("2026-10-13"), "未安排接访领导")]
    # With a 7-day window the 13th is not yet in sight.
    settings.XINFANG_ROTA_WARN_DAYS = 7
    assert selectors.rota_warnings(county.office, start=d("2026-09-28")) == []
    # No rota at all: every working day of the window is a gap.
    assert len(selectors.rota_warnings(county.town, start=d("2026-09-28"))) == 7


def test_an_absent_leader_without_substitute_is_warned_until_one_is_named(county, people, leaders):
    fill(county, people.clerk, "2026-10-08", "2026-10-20", leaders.director)
    services.rota_day_set(
        office=county.office,
        by=people.clerk,
        date=d("2026-10-09"),
        leader=leaders.director,
        leader_absent=True,
    )
    warnings = selectors.rota_warnings(county.office, start=d("2026-10-08"), days=5)
    assert [(w.date, w.reason) for w in warnings] == [
        (d("2026-10-09"), "张局长缺席且未安排替班领导")
    ]
    day = services.rota_day_set(
        office=county.office,
        by=people.clerk,
        date=d("2026-10-09"),
        leader=leaders.director,
        leader_absent=True,
        substitute=leaders.deputy,
    )
    assert day.on_duty == "李副局长"
    assert selectors.rota_warnings(county.office, start=d("2026-10-08"), days=5) == []


def test_rota_check_command_prints_the_gaps(county, people, leaders):
    fill(county, people.clerk, "2026-10-08", "2026-10-09", leaders.director)
    out = io.StringIO()
    with frozen(2026, 10, 8, 9):
        call_command("rota_check", "--days", "3", stdout=out)
    assert "XF430102 A1区信访局 2026-10-10 未安排接访领导" in out.getvalue()
    assert "共 1 个工作日无人接访" in out.getvalue()


def test_ics_feed_has_one_event_per_rota_day(county, people, leaders, client):
    fill(county, people.clerk, "2026-09-30", "2026-10-12", leaders.director, leaders.deputy)
    services.rota_day_set(
        office=county.office,
        by=people.clerk,
        date=d("2026-10-09"),
        leader=leaders.director,
        leader_absent=True,
        substitute=leaders.deputy,
        note="上午在县信访接待中心，下午带案下访；地点：东湖街道,二楼",
    )
    client.login(username="clerk", password=PASSWORD)
    with frozen(2026, 9, 29, 9):
        response = client.get(f"/reception/{county.office.code}/rota.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = parse_ics(response.content)
    starts = [e["DTSTART;VALUE=DATE"] for e in events]
    assert starts == ["20260930", "20261008", "20261009", "20261010", "20261012"]
    assert events[0]["SUMMARY"] == "领导接访：张局长"
    assert events[0]["DTEND;VALUE=DATE"] == "20261001"
    assert unescape(events[2]["SUMMARY"]) == "领导接访：李副局长（代张局长）"
    assert (
        unescape(events[2]["DESCRIPTION"])
        == "上午在县信访接待中心，下午带案下访；地点：东湖街道,二楼"
    )
    assert len({e["UID"] for e in events}) == 5
    assert all(e["DTSTAMP"] == "20260929T010000Z" for e in events)


def test_ics_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "接访" * 60 + "a,b;c\\d"
    folded = ics.fold(line)
    parts = [p.encode() for p in folded.split("\r\n")]
    assert all(len(p) <= 75 for p in parts)
    assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(parts)) == line
    assert ics.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_rota_page_and_warnings_json(county, people, leaders, client):
    fill(county, people.clerk, "2026-10-08", "2026-10-30", leaders.director)
    services.rota_day_clear(office=county.office, by=people.clerk, date=d("2026-10-12"))
    client.login(username="clerk", password=PASSWORD)
    with frozen(2026, 10, 8, 9):
        page = client.get("/reception/?month=2026-10")
        data = json.loads(client.get("/reception/warnings").content)
    html = page.content.decode()
    assert page.status_code == 200
    assert "2026年10月12日：未安排接访领导" in html
    assert 'class="rest' in html and "休息" in html  # 1-7 Oct greyed
    assert data["days_ahead"] == 10
    assert data["warnings"] == [
        {
            "office": "XF430102",
            "office_name": "A1区信访局",
            "date": "2026-10-12",
            "reason": "未安排接访领导",
        }
    ]


def test_month_builder_form_fills_and_day_edit_marks_absent(county, people, leaders, client):
    client.login(username="clerk", password=PASSWORD)
    response = client.post(
        "/reception/",
        {
            "office": county.office.code,
            "start": "2026-10-01",
            "end": "2026-10-31",
            "leaders": [leaders.director.pk, leaders.deputy.pk],
            "names": "",
        },
    )
    assert response.status_code == 302
    assert (
        RotaDay.objects.count() == 18
    )  # October 2026: 8, 9, 10 (swapped Saturday) and 3 full weeks
    response = client.post(
        f"/reception/day/{county.office.code}/2026-10-09/",
        {
            "leader": leaders.deputy.pk,
            "leader_absent": "on",
            "substitute": "",
            "note": "外出开会",
        },
    )
    assert response.status_code == 302
    day = RotaDay.objects.get(date=d("2026-10-09"))
    assert day.leader_absent and day.on_duty == ""


def test_who_sees_the_rota(county, people, leaders, client):
    fill(county, people.clerk, "2026-10-08", "2026-10-09", leaders.director)
    for username, status in [
        ("clerk", 200),
        ("director", 200),
        ("supervisor", 200),
        ("outsider", 404),
        ("officer", 404),
    ]:
        client.login(username=username, password=PASSWORD)
        assert client.get(f"/reception/?office={county.office.code}").status_code == status, (
            username
        )
        assert client.get(f"/reception/{county.office.code}/rota.ics").status_code == status, (
            username
        )
    # A leader from another unit who is on the rota sees it, but may not change it.
    fill(county, people.clerk, "2026-10-12", "2026-10-12", people.head)
    client.login(username="head", password=PASSWORD)
    assert client.get(f"/reception/?office={county.office.code}").status_code == 200
    response = client.post(
        "/reception/",
        {
            "office": county.office.code,
            "start": "2026-10-13",
            "end": "2026-10-14",
            "names": "某领导",
        },
    )
    assert response.status_code == 403
    client.logout()
    assert client.get("/reception/").status_code == 302  # to the login page
