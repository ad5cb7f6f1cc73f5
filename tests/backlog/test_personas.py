"""Who sees and does what: scope of the matter, owners and task-force members, leaders only flag."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.backlog.conftest import NOW, accepted_case
from tests.factories import PASSWORD
from xinfang.backlog import flagging, permissions, selectors, services

SEES = {
    "supervisor": True,
    "head": True,
    "officer": True,
    "clerk": True,
    "admin": True,
    "outsider": False,
    "accused_officer": False,
    "rereviewer": False,
}
FLAGS = {"supervisor": True, "head": True}


@pytest.fixture
def two(county, people, now):
    hr = flagging.backlog_flag(
        case=accepted_case(county, people, NOW - dt.timedelta(days=200)),
        by=people.supervisor,
        reason="人社积案",
    )
    edu = flagging.backlog_flag(
        case=accepted_case(county, people, NOW - dt.timedelta(days=300), to_edu=True),
        by=people.supervisor,
        reason="教育积案",
    )
    return hr, edu


@pytest.mark.parametrize("who", sorted(SEES))
def test_visibility_of_a_labour_bureau_backlog_case(client, people, two, who):
    hr, _edu = two
    user = getattr(people, who)
    assert permissions.can_view(user, hr) is SEES[who]
    assert (hr in selectors.visible_backlog(user)) is SEES[who]
    client.login(username=user.username, password=PASSWORD)
    assert client.get(f"/backlog/{hr.pk}/").status_code == (200 if SEES[who] else 404)
    numbers = [r["case_number"] for r in client.get("/backlog/", {"format": "json"}).json()["rows"]]
    assert (hr.case.number in numbers) is SEES[who]


@pytest.mark.parametrize("who", sorted(SEES))
def test_only_supervisors_and_heads_lead(people, two, who):
    hr, _edu = two
    assert permissions.can_lead(getattr(people, who), hr.case) is FLAGS.get(who, False)


def test_unit_head_sees_only_own_units_cases(people, two):
    hr, edu = two
    assert list(selectors.visible_backlog(people.head)) == [hr]
    assert set(selectors.visible_backlog(people.supervisor)) == {hr, edu}
    assert list(selectors.visible_backlog(people.outsider)) == [edu]  # the education bureau's own


def test_owner_and_task_force_member_see_theirs(client, people, two, town_head):
    hr, _edu = two
    assert not permissions.can_view(town_head, hr)
    services.backlog_assign_owner(backlog=hr, by=people.supervisor, owner=town_head)
    assert permissions.can_view(town_head, hr) and permissions.can_work(town_head, hr)
    assert list(selectors.visible_backlog(town_head)) == [hr]
    services.taskforce_add(backlog=hr, by=people.supervisor, user=people.rereviewer)
    assert permissions.can_view(people.rereviewer, hr) and permissions.can_work(
        people.rereviewer, hr
    )
    client.login(username="rereviewer", password=PASSWORD)
    assert client.get(f"/backlog/{hr.pk}/").status_code == 200
    # A member records work but cannot close or reassign (not a supervisor or head).
    assert not permissions.can_lead(people.rereviewer, hr.case)


def test_officer_reads_but_does_not_write(client, people, two):
    hr, _edu = two
    assert permissions.can_view(people.officer, hr) and not permissions.can_work(people.officer, hr)
    client.login(username="officer", password=PASSWORD)
    response = client.post(
        f"/backlog/{hr.pk}/do/hearing/",
        {
            "hearing-held_on": "2027-03-01",
            "hearing-place": "x",
            "hearing-minutes": "m",
            "hearing-findings": "f",
            "hearing-decision": "d",
            "hearing-p_deputy": "李代表",
        },
        follow=True,
    )
    assert "无权记录" in response.content.decode()
    assert not hr.hearings.exists()


def test_admin_sees_all_but_does_not_handle(people, two):
    hr, edu = two
    assert set(selectors.visible_backlog(people.admin)) == {hr, edu}
    assert not permissions.can_work(people.admin, hr)


def test_flag_form_refuses_a_clerk(client, people, two, county, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=5))
    client.login(username="clerk", password=PASSWORD)
    response = client.post(
        "/backlog/flag/", {"case_number": case.number, "reason": "x"}, follow=True
    )
    assert "只有能查看该事项的督查人员或单位负责人可以认定积案" in response.content.decode()
