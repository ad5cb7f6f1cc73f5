"""Routing settings: Django settings read from the environment once at start (xinfang/settings.py).

- XINFANG_ROUTING_MODEL (in settings.py): the model file, default var/routing-model.joblib.
- XINFANG_SIMILAR_DAYS: how far back similar closed matters are shown (default 365 days;
  open matters are shown whatever their age).
- XINFANG_SIMILAR_MIN_SCORE: the lowest similarity (0-100) shown as a similar matter (default 45).
- XINFANG_HOT_THRESHOLD: cosine similarity that puts two matters in one hot-issue cluster
  (default 0.25, given as a percentage: 25).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def model_path() -> Path:
    """Where the routing model lives."""
    return Path(settings.XINFANG_ROUTING_MODEL)


def similar_days() -> int:
    return settings.XINFANG_SIMILAR_DAYS


def similar_min_score() -> int:
    return settings.XINFANG_SIMILAR_MIN_SCORE


def hot_threshold() -> float:
    return settings.XINFANG_HOT_THRESHOLD / 100
