"""The supervision box on the case page, as an inclusion tag: the case page names it in its
template ({% supervision_box %}) and no view of another app imports supervision's views."""

from __future__ import annotations

from django import template

from xinfang.supervision.views import case_box

register = template.Library()


@register.inclusion_tag("supervision/_case_box.html", takes_context=True)
def supervision_box(context: template.Context) -> dict:
    """督办单 and 协办意见 of the page's `case`, for the page's user."""
    case, request = context["case"], context["request"]
    return {
        "case": case,
        "supervision": case_box(request.user, case),
        "csrf_token": context.get("csrf_token"),
    }
