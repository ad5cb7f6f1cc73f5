"""Similar matters (same problem, same place, only what the user may see) and 并单."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, bj, make_user, petitioner, register
from xinfang.cases import services
from xinfang.cases.models import CaseEvent, State
from xinfang.cases.workflow import TransitionNotAllowed
from xinfang.orgs.models import Role, Unit
from xinfang.routing import selectors

NOISE = {
    "title": "丽发新城搅拌站噪音扰民",
    "content": "丽发新城小区附近的搅拌站夜间施工，噪音和灰尘严重影响居民休息。",
}
OTHER = [
    ("学校食堂卫生差", "孩子学校食堂饭菜不卫生，希望教育局检查。"),
    ("道路积水严重", "东湖路下雨积水，行人无法通行。"),
    ("拖欠工资", "公司拖欠工资两个月。"),
]


def _noise(county, people, day, **kw):
    data = {**NOISE, **kw}
    return register(county, people.clerk, bj(2026, 11, day, 9), **data)


def _ids(items):
    return [s.case.pk for s in items]


def test_similar_matters_in_the_same_place_are_found_others_not(county, people):
    for title, content in OTHER:
        register(county, people.clerk, bj(2026, 11, 1, 9), title=title, content=content)
    first = _noise(
        county, people, 2, petitioner=petitioner(name="李四", phone="13900000001", id_number="")
    )
    second = _noise(
        county,
        people,
        3,
        title="投诉丽发新城附近搅拌站噪音",
        content="搅拌站噪音扰民，丽发新城居民晚上睡不着。",
    )
    elsewhere = _noise(county, people, 3, place=county.town_place)
    new = _noise(county, people, 4)
    found = selectors.similar_cases(
        people.clerk,
        title=new.title,
        content=new.content,
        place_id=new.place_id,
        exclude_ids=(new.pk,),
        now=bj(2026, 11, 5),
    )
    assert set(_ids(found)) == {first.pk, second.pk}
    assert elsewhere.pk not in _ids(found)
    assert found[0].case.pk == first.pk and found[0].score > found[1].score  # identical text first


def test_matters_the_user_may_not_see_are_never_shown(county, people):
    other_office = Unit.objects.create(
        name="B区信访局",
        code="XF999",
        parent=county.county,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.PETITION_OFFICE,
    )
    other_clerk = make_user("clerk2", other_office, Role.CLERK)
    hidden = register(county, other_clerk, bj(2026, 11, 2, 9), office=other_office, **NOISE)
    mine = _noise(county, people, 3)
    new = _noise(county, people, 4)
    found = selectors.similar_cases(
        people.clerk,
        title=new.title,
        content=new.content,
        place_id=new.place_id,
        exclude_ids=(new.pk,),
        now=bj(2026, 11, 5),
    )
    assert _ids(found) == [mine.pk]
    assert hidden.pk not in _ids(found)
    outsider = selectors.similar_cases(
        people.outsider,
        title=new.title,
        content=new.content,
        place_id=new.place_id,
        now=bj(2026, 11, 5),
    )
    assert outsider == []


def test_the_case_page_and_the_form_endpoint_list_similar_and_same_petitioner_matters(
    county, people, client
):
    earlier = _noise(county, people, 2)
    new = _noise(county, people, 4)
    assert client.login(username=people.clerk.username, password=PASSWORD)
    page = client.get(reverse("routing:case_panel", args=[new.pk]) + "?fragment=1")
    assert _ids(page.context["routing"]["similar"]) == [earlier.pk]
    assert "并单：并入此事项" in page.content.decode()
    body = client.post(
        reverse("routing:suggest"),
        {**NOISE, "place": county.place.pk, "petitioner_phone": "13812345678"},
    ).json()
    assert {c["number"] for c in body["similar"]} == {earlier.number, new.number}
    assert {c["number"] for c in body["same_petitioner"]} == {earlier.number, new.number}


def test_merge_closes_the_duplicate_and_the_main_matter_carries_on(county, people):
    main = _noise(
        county, people, 2, petitioner=petitioner(name="李四", phone="13900000001", id_number="")
    )
    dup = _noise(
        county, people, 3, petitioner=petitioner(name="王五", phone="13900000002", id_number="")
    )
    dup2 = _noise(
        county, people, 4, petitioner=petitioner(name="赵六", phone="13900000003", id_number="")
    )
    at = bj(2026, 11, 4, 10)
    dup = services.case_merge(case=dup, into=main, by=people.clerk, at=at, note="同一搅拌站")
    assert dup.state == State.FINAL and dup.linked_to == main and dup.closed_at == at
    assert dup.due_at is None
    event = CaseEvent.objects.filter(case=dup).latest("id")
    assert (
        event.kind == "case.merged"
        and event.details["into"] == main.number
        and event.actor == people.clerk
    )
    main.refresh_from_db()
    assert main.state == State.REGISTERED
    received = CaseEvent.objects.filter(case=main).latest("id")
    assert received.kind == "case.merge_received" and received.details["merged"] == dup.number
    # a matter merged into a matter that was itself merged later: still informed
    routed = services.case_route(case=dup2, by=people.clerk, unit=county.hr, at=at)
    services.case_merge(case=routed, into=main, by=people.clerk, at=at)
    informed = selectors.petitioners_to_inform(main)
    assert [c.pk for c in informed] == [main.pk, dup.pk, dup2.pk]
    assert {c.petitioner_name for c in informed} == {"李四", "王五", "赵六"}


def test_merge_is_refused_when_it_should_be(county, people):
    main = _noise(county, people, 2)
    dup = _noise(county, people, 3)
    with pytest.raises(TransitionNotAllowed, match="无权"):
        services.case_merge(case=dup, into=main, by=people.officer, at=bj(2026, 11, 4))
    with pytest.raises(Exception, match="本身"):
        services.case_merge(case=dup, into=dup, by=people.clerk, at=bj(2026, 11, 4))
    services.case_merge(case=dup, into=main, by=people.clerk, at=bj(2026, 11, 4))
    with pytest.raises(TransitionNotAllowed, match="已终结"):
        services.case_merge(case=dup, into=main, by=people.clerk, at=bj(2026, 11, 5))
    other = _noise(county, people, 5)
    with pytest.raises(TransitionNotAllowed, match="已办结"):
        services.case_merge(case=other, into=dup, by=people.clerk, at=bj(2026, 11, 6))


def test_merge_from_the_case_page(county, people, client):
    main = _noise(county, people, 2)
    dup = _noise(county, people, 3)
    assert client.login(username=people.clerk.username, password=PASSWORD)
    response = client.post(reverse("routing:merge", args=[dup.pk]), {"into": main.pk}, follow=True)
    assert "已并单" in response.content.decode()
    dup.refresh_from_db()
    assert dup.state == State.FINAL and dup.linked_to_id == main.pk
    page = client.get(reverse("routing:case_panel", args=[main.pk]) + "?fragment=1")
    assert [c.pk for c in page.context["routing"]["merged"]] == [dup.pk]


def test_everyone_who_raised_a_merged_matter_hears_when_the_main_matter_moves(county, people):
    from xinfang.notify.models import Outbox

    main = _noise(
        county, people, 2, petitioner=petitioner(name="李四", phone="13900000001", id_number="")
    )
    dup = _noise(
        county, people, 3, petitioner=petitioner(name="王五", phone="13900000002", id_number="")
    )
    services.case_merge(case=dup, into=main, by=people.clerk, at=bj(2026, 11, 4, 10))
    before = Outbox.objects.filter(recipient="13900000002").count()
    services.case_route(case=main, by=people.clerk, unit=county.hr, at=bj(2026, 11, 5, 9))
    to_dup = Outbox.objects.filter(recipient="13900000002").order_by("id")
    assert to_dup.count() == before + 1
    assert f"已并入事项{main.number}" in to_dup.last().body
    assert Outbox.objects.filter(recipient="13900000001", case=main).exists()


def test_a_count_that_reached_its_cap_is_not_counted_again_one_under_it_is(county, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.routing import similar

    similar._saturated.clear()
    for day in (2, 3):
        _noise(county, people, day)
    assert similar.document_frequencies(["搅拌", "拖欠"], cap=2) == {"搅拌": 2, "拖欠": 0}
    with CaptureQueriesContext(connection) as queries:  # both known to reach a cap of 2
        assert similar.document_frequencies(["搅拌"], cap=2) == {"搅拌": 2}
        assert similar.document_frequencies(["搅拌"], cap=1) == {"搅拌": 1}
    assert len(queries) == 0
    # under the cap: read afresh, so a new matter counts at once
    register(county, people.clerk, bj(2026, 11, 4, 9), title="拖欠工资", content="公司拖欠工资。")
    with CaptureQueriesContext(connection) as queries:
        assert similar.document_frequencies(["拖欠", "搅拌"], cap=2) == {"拖欠": 1, "搅拌": 2}
    assert len(queries) == 1
    # a higher cap than the one reached is counted
    assert similar.document_frequencies(["搅拌"], cap=5) == {"搅拌": 2}
    similar._saturated.clear()


def test_counts_of_common_terms_are_remembered_with_their_value(county, people, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.routing import similar

    similar._saturated.clear()
    monkeypatch.setattr(similar, "MEMO_MIN", 2)  # "common" from two matters up
    for day in (2, 3):
        _noise(county, people, day)
    register(county, people.clerk, bj(2026, 11, 4, 9), title="拖欠工资", content="公司拖欠工资。")
    assert similar.document_frequencies(["搅拌", "拖欠"], cap=10) == {"搅拌": 2, "拖欠": 1}
    _noise(county, people, 5)
    with CaptureQueriesContext(connection) as queries:  # 搅拌 remembered (exact under the cap)
        assert similar.document_frequencies(["搅拌"], cap=50) == {"搅拌": 2}
        assert similar.document_frequencies(["搅拌"], cap=1) == {"搅拌": 1}
    assert len(queries) == 0
    register(county, people.clerk, bj(2026, 11, 6, 9), title="拖欠工资", content="拖欠工资。")
    assert similar.document_frequencies(["拖欠"], cap=10) == {"拖欠": 2}  # rare: read afresh
    similar._saturated.clear()
