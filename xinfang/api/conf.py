"""Configuration of the open interfaces, read from the environment at call time.

A Django setting of the same name (used by tests) wins over the environment variable.

| variable | default | meaning |
|---|---|---|
| XINFANG_OPEN311_OFFICE | first petition office | unit code of the office that registers Open311 requests |
| XINFANG_OPEN311_MAX_RECORDS | 1000 | most requests one GET requests returns |
| XINFANG_OPEN311_MAX_DAYS | 90 | widest start_date..end_date window, and the default window |
| XINFANG_OPEN311_KINDS | {} | JSON: category code → matter type (default hotline_complaint) |
| XINFANG_OPEN311_RESPOND_WITH_TOKEN | false | answer a POST with a token instead of the request id |
| XINFANG_OPEN311_CONTACT | the office name | contact line in discovery |
"""

from __future__ import annotations

from django.conf import settings

from xinfang.env import env_bool, env_int, env_json, env_str

DEFAULT_KIND = "hotline_complaint"


def _setting(name: str, reader, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    return reader(name, default)


def office_code() -> str:
    return _setting("XINFANG_OPEN311_OFFICE", env_str, "")


def max_records() -> int:
    return int(_setting("XINFANG_OPEN311_MAX_RECORDS", env_int, 1000))


def max_days() -> int:
    return int(_setting("XINFANG_OPEN311_MAX_DAYS", env_int, 90))


def kind_for(category_code: str, parent_code: str = "") -> str:
    """The matter type for a service: the category's own mapping, else its parent's, else 投诉."""
    mapping = _setting("XINFANG_OPEN311_KINDS", env_json, {})
    return mapping.get(category_code) or mapping.get(parent_code) or DEFAULT_KIND


def respond_with_token() -> bool:
    return bool(_setting("XINFANG_OPEN311_RESPOND_WITH_TOKEN", env_bool, False))


def contact() -> str:
    return _setting("XINFANG_OPEN311_CONTACT", env_str, "") or settings.XINFANG_OFFICE_NAME
