"""The answers app's settings, read at call time so tests can override them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def replies_csv() -> Path | None:
    """The starter file (replies.csv), or None when not configured."""
    raw = getattr(settings, "XINFANG_REPLIES_CSV", "")
    return Path(raw) if raw else None


def index_max() -> int:
    """How many of the office's newest replies the in-memory similarity index holds."""
    return int(getattr(settings, "XINFANG_ANSWERS_INDEX_MAX", 20_000))
