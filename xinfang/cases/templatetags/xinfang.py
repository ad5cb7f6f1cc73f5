"""Template filters for dates the way an office writes them."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()

EVENT_LABELS = {
    "case.registered": "登记",
    "case.routed": "转送/交办",
    "case.objected": "异议退回",
    "case.accepted": "受理",
    "case.declined": "不予受理",
    "case.not_accepted_again": "不再受理",
    "case.extended": "延期",
    "case.replied": "答复",
    "case.rated": "评价",
    "case.report_submitted": "报送办结报告",
    "case.review_requested": "申请复查",
    "case.review_decided": "复查决定",
    "case.rereview_requested": "申请复核",
    "case.rereview_decided": "复核决定",
    "case.paused": "中止计时",
    "case.resumed": "恢复计时",
    "case.finalized": "期满终结",
    "case.urged": "催办",
    "case.repeat_received": "重复信访",
    "case.merged": "并单（并入主事项）",
    "case.merge_received": "并入事项",
}


@register.filter
def deadline(value: dt.datetime | None) -> str:
    """A deadline at 24:00 is shown as that day's 24时, as a notice would write it."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    if local.time() == dt.time(0):
        return f"{(local - dt.timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


@register.filter
def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind)


@register.filter
def get(mapping, key):
    """`mapping|get:key`: a dictionary look-up with a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
