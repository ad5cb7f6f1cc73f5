"""`{{ text|masked }}`: ID and phone numbers and e-mail addresses typed into a matter's free text
(title, content), masked (`lib.masking`) on staff pages; `{{ text|masked:revealed }}` shows them
in full only on the page answering 查看完整身份信息 (a POST with a reason, audited)."""

from __future__ import annotations

from django import template

from xinfang.lib.masking import mask_personal_data

register = template.Library()


@register.filter
def masked(text: str | None, revealed: bool = False) -> str:
    return str(text or "") if revealed else mask_personal_data(text)
