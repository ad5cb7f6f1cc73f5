"""The request a signed-in user's page receives (登录用户的请求).

Pages behind `@login_required` (and API routes behind session auth) only ever see our `User`;
Django's `HttpRequest` types `user` as `User | AnonymousUser`. Annotating such views with
`AuthedRequest` tells the type checker what the decorator guarantees (django-stubs' pattern).
Django still passes a plain `HttpRequest`; this class is never instantiated.
"""

from __future__ import annotations

from django.http import HttpRequest

from xinfang.orgs.models import User


class AuthedRequest(HttpRequest):
    """A request whose user is signed in."""

    user: User


def client_address(request: HttpRequest) -> str:
    """The client's address, for the limits that count per address (login, portal).

    Behind XINFANG_PROXY_COUNT reverse proxies, each appends the address it saw to
    X-Forwarded-For, so the client is the entry that many places from the right; entries
    further left are whatever the client wrote and are never trusted. Without proxies (0) it
    is the connection's address.
    """
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.XINFANG_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:  # not through the proxies: the header is the client's own words
        return remote
    return forwarded[-proxies][:64]
