"""A private calendar feed: the rota subscribed to from a phone or Outlook, without a session."""

from __future__ import annotations

import re

import pytest

from tests.reception.helpers import d, frozen, make_leaders, parse_ics
from xinfang.reception import services
from xinfang.reception.models import CalendarFeedToken
from xinfang.reception.services import Leader


@pytest.fixture
def rota(county, people):
    leaders = make_leaders(county)
    services.rota_fill(
        office=county.office,
        by=people.clerk,
        start=d("2026-09-30"),
        end=d("2026-10-12"),
        leaders=[Leader(user=leaders.director), Leader(user=leaders.deputy)],
    )
    return leaders


def _create_link(client, user) -> str:
    client.force_login(user)
    response = client.post("/reception/feed/", {"action": "create"})
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r"(/reception/feed/[A-Za-z0-9_-]{20,}\.ics)", html)
    assert match, html
    client.logout()
    return match.group(1)


def test_a_private_link_serves_the_same_calendar_without_a_session(client, county, people, rota):
    with frozen(2026, 9, 29, 9):
        client.force_login(people.clerk)
        logged_in = client.get(f"/reception/{county.office.code}/rota.ics")
        url = _create_link(client, people.clerk)
        response = client.get(url)  # no session: a calendar app
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")

    def events(raw):  # DTSTAMP is the day in the feed, so that its ETag holds all day
        return [{k: v for k, v in e.items() if k != "DTSTAMP"} for e in parse_ics(raw)]

    assert events(response.content) == events(logged_in.content) != []
    assert "private" in response["Cache-Control"] and response["ETag"]
    # the token itself is not stored, only its digest
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert not CalendarFeedToken.objects.filter(digest=token).exists()
    assert CalendarFeedToken.objects.filter(user=people.clerk, revoked__isnull=True).count() == 1
    # a calendar app asking again with the ETag gets 304 (cheap polling)
    with frozen(2026, 9, 29, 9):
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_link_is_shown_once(client, county, people, rota):
    _create_link(client, people.clerk)
    client.force_login(people.clerk)
    html = client.get("/reception/feed/").content.decode()
    assert not re.search(r"/reception/feed/[A-Za-z0-9_-]{20,}\.ics", html)
    assert "已启用" in html


def test_a_revoked_or_new_link_replaces_the_old_one(client, county, people, rota):
    first = _create_link(client, people.clerk)
    second = _create_link(client, people.clerk)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    client.force_login(people.clerk)
    client.post("/reception/feed/", {"action": "revoke"})
    client.logout()
    assert client.get(second).status_code == 404


@pytest.mark.parametrize("token", ["nope", "x" * 43, "%00", "a" * 500])
def test_an_unknown_token_is_404(client, db, token):
    assert client.get(f"/reception/feed/{token}.ics").status_code == 404


def test_a_deactivated_user_s_link_stops_working(client, county, people, rota):
    url = _create_link(client, people.clerk)
    people.clerk.is_active = False
    people.clerk.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_the_feed_follows_the_user_s_scope(client, county, people, rota):
    url = _create_link(client, people.outsider)  # sees no office's rota
    response = client.get(url)
    assert response.status_code == 200 and parse_ics(response.content) == []
    assert county.office.name not in response.content.decode()
