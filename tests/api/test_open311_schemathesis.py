"""The Open311 OpenAPI document (/open311/v2/openapi.json) says what the server accepts.

As tests/api/test_schemathesis.py does for the JSON API: schemathesis reads the document and, for
every operation, generates requests that fit it (positive) and requests that break it
(negative), calls the WSGI app in-process and runs all its checks on each answer: no server
error, documented status codes, content types and headers, responses that match their schemas,
schema-valid requests never refused, schema-invalid ones never accepted.

A schema describes shapes, not the world. Where a generated value is schema-valid, the test
swaps it for a real one of the same kind before sending it: a real api_key and service code, a
phone number with a valid numbering plan, a picture address with a real host name, a
start_date..end_date window within the 90 days the server allows. The submission limits are
raised: they refuse valid requests by design (tests/api/test_open311_limits.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from tests.factories import VALID_PHONE, make_county
from xinfang.api.services import open311_key_issue

EXAMPLES = 20
# 404: a well-formed service code, request id or token that names nothing.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 404]}}}
)
schema = schemathesis.openapi.from_wsgi(
    "/open311/v2/openapi.json", get_wsgi_application(), config=CONFIG
)
STATS: Counter[str] = Counter()


@pytest.fixture
def _keep_the_test_connection():
    """Raw WSGI calls fire request_finished, which closes the database connection; inside a test
    transaction on PostgreSQL that ends the test's connection (as in test_schemathesis.py)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, _keep_the_test_connection):
    settings.XINFANG_PORTAL_SUBMIT_LIMIT = settings.XINFANG_PORTAL_SUBMIT_CONTACT_LIMIT = 10**6
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_PROXY_COUNT = 0
    cache.clear()
    county = make_county()
    return {"key": open311_key_issue(name="schemathesis"), "code": county.wages.code}


def _ground(case, world: dict, positive: bool) -> None:
    body = case.body if isinstance(case.body, dict) else None
    if positive and body is not None:
        body["api_key"] = world["key"]
        body["service_code"] = world["code"]
        if str(body.get("phone", "")).strip():
            body["phone"] = VALID_PHONE  # a numbering plan is beyond a pattern
        if str(body.get("media_url", "")).strip():
            body["media_url"] = "https://example.com/photo.jpg"  # so is a host name
    query = case.query if isinstance(case.query, dict) else None
    if positive and query:
        _window(query)


def _window(query: dict) -> None:
    """A start_date..end_date the server takes: start before end, 90 days at most."""
    try:
        start = dt.datetime.fromisoformat(query["start_date"]) if query.get("start_date") else None
        end = dt.datetime.fromisoformat(query["end_date"]) if query.get("end_date") else None
    except (TypeError, ValueError):
        return
    if start is not None and end is not None:
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
        query["start_date"], query["end_date"] = start.isoformat(), end.isoformat()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if STATS:
        print(
            f"\nschemathesis (Open311): {len(STATS) - 2} operations, {STATS['requests']} "
            f"requests, {STATS['checks']} checks run"
        )


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_open311_schema_says_what_the_server_accepts(case, world):
    positive = case.meta is None or case.meta.generation.mode.is_positive
    _ground(case, world, positive)
    case.call_and_validate()
    STATS[case.operation.label] += 1
    STATS["requests"] += 1
    STATS["checks"] += len(CHECKS.get_all())


def test_the_document_is_served_and_names_every_endpoint(client, db):
    body = client.get("/open311/v2/openapi.json").json()
    assert body["openapi"].startswith("3.")
    assert set(body["paths"]) == {
        "/open311/v2/discovery.json",
        "/open311/v2/services.json",
        "/open311/v2/services/{service_code}.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests/{service_request_id}.json",
        "/open311/v2/tokens/{token}.json",
    }
    assert set(body["paths"]["/open311/v2/requests.json"]) == {"get", "post"}


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_an_unsupported_method_is_a_405_not_a_csrf_403(client, db, method):
    """Found by the schemathesis run: Django's CSRF check answered 403 before the view's 405.
    Open311 uses no cookie or session, so its views are exempt and say which methods they take."""
    for path in (
        "/open311/v2/services.json",
        "/open311/v2/requests/X.json",
        "/open311/v2/openapi.json",
    ):
        answer = getattr(client, method)(path)
        assert answer.status_code == 405 and "GET" in answer["Allow"], path
