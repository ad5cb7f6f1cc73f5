"""The OpenAPI 3 schema at /api/openapi.json: valid and complete. That the server accepts what
it describes, and never answers 5xx, is tests/api/test_schemathesis.py (every check, every
operation, each as the person who uses it)."""

from __future__ import annotations

import json

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
