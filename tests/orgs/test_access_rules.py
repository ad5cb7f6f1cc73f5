"""Who sees which matter, who sees the petitioner, and who may do what, persona by persona."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from tests.factories import bj, make_user, register
from xinfang.cases import access, services
from xinfang.cases.models import Case, Kind, Outcome, Rating
from xinfang.orgs.models import Role, Unit


@dataclass
class Matters:
    registered: Case  # at the office, not yet routed
    wages: Case  # routed to 人社局 (hr), 东湖街道 (town) co-handles
    accusation: Case  # 检举控告 against 住建局 (housing), routed to hr
    reviewing: Case  # hr replied; under review at the county government
    school: Case | None  # routed to the school under 教育局 (edu), when asked for


def _matters(county, people, *, with_school: bool = False) -> Matters:
    at = bj(2026, 9, 1, 9)
    registered = register(county, people.clerk, at, title="尚未转送的事项")
    wages = services.case_route(
        case=register(county, people.clerk, at),
        by=people.clerk,
        unit=county.hr,
        co_units=[county.town],
        at=bj(2026, 9, 2),
    )
    accusation = services.case_route(
        case=register(
            county,
            people.clerk,
            at,
            kind=Kind.ACCUSATION,
            accused_unit=county.housing,
            accused_person="住建局某科长",
            title="举报住建局某科长收受好处",
        ),
        by=people.clerk,
        unit=county.hr,
        at=bj(2026, 9, 2),
    )
    reviewing = services.case_route(
        case=register(county, people.clerk, at), by=people.clerk, unit=county.hr, at=bj(2026, 9, 2)
    )
    reviewing = services.case_accept(case=reviewing, by=people.officer, at=bj(2026, 9, 3))
    reviewing = services.case_reply(
        case=reviewing, by=people.officer, outcome=Outcome.EXPLAINED, text="解释", at=bj(2026, 9, 4)
    )
    reviewing = services.case_request_review(
        case=reviewing, by=people.clerk, reason="不服", at=bj(2026, 9, 5)
    )
    school = None
    if with_school:
        school = services.case_route(
            case=register(county, people.clerk, at, category=county.schooling),
            by=people.clerk,
            unit=county.school,
            at=bj(2026, 9, 2),
        )
    return Matters(registered, wages, accusation, reviewing, school)


def _visible(user) -> set[int]:
    return set(access.visible_cases(user).values_list("pk", flat=True))


# ---------------------------------------------------------------- who sees which matter


def test_visible_cases_persona_by_persona(county, people):
    m = _matters(county, people)
    every = {m.registered.pk, m.wages.pk, m.accusation.pk, m.reviewing.pk}
    expected = {
        "clerk": every,  # registered by the office
        "officer": {m.wages.pk, m.accusation.pk, m.reviewing.pk},  # hr leads them
        "head": {m.wages.pk, m.accusation.pk, m.reviewing.pk},
        "supervisor": every,  # the whole county subtree
        "outsider": set(),
        "accused_officer": set(),
        "reviewer": {m.reviewing.pk},  # the county government reviews it
        "rereviewer": set(),
        "admin": every,
    }
    for name, ids in expected.items():
        user = getattr(people, name)
        assert _visible(user) == ids, name
        for case in (m.registered, m.wages, m.accusation, m.reviewing):
            assert access.can_view(user, case) is (case.pk in ids), (name, case.title)


def test_co_handler_and_subtree_heads_see_their_matters(county, people):
    m = _matters(county, people, with_school=True)
    town_officer = make_user("town", county.town, Role.OFFICER)
    edu_head = make_user("edu_head", county.edu, Role.HEAD)
    assert _visible(town_officer) == {m.wages.pk}
    # The school is under 教育局: its head sees it, its plain officer does not.
    assert _visible(edu_head) == {m.school.pk}
    assert _visible(people.outsider) == set()
    assert access.can_view(people.supervisor, m.school)


def test_no_unit_inactive_or_anonymous_sees_nothing(county, people):
    m = _matters(county, people)
    drifter = make_user("drifter", None, Role.OFFICER)
    people.officer.is_active = False
    for user in (drifter, people.officer, AnonymousUser()):
        assert _visible(user) == set()
        assert not access.can_view(user, m.wages)
        assert access.allowed_actions(user, m.wages) == []


def test_queues_split_by_role_of_the_unit(county, people):
    m = _matters(county, people)
    assert set(access.queue_cases(people.officer, "lead").values_list("pk", flat=True)) == {
        m.wages.pk,
        m.accusation.pk,
        m.reviewing.pk,
    }
    assert set(access.queue_cases(people.reviewer, "review").values_list("pk", flat=True)) == {
        m.reviewing.pk
    }
    town_officer = make_user("town", county.town, Role.OFFICER)
    assert list(access.queue_cases(town_officer, "co").values_list("pk", flat=True)) == [m.wages.pk]
    assert access.queue_cases(people.outsider, "lead").count() == 0
    assert access.default_queue_scope(people.clerk) == "office"
    assert access.default_queue_scope(people.officer) == "lead"


# ---------------------------------------------------------------- confidentiality of reports


def test_petitioner_of_a_report_is_hidden_from_the_accused_unit(county, people):
    m = _matters(county, people)
    case = m.accusation
    sees = {
        name: access.can_see_petitioner(getattr(people, name), case)
        for name in (
            "clerk",
            "officer",
            "head",
            "supervisor",
            "admin",
            "outsider",
            "accused_officer",
        )
    }
    assert sees == {
        "clerk": True,
        "officer": True,
        "head": True,
        "supervisor": True,
        "admin": True,
        "outsider": False,  # cannot see the matter at all
        "accused_officer": False,
    }


def test_accused_unit_never_sees_the_petitioner_even_with_the_matter_in_hand(county, people):
    m = _matters(county, people)
    below = Unit.objects.create(
        name="住建局质监站",
        code="ZJZ430102",
        parent=county.housing,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.OTHER,
    )
    station = make_user("station", below, Role.OFFICER)
    housing_head = make_user("housing_head", county.housing, Role.HEAD)
    # Even if the matter somehow sits with the accused unit (a legacy import, a manual fix),
    # the matter may be visible but the complainant stays hidden.
    Case.objects.filter(pk=m.accusation.pk).update(lead_unit=county.housing)
    case = Case.objects.get(pk=m.accusation.pk)
    for user in (people.accused_officer, housing_head, station):
        assert access.in_accused_unit(user, case)
        assert access.can_see_petitioner(user, case) is False
        assert access.can_see_petitioner(user, case, known_visible=True) is False
    assert access.can_view(people.accused_officer, case)
    assert access.can_view(housing_head, case)
    # The unit above the accused (the county government) is not the accused.
    assert not access.in_accused_unit(people.supervisor, case)
    assert access.can_see_petitioner(people.supervisor, case)


def test_hotline_complaints_are_confidential_too(county, people):
    case = register(
        county,
        people.clerk,
        bj(2026, 9, 1, 9),
        kind=Kind.HOTLINE_COMPLAINT,
        channel="phone",
        accused_unit=county.housing,
    )
    Case.objects.filter(pk=case.pk).update(lead_unit=county.housing)
    case = Case.objects.get(pk=case.pk)
    assert not access.can_see_petitioner(people.accused_officer, case)
    assert access.can_see_petitioner(people.clerk, case)


def test_a_non_confidential_matter_shows_the_petitioner_to_whoever_may_view_it(county, people):
    m = _matters(county, people)
    assert access.can_see_petitioner(people.officer, m.wages)
    assert not access.can_see_petitioner(people.outsider, m.wages)


# ---------------------------------------------------------------- who may do what


def test_allowed_actions_on_a_registered_matter(county, people):
    case = _matters(county, people).registered
    assert access.allowed_actions(people.clerk, case) == ["route", "decline", "not_accept_again"]
    assert access.allowed_actions(people.supervisor, case) == ["urge"]
    for name in ("officer", "head", "outsider", "accused_officer", "reviewer", "rereviewer"):
        assert access.allowed_actions(getattr(people, name), case) == [], name


def test_allowed_actions_on_a_routed_matter(county, people):
    case = _matters(county, people).wages
    handler = ["object", "accept", "decline", "not_accept_again"]
    assert access.allowed_actions(people.officer, case) == handler
    assert access.allowed_actions(people.head, case) == handler
    assert access.allowed_actions(people.clerk, case) == []
    assert access.allowed_actions(people.supervisor, case) == ["urge"]
    town_officer = make_user("town", county.town, Role.OFFICER)
    assert access.can_view(town_officer, case)
    assert access.allowed_actions(town_officer, case) == []  # co-handlers do not decide
    assert access.allowed_actions(people.outsider, case) == []


def test_allowed_actions_while_handling(county, people):
    case = services.case_accept(
        case=_matters(county, people).wages, by=people.officer, at=bj(2026, 9, 3)
    )
    assert access.allowed_actions(people.officer, case) == ["reply", "pause"]
    assert access.allowed_actions(people.head, case) == ["extend", "reply", "pause"]
    assert access.allowed_actions(people.clerk, case) == []
    assert access.allowed_actions(people.supervisor, case) == ["urge"]
    assert access.allowed_actions(people.reviewer, case) == []
    case = services.case_pause(case=case, by=people.officer, reason="听证", at=bj(2026, 9, 4))
    assert access.allowed_actions(people.officer, case) == ["reply", "resume"]
    case = services.case_resume(case=case, by=people.officer, at=bj(2026, 9, 5))
    case = services.case_extend(
        case=case, by=people.head, days=10, reason="复杂", at=bj(2026, 9, 6)
    )
    assert access.allowed_actions(people.head, case) == ["reply", "pause"]


def test_allowed_actions_after_the_reply_and_in_review(county, people):
    m = _matters(county, people)
    case = m.reviewing
    assert access.allowed_actions(people.reviewer, case) == ["decide_review", "pause"]
    assert access.allowed_actions(people.clerk, case) == ["rate"]
    assert access.allowed_actions(people.officer, case) == []
    assert access.allowed_actions(people.supervisor, case) == ["urge"]
    assert access.allowed_actions(people.rereviewer, case) == []
    replied = services.case_reply(
        case=services.case_accept(case=m.wages, by=people.officer, at=bj(2026, 9, 3)),
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="支持",
        at=bj(2026, 9, 4),
    )
    assert access.allowed_actions(people.clerk, replied) == ["rate", "request_review"]
    assert access.allowed_actions(people.officer, replied) == []
    assert access.allowed_actions(people.reviewer, replied) == []  # no review asked yet
    rated = services.case_rate(
        case=replied, by=people.clerk, rating=Rating.SATISFIED, at=bj(2026, 9, 5)
    )
    assert access.allowed_actions(people.clerk, rated) == ["request_review"]


def test_admins_keep_the_system_but_do_not_handle_matters(county, people):
    m = _matters(county, people)
    for case in (m.registered, m.wages, m.reviewing):
        assert access.can_view(people.admin, case)
        assert access.allowed_actions(people.admin, case) == []


def test_may_agrees_with_allowed_actions(county, people):
    m = _matters(county, people)
    from xinfang.cases.workflow import ACTIONS

    for name in ("clerk", "officer", "head", "supervisor", "outsider", "reviewer", "admin"):
        user = getattr(people, name)
        for case in (m.registered, m.wages, m.accusation, m.reviewing):
            allowed = set(access.allowed_actions(user, case))
            assert {a for a in ACTIONS if access.may(user, case, a)} == allowed
