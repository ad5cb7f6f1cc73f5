"""Fixtures for the JSON API and Open311 tests: bearer tokens per persona, a small JSON client."""

from __future__ import annotations

import json

import pytest

from tests.factories import Personas, bj, petitioner, register
from xinfang.api.services import api_token_issue, open311_key_issue
from xinfang.cases import services
from xinfang.cases.models import Kind

PERSONAS = list(Personas.__dataclass_fields__)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes several seconds, still part of the default run")


class Api:
    """Calls /api/… as one persona with `Authorization: Bearer <token>`."""

    def __init__(self, client, token: str) -> None:
        self.client, self.token = client, token

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, **self._headers())

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            path, json.dumps(body or {}), content_type="application/json", **self._headers()
        )


@pytest.fixture
def tokens(people) -> dict[str, str]:
    return {name: api_token_issue(user=getattr(people, name), name="test") for name in PERSONAS}


@pytest.fixture
def as_(client, tokens):
    """as_("officer").get("/api/cases") — the API as that persona."""
    return lambda persona: Api(client, tokens[persona])


@pytest.fixture
def o311_key(db) -> str:
    return open311_key_issue(name="城市服务App")


@pytest.fixture
def matters(county, people):
    """Five matters spread over units, states and scopes.

    appeal: routed to 人社局. report: a 检举控告 against the petition office, routed to 人社局.
    school: routed to 教育局 with 人社局 co-handling. fresh: only registered. reviewed: replied by
    人社局 and under review by the county government.
    """
    appeal = services.case_route(
        case=register(county, people.clerk, bj(2026, 11, 2, 9)), by=people.clerk, unit=county.hr
    )
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
    school = register(
        county,
        people.clerk,
        bj(2026, 11, 4, 9),
        title="入学划片不公",
        category=county.schooling,
        content="学区划分不合理，孩子无法就近入学。",
    )
    school = services.case_route(
        case=school, by=people.clerk, unit=county.edu, co_units=[county.hr]
    )
    fresh = register(county, people.clerk, bj(2026, 11, 5, 9), title="小区噪音扰民")
    reviewed = register(county, people.clerk, bj(2026, 11, 6, 9), title="工伤认定争议")
    reviewed = services.case_route(
        case=reviewed, by=people.clerk, unit=county.hr, at=bj(2026, 11, 6, 10)
    )
    reviewed = services.case_accept(case=reviewed, by=people.officer, at=bj(2026, 11, 7, 9))
    reviewed = services.case_reply(
        case=reviewed,
        by=people.officer,
        outcome="explained",
        text="依法解释",
        at=bj(2026, 11, 8, 9),
    )
    reviewed = services.case_request_review(
        case=reviewed, by=people.clerk, reason="不服", at=bj(2026, 11, 9, 9)
    )
    return {
        "appeal": appeal,
        "report": report,
        "school": school,
        "fresh": fresh,
        "reviewed": reviewed,
    }
