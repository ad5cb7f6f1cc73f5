"""Reception records: matters linked or registered through the same register; instructions; group visits."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import PASSWORD, bj, petitioner, register
from tests.reception.helpers import d, frozen, make_leaders
from xinfang.cases.models import Case, CaseEvent, Channel, Kind
from xinfang.reception import selectors, services
from xinfang.reception.models import GroupVisitReception, ReceptionKind, ReceptionMatter


@pytest.fixture
def leaders(county):
    return make_leaders(county)


def new_record(county, by, leader, at, **kw):
    with frozen(*at):
        return services.record_create(
            office=county.office, by=by, held_at=bj(*at), leader=leader, **kw
        )


def test_a_record_links_existing_matters_the_clerk_may_see(county, people, leaders):
    own = register(county, people.clerk, bj(2026, 10, 8, 9))
    elsewhere = register(county, None, bj(2026, 10, 8, 9), office=county.town)
    record = new_record(
        county,
        people.clerk,
        leaders.director,
        (2026, 10, 8, 10),
        place="县信访接待中心",
        visitors=2,
        case_numbers=[own.number],
    )
    assert list(record.matters.values_list("case__number", "registered")) == [(own.number, False)]
    with pytest.raises(ValidationError) as err:
        services.record_link_case(record=record, by=people.clerk, number=elsewhere.number)
    assert "无权查看" in str(err.value)
    with pytest.raises(ValidationError):
        services.record_link_case(record=record, by=people.clerk, number="XF-0000-000000")
    # Linking the same matter twice keeps one link.
    services.record_link_case(record=record, by=people.clerk, number=own.number)
    assert ReceptionMatter.objects.count() == 1


def test_a_new_matter_raised_at_reception_enters_the_register_as_a_visit(county, people, leaders):
    record = new_record(
        county,
        leaders.office_clerk,
        leaders.director,
        (2026, 10, 8, 10),
        kind=ReceptionKind.LOCALITY,
        place="东湖街道",
    )
    with frozen(2026, 10, 8, 11):
        case = services.record_register_case(
            record=record,
            by=leaders.office_clerk,
            kind=Kind.APPEAL,
            title="小区道路破损",
            content="小区主干道破损多年无人维修，雨天积水严重。",
            place=county.town_place,
            petitioner=petitioner(),
            category=None,
        )
    assert case.channel == Channel.VISIT and case.office == county.office
    assert case.number.startswith("XF430102-2026-")
    event = CaseEvent.objects.get(case=case)
    assert event.kind == "case.registered" and event.actor == leaders.office_clerk
    assert ReceptionMatter.objects.get(case=case).registered is True
    # Invalid input saves nothing: no matter, no link.
    with frozen(2026, 10, 8, 11), pytest.raises(ValidationError):
        services.record_register_case(
            record=record,
            by=leaders.office_clerk,
            kind=Kind.APPEAL,
            title="",
            content="",
            place=county.place,
            petitioner=petitioner(),
        )
    assert Case.objects.count() == 1 and ReceptionMatter.objects.count() == 1


def test_only_office_clerks_and_leaders_record_receptions(county, people, leaders):
    for user in (people.officer, people.outsider, people.supervisor, people.admin):
        with frozen(2026, 10, 8, 10), pytest.raises(PermissionDenied):
            services.record_create(
                office=county.office, by=user, held_at=bj(2026, 10, 8, 10), leader=leaders.director
            )
    assert new_record(county, leaders.director, leaders.director, (2026, 10, 8, 10))


def test_a_reception_cannot_be_recorded_in_the_future(county, people, leaders):
    with frozen(2026, 10, 8, 10), pytest.raises(ValidationError):
        services.record_create(
            office=county.office,
            by=people.clerk,
            held_at=bj(2026, 10, 9, 10),
            leader=leaders.director,
        )


def test_instruction_deadlines_run_on_the_clocks(county, people, leaders):
    case = register(county, people.clerk, bj(2026, 9, 16, 9))
    record = new_record(
        county, people.clerk, leaders.director, (2026, 9, 16, 10), case_numbers=[case.number]
    )
    default = services.instruction_add(
        record=record,
        by=people.clerk,
        text="责成人社局七日内查明欠薪情况",
        owner_unit=county.hr,
        case=case,
    )
    # 15 calendar days from 16 Sept end on 1 Oct, a holiday: the deadline moves to 8 Oct, 24:00.
    assert default.deadline == bj(2026, 10, 9)
    short = services.instruction_add(
        record=record, by=people.clerk, text="先行垫付", owner_user=people.head, days=5
    )
    assert short.deadline == bj(2026, 9, 22)  # 21 Sept, a Monday, to 24:00
    explicit = services.instruction_add(
        record=record,
        by=people.clerk,
        text="月底前办结",
        owner_unit=county.hr,
        deadline_date=d("2026-09-30"),
    )
    assert explicit.deadline == bj(2026, 10, 1)
    with pytest.raises(ValidationError) as err:
        services.instruction_add(record=record, by=people.clerk, text="无主", days=3)
    assert "责任" in str(err.value)
    other = register(county, people.clerk, bj(2026, 9, 16, 9, 30))
    with pytest.raises(ValidationError):
        services.instruction_add(
            record=record, by=people.clerk, text="x", owner_unit=county.hr, case=other
        )


def test_overdue_instructions_are_listed_until_done(county, people, leaders, client):
    record = new_record(county, people.clerk, leaders.director, (2026, 9, 16, 10))
    late = services.instruction_add(
        record=record, by=people.clerk, text="核查欠薪", owner_unit=county.hr
    )
    services.instruction_add(
        record=record,
        by=people.clerk,
        text="年底前回访",
        owner_unit=county.hr,
        deadline_date=d("2026-12-31"),
    )
    now = bj(2026, 10, 10, 9)
    assert list(selectors.overdue_instructions(selectors.instructions_for(people.clerk), now)) == [
        late
    ]
    # The owning unit sees its own instructions and reports what was done; others may not.
    assert list(
        selectors.overdue_instructions(selectors.instructions_for(people.officer), now)
    ) == [late]
    with pytest.raises(PermissionDenied):
        services.instruction_complete(instruction=late, by=people.outsider, result="x")
    client.login(username="clerk", password=PASSWORD)
    with frozen(2026, 10, 10, 9):
        html = client.get("/reception/instructions/overdue/").content.decode()
        assert "核查欠薪" in html and "年底前回访" not in html
        client.login(username="officer", password=PASSWORD)
        response = client.post(
            f"/reception/instructions/{late.pk}/complete/", {"result": "已督促公司支付"}
        )
        assert response.status_code == 302
        assert list(selectors.overdue_instructions(selectors.instructions_for(people.clerk))) == []
    late.refresh_from_db()
    assert late.result == "已督促公司支付" and late.done_at == bj(2026, 10, 10, 9)
    with pytest.raises(ValidationError):
        services.instruction_complete(instruction=late, by=people.officer, result="again")


def test_a_group_visit_must_be_received_within_the_set_hours(county, people, leaders):
    group = register(county, people.clerk, bj(2026, 10, 8, 9), group_size=6)
    register(county, people.clerk, bj(2026, 10, 8, 9), group_size=4)  # not a group visit
    register(county, people.clerk, bj(2026, 10, 8, 9), group_size=6, channel=Channel.LETTER)
    visit = GroupVisitReception.objects.get()
    assert visit.case == group and visit.due_at == bj(2026, 10, 8, 11) and visit.received_at is None
    assert list(selectors.group_visits(people.clerk, show="overdue", now=bj(2026, 10, 8, 10))) == []
    assert list(selectors.group_visits(people.clerk, show="overdue", now=bj(2026, 10, 8, 11))) == [
        visit
    ]
    assert list(selectors.group_visits(people.outsider)) == []
    record = new_record(
        county,
        people.clerk,
        leaders.director,
        (2026, 10, 8, 10, 30),
        visitors=6,
        case_numbers=[group.number],
    )
    visit.refresh_from_db()
    assert visit.received_at == bj(2026, 10, 8, 10, 30) and visit.record == record and visit.on_time
    assert list(selectors.group_visits(people.clerk)) == []


def test_group_visit_size_and_hours_are_configurable(county, people, leaders, settings):
    settings.XINFANG_GROUP_VISIT_SIZE = 3
    settings.XINFANG_GROUP_VISIT_RECEIVE_HOURS = 4
    case = register(county, people.clerk, bj(2026, 10, 8, 9), group_size=3)
    visit = GroupVisitReception.objects.get(case=case)
    assert visit.due_at == bj(2026, 10, 8, 13)
    # Received late: closed, but marked late.
    new_record(
        county, people.clerk, leaders.director, (2026, 10, 8, 15), case_numbers=[case.number]
    )
    visit.refresh_from_db()
    assert visit.received_at is not None and visit.on_time is False


def test_a_group_visit_registered_at_a_reception_is_received_there(county, people, leaders):
    record = new_record(county, people.clerk, leaders.director, (2026, 10, 8, 10), visitors=8)
    with frozen(2026, 10, 8, 10, 5):
        case = services.record_register_case(
            record=record,
            by=people.clerk,
            kind=Kind.APPEAL,
            title="集体反映拆迁补偿",
            content="八户村民反映拆迁补偿标准不一致。",
            place=county.place,
            petitioner=petitioner(),
            group_size=8,
        )
    visit = GroupVisitReception.objects.get(case=case)
    assert visit.received_at == bj(2026, 10, 8, 10) and visit.record == record


def test_record_pages_for_the_office_and_not_for_outsiders(county, people, leaders, client):
    case = register(county, people.clerk, bj(2026, 10, 8, 9))
    client.login(username="clerk", password=PASSWORD)
    with frozen(2026, 10, 8, 12):
        response = client.post(
            f"/reception/records/new/?office={county.office.code}",
            {
                "held_at": "2026-10-08T10:00",
                "kind": "rota",
                "leader": leaders.director.pk,
                "place": "接待大厅",
                "visitors": 1,
                "summary": "反映欠薪",
                "case_numbers": case.number,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        record_url = response["Location"]
        response = client.post(
            record_url,
            {
                "instruct-text": "请人社局依法处理",
                "instruct-owner_unit": county.hr.pk,
                "instruct-case": case.pk,
                "submit-instruct": "1",
            },
        )
        assert response.status_code == 302
        html = client.get(record_url).content.decode()
    assert case.number in html and "请人社局依法处理" in html and "张局长" in html
    client.login(username="outsider", password=PASSWORD)
    assert client.get(record_url).status_code == 404
    client.login(username="supervisor", password=PASSWORD)
    assert client.get(record_url).status_code == 200
    assert (
        client.post(record_url, {"link-case_number": case.number, "submit-link": "1"}).status_code
        == 403
    )
