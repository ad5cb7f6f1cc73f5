"""模型版本 pages (administrators only): the kept routing models with their scores, which one
is current, and the promote / roll-back buttons. Thin: the rules are in `versions.py`.

Included from `routing/urls.py` under `versions/`, in the routing namespace.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from xinfang.routing import versions


def _admin_only(request: HttpRequest) -> None:
    if not versions.may_manage(request.user):
        raise PermissionDenied("只有系统管理员可以管理分派模型版本")


def _by(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


@login_required
def versions_page(request: HttpRequest) -> HttpResponse:
    """模型版本 and its JSON twin (?format=json)."""
    _admin_only(request)
    rows, recent = versions.list_versions(), versions.events()
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"versions": rows, "events": recent}, json_dumps_params={"ensure_ascii": False}
        )
    for item in (*rows, *recent):  # the page shows Beijing time, the JSON keeps ISO strings
        for key in ("trained_at", "promoted_at", "at"):
            item[f"{key}_dt"] = _when(item.get(key))
    current = next((r for r in rows if r["status"] == versions.CURRENT), None)
    return render(
        request,
        "routing/versions.html",
        {
            "rows": rows,
            "events": recent,
            "current": current,
            "rollback_to": versions.rollback_target(),
        },
    )


def _when(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@require_POST
def promote(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    try:
        entry = versions.promote(request.POST.get("version", ""), by=_by(request))
    except versions.VersionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已启用模型版本 {entry['version']}")
    return redirect("routing:versions")


@login_required
@require_POST
def rollback(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    try:
        entry = versions.rollback(request.POST.get("version") or None, by=_by(request))
    except versions.VersionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已回退到模型版本 {entry['version']}")
    return redirect("routing:versions")


urlpatterns = [
    path("", versions_page, name="versions"),
    path("promote/", promote, name="version_promote"),
    path("rollback/", rollback, name="version_rollback"),
]
