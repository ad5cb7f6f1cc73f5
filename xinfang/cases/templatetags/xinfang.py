"""Template filters for dates the way an office writes them."""

from __future__ import annotations

import datetime as dt

from django import template

from xinfang.cases import deadlines, events

register = template.Library()


@register.filter
def deadline(value: dt.datetime | None) -> str:
    """A deadline at 24:00 is shown as its last day's 24:00, never as 00:00 of the next day."""
    return deadlines.format_deadline(value)


@register.filter
def last_day(value: dt.datetime | None) -> dt.date | None:
    """The last day of a deadline (a date, for `|date:"Y年n月j日"`)."""
    return deadlines.last_day(value) if value is not None else None


@register.filter
def cn_deadline(value: dt.datetime | None) -> str:
    """The last day as a notice writes it: 2026年12月18日."""
    return deadlines.cn_last_day(value, empty="—")


@register.inclusion_tag("cases/calendar_banner.html", takes_context=True)
def calendar_banner(context) -> dict:
    """For admins: the holiday years an open clock may run into that nobody has entered yet."""
    from xinfang.cases import holidays

    user = context.get("user")
    return {"check": holidays.calendar_check() if holidays.is_admin(user) else None}


@register.filter
def event_label(kind: str) -> str:
    """The staff label of an event kind, from the event vocabulary (cases.events.EVENTS)."""
    return events.label(kind)


@register.filter
def get(mapping, key):
    """`mapping|get:key`: a dictionary look-up with a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
