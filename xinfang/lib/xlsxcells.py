"""Cells an .xlsx writer hands to openpyxl: a text that a spreadsheet could take for a formula
(it starts with =, +, - or @) is written as text, never as a formula (CSV/formula injection: a
citizen's title "=HYPERLINK(...)" must not become a live link in an officer's Excel).

openpyxl itself turns a string starting with "=" into a formula; the others are stored as text
but Excel re-reads them as a formula once the cell is edited, hence the quote prefix (the
apostrophe Excel shows in the formula bar). Framework-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@")


_NOT_IN_SHEET_TITLES = re.compile(r"[\\/*?:\[\]]")


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of \\ / * ? : [ ] (a title
    such as "12345/热线" would otherwise make openpyxl raise)."""
    return _NOT_IN_SHEET_TITLES.sub("-", text)[:31] or "Sheet"


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def text_cell(ws, value: str):
    """A write-only sheet's cell holding `value` as text, with Excel's quote prefix."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_row(ws, values: Sequence[Any]) -> list[Any]:
    """A row for `ws.append` on a write-only sheet: formula-like texts as text cells, the rest
    (numbers, dates, plain texts) as they are, so numbers stay numbers."""
    return [text_cell(ws, v) if looks_like_formula(v) else v for v in values]


def keep_text(cells: Iterable) -> None:
    """For an ordinary (not write-only) sheet, after `ws.append`: formula-like texts stay text."""
    for cell in cells:
        if looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
