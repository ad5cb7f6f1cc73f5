"""`{% if user|is_auditor %}`: the staff navigation shows 个人信息查看记录 to those the audit
viewer lets in (`ops.audit.is_auditor`), so the link and the page never disagree."""

from __future__ import annotations

from django import template

from xinfang.ops import audit

register = template.Library()


@register.filter
def is_auditor(user) -> bool:
    return audit.is_auditor(user)
