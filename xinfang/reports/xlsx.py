"""The .xlsx twin of the report pages: styled header, frozen panes, numbers as numbers, and
text that a spreadsheet could take for a formula written as text (xinfang/lib/xlsxcells.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xinfang.lib import xlsxcells
from xinfang.lib.xlsxcells import sheet_title


def write(out, title: str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(title))
    ws.freeze_panes = "B3"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")

    def cell(value, *, head: bool = False):
        c = xlsxcells.cell(ws, value)  # a formula-like text stays text
        if head:
            c.font, c.fill, c.alignment = bold, fill, Alignment(horizontal="center", wrap_text=True)
        return c

    ws.append([cell(title, head=True)])
    ws.append([cell(h, head=True) for h in header])
    for row in rows:
        ws.append([cell(v) for v in row])
    wb.save(out)
