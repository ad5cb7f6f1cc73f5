"""Backlog test helpers: a frozen 'now', matters in the states the rules look at, a backlog case."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import bj, make_user, register
from xinfang.backlog import flagging
from xinfang.cases import services as case_services
from xinfang.cases.models import Outcome, Rating
from xinfang.orgs.models import Role

NOW = bj(2027, 3, 1, 10)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def accepted_case(county, people, at: dt.datetime, *, to_edu: bool = False, **kw):
    """A matter registered at `at`, routed to the labour (or education) bureau and accepted (办理中)."""
    case = register(county, people.clerk, at, **kw)
    unit, officer = (county.edu, people.outsider) if to_edu else (county.hr, people.officer)
    case = case_services.case_route(
        case=case, by=people.clerk, unit=unit, at=at + dt.timedelta(days=1)
    )
    return case_services.case_accept(case=case, by=officer, at=at + dt.timedelta(days=2))


def reviewing_case(county, people, at: dt.datetime, **kw):
    """A matter answered, rated, and now under review (复查中)."""
    case = accepted_case(county, people, at, **kw)
    case = case_services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.NOT_SUPPORTED,
        text="不予支持。",
        at=at + dt.timedelta(days=20),
    )
    case = case_services.case_rate(
        case=case, by=people.clerk, rating=Rating.UNSATISFIED, at=at + dt.timedelta(days=21)
    )
    return case_services.case_request_review(
        case=case, by=people.clerk, reason="不服", at=at + dt.timedelta(days=22)
    )


def repeat(county, people, case, at: dt.datetime):
    """The same matter raised again (重复信访), through the register."""
    return register(county, people.clerk, at, repeat_of=case)


def evidence(name: str = "承诺书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 signed statement", content_type="application/pdf")


@pytest.fixture
def town_head(county):
    return make_user("town_head", county.town, Role.HEAD, display_name="东湖街道刘主任")


@pytest.fixture
def backlog(county, people, now):
    """An open backlog case on an accepted matter registered 150 days ago, flagged by the supervisor."""
    case = accepted_case(county, people, NOW - dt.timedelta(days=150))
    return flagging.backlog_flag(
        case=case,
        by=people.supervisor,
        reason="久拖未决，群众反映强烈",
        at=NOW - dt.timedelta(days=1),
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded evidence goes to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
