"""Cells an .xlsx writer hands to openpyxl: a text that a spreadsheet could take for a formula
is written as text, never as a formula (CSV/formula injection: a citizen's title
"=HYPERLINK(...)" must not become a live link in an officer's Excel).

Following OWASP's "CSV Injection" guidance, a text is formula-like when it starts with = + - @,
a tab or a carriage return (and, for spreadsheets typed with a Chinese input method, their
full-width forms ＝ ＋ － ＠). openpyxl itself turns a string starting with "=" into a formula;
the others are stored as text but Excel re-reads them as a formula once the cell is edited,
hence the quote prefix (the apostrophe Excel shows in the formula bar, not part of the value):
the value stays exactly what was typed, readable and re-importable.

Every writer goes through `cell` / `safe_row` (write-only sheets) or `keep_text` (ordinary
sheets). Framework-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


_NOT_IN_SHEET_TITLES = re.compile(r"[\\/*?:\[\]]")


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of \\ / * ? : [ ] (a title
    such as "12345/热线" would otherwise make openpyxl raise)."""
    return _NOT_IN_SHEET_TITLES.sub("-", text)[:31] or "Sheet"


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _as_text(cell) -> None:
    cell.data_type = "s"  # a string, never "f"
    cell.quotePrefix = True


def text_cell(ws, value: str):
    """A write-only sheet's cell holding `value` as text, with Excel's quote prefix."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    _as_text(cell)
    return cell


def cell(ws, value: Any):
    """The one way a write-only sheet's cell is made when it needs a style: any value, with a
    formula-like text kept as text. Numbers and dates stay what they are."""
    from openpyxl.cell import WriteOnlyCell

    return text_cell(ws, value) if looks_like_formula(value) else WriteOnlyCell(ws, value=value)


def safe_row(ws, values: Sequence[Any]) -> list[Any]:
    """A row for `ws.append` on a write-only sheet: formula-like texts as text cells, the rest
    (numbers, dates, plain texts) as they are, so numbers stay numbers."""
    return [text_cell(ws, v) if looks_like_formula(v) else v for v in values]


def keep_text(cells: Iterable) -> None:
    """For an ordinary (not write-only) sheet, after `ws.append`: formula-like texts stay text."""
    for c in cells:
        if looks_like_formula(c.value):
            _as_text(c)
