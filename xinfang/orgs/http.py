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
