"""The README's table of the default scheme says what the data migration creates."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from xinfang.assessment.items import ITEM_BY_NAME
from xinfang.reports.rates import BY_NAME

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULTS = importlib.import_module("xinfang.assessment.migrations.0002_default_scheme")


def _section() -> list[list[str]]:
    text = README.read_text(encoding="utf-8").split("## 考核与责任追究", 1)[1].split("\n## ", 1)[0]
    rows = [
        line.strip("|").split("|")
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    return [[c.strip() for c in row] for row in rows[1:]]


def _num(text: str) -> str:
    return re.sub(r"[^\d.]", "", text)


def test_the_readme_table_matches_the_default_scheme():
    rows = _section()
    assert len(rows) == len(DEFAULTS.INDICATORS) == len(DEFAULTS.ADJUSTMENTS)
    for row, (rate, weight), (item, points, cap) in zip(
        rows, DEFAULTS.INDICATORS, DEFAULTS.ADJUSTMENTS, strict=True
    ):
        label = BY_NAME[rate].label.replace("（12345）", "")
        assert row[0].startswith(label) and _num(row[1]) == weight
        assert (
            row[2].startswith(ITEM_BY_NAME[item].label[:4])
            and _num(row[3]) == points
            and _num(row[4]) == cap
        )
