"""The bell in the header: the user's unread running reminders, one indexed query."""

from __future__ import annotations

from django import template

from xinfang.notify import selectors

register = template.Library()


@register.inclusion_tag("notify/_bell.html", takes_context=True)
def notify_bell(context) -> dict:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"show": False}
    count = selectors.unread_count(user)
    return {
        "show": True,
        "count": count,
        "label": f"{selectors.BELL_CAP}+" if count > selectors.BELL_CAP else str(count),
    }
