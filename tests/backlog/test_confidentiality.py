"""Backlog and the complainant (issue 9, findings 5 and 10).

Stories: the accused unit of a report never reads who made it, neither on the backlog page nor
in the Word report; nobody of the accused unit (or below it) joins the task force; the units of
a backlog case follow the matter when a unit leaves it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from docx import Document
from openpyxl import load_workbook

from tests.backlog.conftest import NOW
from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, make_user, register
from xinfang.backlog import flagging, methods, permissions, selectors, services
from xinfang.backlog.models import BacklogUnit, TaskForceMember
from xinfang.cases import services as case_services
from xinfang.cases.models import Kind
from xinfang.orgs.models import Place, Role, Unit

SECRET = "信访人（保密）"


def docx_text(raw: bytes) -> str:
    doc = Document(io.BytesIO(raw))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def report_case(county, people, *, accused: Unit, at: dt.datetime):
    """A report against `accused`, routed to the labour bureau and accepted, now a backlog case."""
    case = register(
        county,
        people.clerk,
        at,
        kind=Kind.ACCUSATION,
        accused_unit=accused,
        title="反映某单位工作人员推诿",
        content="某单位工作人员多次推诿。",
    )
    case = case_services.case_route(
        case=case, by=people.clerk, unit=county.hr, at=at + dt.timedelta(days=1)
    )
    case = case_services.case_accept(case=case, by=people.officer, at=at + dt.timedelta(days=2))
    return flagging.backlog_flag(
        case=case, by=people.supervisor, reason="久拖未决", at=NOW - dt.timedelta(days=1)
    )


def hold_hearing(backlog, by):
    return methods.hearing_record(
        backlog=backlog,
        by=by,
        held_on=NOW.date(),
        place="区信访局听证室",
        participants=[("petitioner", "张三"), ("deputy", "李代表"), ("unit", "A1区信访局")],
        minutes=f"张三（电话{VALID_PHONE}，身份证{VALID_ID}）陈述了诉求。",
        findings="张三的诉求部分合理。",
        decision="由人社局与张三协商解决。",
    )


@pytest.fixture
def against_office(county, people, now):
    """A report against the petition office itself: its clerk opens the matter, never the name."""
    backlog = report_case(county, people, accused=county.office, at=NOW - dt.timedelta(days=150))
    hold_hearing(backlog, people.supervisor)
    return backlog


# ---------------------------------------------------------------- finding 5: pages and the report


def test_the_accused_office_clerk_sees_the_hearing_without_the_complainant(
    client, people, against_office
):
    assert permissions.can_view(people.clerk, against_office)
    client.login(username="clerk", password=PASSWORD)
    html = client.get(f"/backlog/{against_office.pk}/").content.decode()
    assert SECRET in html and "李代表" in html
    assert "张三" not in html and VALID_PHONE not in html and VALID_ID not in html


def test_the_word_report_hides_the_complainant_from_the_accused(client, people, against_office):
    client.login(username="clerk", password=PASSWORD)
    response = client.get(f"/backlog/{against_office.pk}/report.docx")
    assert response.status_code == 200
    text = docx_text(b"".join(response.streaming_content))
    assert SECRET in text and "李代表" in text
    assert "张三" not in text and VALID_PHONE not in text and VALID_ID not in text


def test_who_may_see_the_complainant_still_does(client, people, against_office):
    # The county's supervisor is above the accused office, not in it: the name stays.
    client.login(username="supervisor", password=PASSWORD)
    html = client.get(f"/backlog/{against_office.pk}/").content.decode()
    assert "信访人张三" in html
    text = docx_text(
        b"".join(client.get(f"/backlog/{against_office.pk}/report.docx").streaming_content)
    )
    assert "信访人张三" in text and "张三的诉求" in text


def test_a_member_in_the_accused_unit_never_sees_the_complainant(client, county, people, now):
    """A member who got onto the task force before the accused unit was known (a row kept from
    before) sees the backlog case, but not who made the report."""
    backlog = report_case(county, people, accused=county.housing, at=NOW - dt.timedelta(days=150))
    hold_hearing(backlog, people.supervisor)
    TaskForceMember.objects.create(backlog=backlog, user=people.accused_officer)
    assert permissions.can_view(people.accused_officer, backlog)
    client.login(username="accused", password=PASSWORD)
    html = client.get(f"/backlog/{backlog.pk}/").content.decode()
    assert SECRET in html and "张三" not in html and VALID_PHONE not in html
    text = docx_text(b"".join(client.get(f"/backlog/{backlog.pk}/report.docx").streaming_content))
    assert SECRET in text and "张三" not in text


def test_an_ordinary_members_of_another_unit_sees_the_name_of_an_ordinary_matter(
    client, county, people, backlog, town_head
):
    services.taskforce_add(backlog=backlog, by=people.supervisor, user=town_head)
    hold_hearing(backlog, people.supervisor)
    client.login(username="town_head", password=PASSWORD)
    assert "信访人张三" in client.get(f"/backlog/{backlog.pk}/").content.decode()


# ---------------------------------------------------------------- finding 5: who joins the task force


def test_nobody_of_the_accused_unit_or_below_joins_the_task_force(county, people, now):
    backlog = report_case(county, people, accused=county.edu, at=NOW - dt.timedelta(days=150))
    school_head = make_user("school_head", county.school, Role.HEAD, display_name="实验小学校长")
    edu_head = make_user("edu_head", county.edu, Role.HEAD, display_name="教育局局长")
    for user in (people.outsider, school_head, edu_head):
        with pytest.raises(ValidationError) as refused:
            services.taskforce_add(backlog=backlog, by=people.supervisor, user=user)
        assert "被反映单位" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        services.backlog_assign_owner(backlog=backlog, by=people.supervisor, owner=edu_head)
    assert "被反映单位" in refused.value.messages[0]
    assert not backlog.members.exists() and backlog.owner is None
    assert not permissions.can_view(school_head, backlog)


def test_the_page_refuses_an_accused_member_in_chinese(client, county, people, now):
    backlog = report_case(county, people, accused=county.housing, at=NOW - dt.timedelta(days=150))
    client.login(username="supervisor", password=PASSWORD)
    response = client.post(
        f"/backlog/{backlog.pk}/do/member/",
        {"member-user": people.accused_officer.pk, "member-role": "member"},
        follow=True,
    )
    assert response.status_code == 200
    assert "被反映单位" in response.content.decode()
    assert not backlog.members.exists()


def test_only_staff_of_units_that_may_handle_the_matter_join(county, people, backlog, town_head):
    a2 = Place.objects.create(code="430103", name="A2区", parent=county.place.parent)
    other_county = Unit.objects.create(
        name="A2区人民政府",
        code="G430103",
        parent=county.city,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.GOVERNMENT,
        place=a2,
    )
    other_hr = Unit.objects.create(
        name="A2区人社局",
        code="RS430103",
        parent=other_county,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.DEPARTMENT,
        place=a2,
    )
    stranger = make_user("stranger", other_hr, Role.OFFICER)
    with pytest.raises(ValidationError) as refused:
        services.taskforce_add(backlog=backlog, by=people.supervisor, user=stranger)
    assert "不能加入工作专班" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        services.taskforce_add(backlog=backlog, by=people.supervisor, user=people.admin)
    with pytest.raises(
        ValidationError
    ):  # the labour bureau's head cannot reach another county either
        services.taskforce_add(backlog=backlog, by=people.head, user=stranger)
    # Staff of the matter's units, of its locality, of the leader's scope and of the organs above join.
    for user in (people.officer, people.outsider, people.rereviewer):
        services.taskforce_add(backlog=backlog, by=people.supervisor, user=user)
    services.taskforce_add(backlog=backlog, by=people.head, user=town_head)
    assert backlog.members.count() == 4


def test_no_task_force_for_a_report_whose_accused_unit_is_pending(county, people, now):
    case = register(
        county,
        people.clerk,
        NOW - dt.timedelta(days=150),
        kind=Kind.ACCUSATION,
        no_accused_unit=False,
    )
    if not case.accused_pending:
        pytest.skip("registration records this report's accused unit")
    backlog = flagging.backlog_flag(case=case, by=people.supervisor, reason="久拖未决")
    with pytest.raises(ValidationError) as refused:
        services.taskforce_add(backlog=backlog, by=people.supervisor, user=people.officer)
    assert "被反映单位" in refused.value.messages[0]


# ---------------------------------------------------------------- finding 10: units leave


def _units(backlog) -> set[int]:
    return set(BacklogUnit.objects.filter(backlog=backlog).values_list("unit_id", flat=True))


def test_units_that_leave_the_matter_leave_the_backlog_case(county, people, now):
    case = register(county, people.clerk, NOW - dt.timedelta(days=3))
    case = case_services.case_route(
        case=case,
        by=people.clerk,
        unit=county.hr,
        co_units=[county.edu],
        at=NOW - dt.timedelta(days=2),
    )
    backlog = flagging.backlog_flag(case=case, by=people.supervisor, reason="群众反映强烈")
    assert _units(backlog) == {county.office.pk, county.hr.pk, county.edu.pk}
    assert backlog in selectors.visible_backlog(people.outsider)

    # 异议退回: the lead and the co-handler leave.
    case = case_services.case_object(
        case=case, by=people.officer, reason="不属于本单位职责", at=NOW - dt.timedelta(days=1)
    )
    assert _units(backlog) == {county.office.pk}
    assert backlog not in selectors.visible_backlog(people.outsider)
    assert backlog not in selectors.visible_backlog(people.officer)

    # Re-routed elsewhere, without the co-handler: only the new unit comes in.
    case_services.case_route(case=case, by=people.clerk, unit=county.housing, at=NOW)
    assert _units(backlog) == {county.office.pk, county.housing.pk}
    assert backlog not in selectors.visible_backlog(people.outsider)
    assert backlog in selectors.visible_backlog(people.accused_officer)


def test_the_daily_scan_repairs_units_left_behind(county, people, backlog):
    stale = BacklogUnit.objects.create(backlog=backlog, unit=county.town)
    missing = BacklogUnit.objects.filter(backlog=backlog, unit=county.hr)
    missing.delete()
    flagging.resync_units()
    assert not BacklogUnit.objects.filter(pk=stale.pk).exists()
    assert _units(backlog) == {county.office.pk, county.hr.pk}


def test_the_board_export_hides_a_reason_that_names_the_complainant(client, county, people, now):
    case = register(
        county,
        people.clerk,
        NOW - dt.timedelta(days=150),
        kind=Kind.ACCUSATION,
        accused_unit=county.office,
        title="反映信访局推诿",
    )
    flagging.backlog_flag(case=case, by=people.supervisor, reason="张三多次来访，情绪激动")
    client.login(username="clerk", password=PASSWORD)
    response = client.get("/backlog/", {"format": "xlsx", "status": "all"})
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert case.number in cells and f"{SECRET}多次来访，情绪激动" in cells
    assert not any("张三" in c for c in cells)


def test_a_correction_that_accuses_a_member_s_unit_takes_the_member_off(county, people, now):
    """回避 after the fact: the clerk corrects the accused unit to the education bureau, whose
    officer sits on the task force and whose head owns the case; both step down."""
    backlog = report_case(county, people, accused=county.housing, at=NOW - dt.timedelta(days=150))
    edu_head = make_user("edu_head", county.edu, Role.HEAD, display_name="教育局局长")
    services.backlog_assign_owner(backlog=backlog, by=people.supervisor, owner=edu_head)
    services.taskforce_add(backlog=backlog, by=people.supervisor, user=people.outsider)
    services.taskforce_add(backlog=backlog, by=people.supervisor, user=people.officer)
    case_services.case_record_accused(
        case=backlog.case, by=people.clerk, units=[county.edu], reason="经核实，被反映单位为教育局"
    )
    backlog.refresh_from_db()
    assert backlog.owner is None
    assert list(backlog.members.values_list("user__username", flat=True)) == ["officer"]
    kinds = list(backlog.events.values_list("kind", flat=True))
    assert kinds.count("backlog.member_removed") == 1 and "backlog.owner_removed" in kinds
    assert not permissions.can_view(people.outsider, backlog)


def test_the_board_export_does_not_ask_again_per_report(county, people, now):
    """The rows come from the user's own board: redacting a report's reason costs no query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def export_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            rows = list(
                selectors.board_export_rows(people.clerk, selectors.BoardFilters(status="all"))
            )
        return len(rows), len(ctx.captured_queries)

    def flag_report(n: int) -> None:
        case = register(
            county,
            people.clerk,
            NOW - dt.timedelta(days=150 + n),
            kind=Kind.ACCUSATION,
            accused_unit=county.office,
            title=f"反映推诿{n}",
        )
        flagging.backlog_flag(case=case, by=people.supervisor, reason="张三多次来访")

    flag_report(0)
    one = export_queries()
    for n in range(1, 4):
        flag_report(n)
    four = export_queries()
    assert (one[0], four[0]) == (1, 4)
    assert four[1] == one[1]
