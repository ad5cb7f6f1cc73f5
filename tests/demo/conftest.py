"""The demo trains the routing model at the configured path: in these tests, a temporary one,
never the developer's var/ (and never one file shared by parallel test processes)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _routing_model_in_tmp(settings, tmp_path):
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "routing-model.joblib")
