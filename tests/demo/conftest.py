"""The demo trains the routing model at the configured path: in these tests, a temporary one,
never the developer's var/ (and never one file shared by parallel test processes). In place of
the shipped labelled messages (which tests never read), a small synthetic base of the same kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.routing.helpers import synthetic_rows, write_csv


def demo_base_csv(folder: Path) -> Path:
    """Labelled messages of three of the demo's categories, as XINFANG_ROUTING_BASE_CSV."""
    return write_csv(folder / "base.csv", synthetic_rows(n_per_label=60))


@pytest.fixture(autouse=True)
def _routing_model_in_tmp(settings, tmp_path):
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "routing-model.joblib")
    settings.XINFANG_ROUTING_BASE_CSV = str(demo_base_csv(tmp_path))
