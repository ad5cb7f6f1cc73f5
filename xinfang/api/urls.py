"""/api/… (JSON API, OpenAPI at /api/openapi.json, docs at /api/docs) and /open311/v2/…
(Open311 GeoReport v2, OpenAPI at /open311/v2/openapi.json).

No app namespace: the JSON API brings its own ("xinfang-api"), and the Open311 routes are
named "open311-…".
"""

from functools import cache

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from xinfang.api import open311
from xinfang.api.rest import api

FMT = r"\.(?P<fmt>json|xml)$"


@cache
def _schema() -> dict:
    """Built once per process: the routes never change while it runs, and building walks every
    pydantic model (about a second)."""
    return api.get_openapi_schema()


def openapi_json(request: HttpRequest) -> JsonResponse:
    """The OpenAPI 3 schema with Chinese left readable (ninja's own view escapes it)."""
    return JsonResponse(_schema(), json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("api/openapi.json", openapi_json, name="api-openapi"),
    path("api/", api.urls),
    path("open311/v2/openapi.json", open311.openapi, name="open311-openapi"),
    re_path(r"^open311/v2/discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^open311/v2/services" + FMT, open311.services_list, name="open311-services"),
    re_path(
        r"^open311/v2/services/(?P<code>[^/]+?)" + FMT,
        open311.service_definition,
        name="open311-service",
    ),
    re_path(r"^open311/v2/requests" + FMT, open311.requests, name="open311-requests"),
    re_path(
        r"^open311/v2/requests/(?P<request_id>[^/]+?)" + FMT,
        open311.request_detail,
        name="open311-request",
    ),
    re_path(r"^open311/v2/tokens/(?P<token>[^/]+?)" + FMT, open311.token, name="open311-token"),
    re_path(r"^open311/v2/(?P<rest>.*)$", open311.not_found, name="open311-not-found"),
]
