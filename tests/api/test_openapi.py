"""The OpenAPI 3 schema at /api/openapi.json: valid, complete, and no server error anywhere.

The schemathesis part generates requests for every operation from the schema itself and calls
the WSGI app in-process with a clerk's token; any 5xx fails. It is marked slow but is part of
the default run (about 20 operations × 25 examples).
"""

from __future__ import annotations

import json

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.checks import not_a_server_error

from tests.factories import bj, make_county, make_personas, register
from xinfang.api.services import api_token_issue
from xinfang.cases import services
from xinfang.cases.workflow import FORM_ACTIONS

ACTION_PATHS = {f"/api/cases/{{case_id}}/{name}" for name in FORM_ACTIONS}
SUPERVISION_PATHS = {
    "/api/supervision/orders",
    "/api/supervision/orders/{order_id}",
    "/api/supervision/orders/{order_id}/feedback",
    "/api/supervision/orders/{order_id}/close",
}
ASSESSMENT_PATHS = {"/api/assessments", "/api/assessments/{assessment_id}"}


def test_the_schema_is_openapi_3_with_every_operation(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "信访事项办理系统".encode() in response.content  # Chinese stays readable
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "信访事项办理系统 API"
    paths = schema["paths"]
    assert set(paths) == {
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/cases/{case_id}/reveal",
        "/api/cases/{case_id}/accused",
        "/api/units",
        "/api/categories",
        "/api/rates",
        *ACTION_PATHS,
        *SUPERVISION_PATHS,
        *ASSESSMENT_PATHS,
    }
    assert set(paths["/api/cases"]) == {"get", "post"}
    params = {p["name"] for p in paths["/api/cases"]["get"]["parameters"]}
    assert params == {
        "scope",
        "state",
        "due",
        "kind",
        "channel",
        "category",
        "place",
        "date_from",
        "date_to",
        "q",
        "after",
    }
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation["security"] == [{"BearerToken": []}], (path, method)
            assert operation["operationId"] and operation["summary"]
    route = paths["/api/cases/{case_id}/route"]["post"]
    assert set(route["responses"]) == {"200", "204", "400", "401", "403", "404", "409", "422"}
    assert route["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RouteIn"
    }
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_the_docs_page_is_served_without_any_outside_address(client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200 and b"openapi.json" in response.content
    assert b"swagger-ui-bundle.js" in response.content and b"cdn." not in response.content


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def _keep_the_test_connection():
    """Raw WSGI calls fire request_finished, which closes the database connection; inside a test
    transaction on PostgreSQL that ends the test's connection. Django's test client unhooks the
    same receivers for the same reason."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def clerk_token(db, _keep_the_test_connection) -> str:
    """A county with matters in several states, and a clerk's token to explore it with."""
    county = make_county()
    people = make_personas(county)
    for day in (2, 3, 4):
        case = register(county, people.clerk, bj(2026, 11, day, 9))
        if day > 2:
            services.case_route(case=case, by=people.clerk, unit=county.hr)
    return api_token_issue(user=people.clerk, name="schemathesis")


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_error_anywhere(case, clerk_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {clerk_token}"}, checks=[not_a_server_error]
    )
