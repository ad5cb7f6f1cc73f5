"""Configuration of the open interfaces: Django settings read from the environment at start
(xinfang/settings.py); a test overrides them with pytest-django's `settings` fixture.

| variable | default | meaning |
|---|---|---|
| XINFANG_OPEN311_OFFICE | first petition office | unit code of the office that registers Open311 requests |
| XINFANG_OPEN311_MAX_RECORDS | 1000 | most requests one GET requests returns |
| XINFANG_OPEN311_MAX_DAYS | 90 | widest start_date..end_date window, and the default window |
| XINFANG_OPEN311_KINDS | {} | JSON: category code → matter type (default hotline_complaint) |
| XINFANG_OPEN311_RESPOND_WITH_TOKEN | false | answer a POST with a token instead of the request id |
| XINFANG_OPEN311_CONTACT | the office name | contact line in discovery |

POST requests also keeps the portal's submission limits per client address and per phone or
e-mail (XINFANG_PORTAL_SUBMIT_*, `xinfang.portal.limits`): past them, 429 with Retry-After.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_KIND = "hotline_complaint"


def office_code() -> str:
    return settings.XINFANG_OPEN311_OFFICE


def max_records() -> int:
    return settings.XINFANG_OPEN311_MAX_RECORDS


def max_days() -> int:
    return settings.XINFANG_OPEN311_MAX_DAYS


def kind_for(category_code: str, parent_code: str = "") -> str:
    """The matter type for a service: the category's own mapping, else its parent's, else 投诉."""
    mapping = settings.XINFANG_OPEN311_KINDS
    return mapping.get(category_code) or mapping.get(parent_code) or DEFAULT_KIND


def respond_with_token() -> bool:
    return settings.XINFANG_OPEN311_RESPOND_WITH_TOKEN


def contact() -> str:
    return settings.XINFANG_OPEN311_CONTACT or settings.XINFANG_OFFICE_NAME
