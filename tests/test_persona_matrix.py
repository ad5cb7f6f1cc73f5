"""Persona × page: who sees which page of which matter, and nothing leaks.

Two matters: an ordinary appeal routed to the labour bureau (人社局), and a report (检举控告)
against the petition office itself, so that the office's own clerk handles a matter in which
the office is accused and must never see who made it.
"""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import services
from xinfang.cases.models import Kind
from xinfang.orgs.models import PersonalDataView

VISIBLE = 200
HIDDEN = 404

# persona: (appeal detail, report detail)
DETAIL = {
    "clerk": (VISIBLE, VISIBLE),
    "officer": (VISIBLE, VISIBLE),
    "head": (VISIBLE, VISIBLE),
    "supervisor": (VISIBLE, VISIBLE),
    "outsider": (HIDDEN, HIDDEN),
    "accused_officer": (HIDDEN, HIDDEN),
    "reviewer": (HIDDEN, HIDDEN),
    "admin": (VISIBLE, VISIBLE),
}
# Who may see the complainant of the report: everyone who sees it, except the accused office.
SEES_COMPLAINANT = {"officer", "head", "supervisor", "admin"}


@pytest.fixture
def matters(county, people):
    appeal = register(county, people.clerk, bj(2026, 11, 2, 9))
    appeal = services.case_route(case=appeal, by=people.clerk, unit=county.hr)
    report = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="反映信访局工作人员推诿",
        content="信访局某工作人员多次推诿不予登记。",
        accused_unit=county.office,
        petitioner=petitioner(name="王举报", phone="13900001111"),
    )
    report = services.case_route(case=report, by=people.clerk, unit=county.hr)
    return appeal, report


def _client_for(client, people, persona):
    user = getattr(people, persona)
    assert client.login(username=user.username, password=PASSWORD)
    return user


@pytest.mark.parametrize("persona", sorted(DETAIL))
def test_detail_page_visibility(client, people, matters, persona):
    user = _client_for(client, people, persona)
    for case, expected in zip(matters, DETAIL[persona], strict=True):
        response = client.get(reverse("cases:detail", args=[case.pk]))
        assert response.status_code == expected, (persona, case.kind)
    report = matters[1]
    page = client.get(reverse("cases:detail", args=[report.pk]))
    if page.status_code == VISIBLE:
        text = page.content.decode()
        sees = persona in SEES_COMPLAINANT
        assert ("王举报" in text) is sees
        assert "13900001111" not in text  # masked until revealed on purpose
        assert ("139****1111" in text) is sees
        assert not PersonalDataView.objects.filter(user=user).exists()  # a GET writes no audit row
        revealed = client.post(reverse("cases:reveal", args=[report.pk]), {"reason": "电话回访"})
        assert ("13900001111" in revealed.content.decode()) is sees
        assert (
            PersonalDataView.objects.filter(user=user, case=report, reason="电话回访").exists()
            is sees
        )


@pytest.mark.parametrize("persona", sorted(DETAIL))
def test_queue_never_shows_hidden_matters_or_full_numbers(client, people, matters, persona):
    _client_for(client, people, persona)
    shown = set()
    for scope in ("lead", "office", "review", "rereview", "co"):
        text = client.get(reverse("cases:queue"), {"scope": scope}).content.decode()
        assert VALID_PHONE not in text and VALID_ID not in text and "13900001111" not in text
        if persona not in SEES_COMPLAINANT:
            assert "王举报" not in text
        shown |= {c.number for c in matters if c.number in text}
    expected = {
        c.number for c, code in zip(matters, DETAIL[persona], strict=True) if code == VISIBLE
    }
    assert shown == expected


@pytest.mark.parametrize("persona", sorted(DETAIL))
def test_actions_cannot_be_forced_by_hidden_users(client, people, matters, persona):
    _client_for(client, people, persona)
    appeal, _report = matters
    response = client.post(
        reverse("cases:act", args=[appeal.pk, "accept"]), {"version": appeal.version}
    )
    appeal.refresh_from_db()
    accepted = appeal.state == "accepted"
    # Only the lead unit handles; administrators keep the system but never act on matters.
    assert accepted is (persona in {"officer", "head"}), persona
    if DETAIL[persona][0] == HIDDEN:
        assert response.status_code == HIDDEN


def test_queue_page_query_count_does_not_grow_with_rows(
    client, county, people, django_assert_max_num_queries
):
    for day in range(1, 26):
        case = register(county, people.clerk, bj(2026, 10, day, 9))
        services.case_route(case=case, by=people.clerk, unit=county.hr)
    assert client.login(username="officer", password=PASSWORD)
    with django_assert_max_num_queries(9):  # 8 + the header's reminder bell (one count)
        response = client.get(reverse("cases:queue"))
    assert response.content.decode().count("XF430102-2026-") >= 20


def test_case_page_query_count_does_not_grow_with_the_timeline(
    client, county, people, django_assert_max_num_queries
):
    case = register(county, people.clerk, bj(2026, 10, 1, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, co_units=[county.edu])
    case = services.case_accept(case=case, by=people.officer)
    for i in range(15):
        case = services.case_urge(case=case, by=people.supervisor, note=f"第{i + 1}次催办")
    assert client.login(username="officer", password=PASSWORD)
    # 16, + the header's reminder bell (one count), + the supervision box (its orders)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.content.decode().count("催办") >= 15
