"""The streaming .xlsx writer of the export jobs (and of the bench).

openpyxl's write-only mode writes each row to the sheet's XML on disk as it comes (inline
strings, no shared-string table), so memory stays flat whatever the number of rows: the rows
come from a generator over `QuerySet.iterator(chunk_size=...)`, never from a list.
House style as in xinfang/reports/xlsx.py: styled header, frozen panes, numbers as numbers,
formula-like texts (= + - @ tab CR...) as text (xinfang/lib/xlsxcells.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from xinfang.lib.xlsxcells import cell as xlsx_cell
from xinfang.lib.xlsxcells import safe_row, sheet_title

PROGRESS_EVERY = 2000  # rows between two progress reports (one UPDATE each)


def write_xlsx(
    target: str | os.PathLike | IO[bytes],
    *,
    sheet: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
) -> int:
    """Write `rows` under the header `columns` ((name, width) pairs) to `target` (a path or a
    seekable binary file); call `progress(rows written)` every `every` rows. Returns the count."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(sheet))
    ws.freeze_panes = "A2"
    for index, (_name, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header = []
    for name, _width in columns:
        cell = xlsx_cell(ws, name)
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    count = 0
    for row in rows:
        ws.append(safe_row(ws, row))
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    if progress is not None:
        progress(count)  # the last rows; zipping a big sheet takes a while
    wb.save(target)
    return count


def private_file(path: str | os.PathLike) -> IO[bytes]:
    """Open `path` for writing, readable by this process's user only (0600), even if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w+b")
