"""Template filters for dates the way an office writes them."""

from __future__ import annotations

import datetime as dt

from django import template

from xinfang.cases import deadlines

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
    "case.deadline_changed": "节假日调整，期限重算",
    "case.accused_recorded": "记录/更正被反映单位",
    "supervision.issued": "下达督办单",
    "supervision.feedback": "督办反馈",
    "supervision.escalated": "督办逾期未反馈",
    "supervision.closed": "督办办结",
    "supervision.redo": "督办退回重办",
    "cohandling.opinion": "协办意见",
}


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
    return EVENT_LABELS.get(kind, kind)


@register.filter
def get(mapping, key):
    """`mapping|get:key`: a dictionary look-up with a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
