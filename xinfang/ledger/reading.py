"""Reading the first worksheet of an .xlsx, row by row: calamine (Rust) when it can, else
openpyxl checks the package and the worksheet XML is streamed with lxml, which also gives the
Chinese messages for broken files. Before either opens a part, the zip's directory is checked
for an archive bomb (`xinfang.lib.uploads.zip_problem`): nothing is inflated to find one."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel, from_ISO8601
from python_calamine import CalamineWorkbook, SheetTypeEnum

from xinfang.ledger.columns import EMPTY, NOT_XLSX, OLD_XLS, LedgerError
from xinfang.lib.uploads import IMPORT_ZIP, zip_problem

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _IS, _T = f"{_NS}row", f"{_NS}c", f"{_NS}v", f"{_NS}is", f"{_NS}t"
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    ValueError,
    TypeError,
    OSError,
    EOFError,
    IndexError,
    AttributeError,
    etree.LxmlError,
    SyntaxError,
)


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(letters)
        index = index * 26 + ord(ch) - 64
    return index - 1


_COLUMN_INDEX = {
    (a + b): _column_index(a + b) for a in ("", *"ABC") for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
}


def refuse_bomb(stream: IO[bytes]) -> None:
    """Raise LedgerError when the .xlsx would unpack like an archive bomb. A file that is not a
    zip at all passes: the readers say what it is instead."""
    head = stream.read(4)
    stream.seek(0)
    if head != b"PK\x03\x04":
        return
    problem = zip_problem(stream, IMPORT_ZIP)
    if problem:
        raise LedgerError(f"{problem}。该文件未被读取，请检查后重新保存为 .xlsx 再导入")


class _Sheet:
    """The first worksheet of an .xlsx, opened with openpyxl and streamed row by row."""

    def __init__(self, stream: IO[bytes]) -> None:
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise LedgerError(OLD_XLS)
        if not head:
            raise LedgerError("文件为空（0字节），请选择填好的台帐文件")
        refuse_bomb(stream)
        try:
            reader = ExcelReader(stream, read_only=True, data_only=True, keep_links=False)
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            paths = [
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if "chartsheet" not in rel.Type and rel.target in reader.valid_files
            ]
        except LedgerError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a broken package
            raise LedgerError(NOT_XLSX) from exc
        if not paths:
            raise LedgerError(EMPTY)
        self.archive = reader.archive
        self.path = paths[0]
        self.strings = reader.shared_strings
        self.date_styles = reader.wb._date_formats
        self.epoch = reader.wb.epoch

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, cell values from column A) for every row that has a cell."""
        try:
            with self.archive.open(self.path) as source:
                parser = etree.iterparse(
                    source, tag=_ROW, resolve_entities=False, no_network=True, huge_tree=True
                )
                number = 0
                for _event, row in parser:
                    r = row.get("r")
                    number = int(r) if r else number + 1
                    yield number, self._values(row)
                    row.clear(keep_tail=True)
                    parent = row.getparent()
                    if parent is not None and len(parent) > 1:
                        del parent[:-1]
        except LedgerError:
            raise
        except _READ_ERRORS as exc:
            raise LedgerError(NOT_XLSX) from exc

    def _values(self, row) -> list[Any]:
        values: list[Any] = []
        columns = _COLUMN_INDEX
        for c in row:
            ref = c.get("r")
            index = columns.get(ref.rstrip("0123456789")) if ref else None
            if index is None:
                index = _column_index(ref.rstrip("0123456789")) if ref else len(values)
            value = self._value(c)
            if value is None:
                continue
            if index == len(values):
                values.append(value)
                continue
            if index > len(values):
                values.extend([None] * (index + 1 - len(values)))
            values[index] = value
        return values

    def _value(self, c) -> Any:
        kind = c.get("t")
        if kind == "inlineStr":
            node = c.find(_IS)
            if node is None:
                return None
            if len(node) == 1 and node[0].tag == _T:
                return node[0].text or ""
            return "".join(node.itertext(_T))
        if not len(c):
            return None
        node = c[0] if c[0].tag == _V else c.find(_V)
        if node is None or node.text is None:
            return None
        text = node.text
        if kind == "s":
            return str(self.strings[int(text)])
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return from_ISO8601(text)
        number = float(text) if any(ch in text for ch in ".eE") else int(text)
        style = c.get("s")
        if style and int(style) in self.date_styles:
            return from_excel(number, self.epoch)
        return number


# Above this much worksheet XML (uncompressed) the sheet is streamed with lxml instead of being
# loaded whole by calamine, so memory stays bounded for any size.
CALAMINE_MAX_XML = 256 << 20


class _FastSheet:
    """The first worksheet read by calamine (Rust), several times faster than the lxml stream.

    Falls back to `_Sheet` (which also gives the Chinese messages for broken files) whenever
    calamine cannot read the file or the sheet is very large.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.sheet = None
        self.size: int | None = None  # rows, counted from Excel's row 1; None: streamed, unknown
        head = stream.read(8)
        stream.seek(0)
        if not head.startswith(b"PK"):
            return
        refuse_bomb(stream)
        try:
            with zipfile.ZipFile(stream) as archive:
                size = sum(
                    i.file_size
                    for i in archive.infolist()
                    if i.filename.startswith("xl/worksheets/")
                )
            stream.seek(0)
            if size > CALAMINE_MAX_XML:
                return
            book = CalamineWorkbook.from_filelike(stream)
            try:
                names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
                self.sheet = book.get_sheet_by_name(names[0]) if names else None
                self.size = (
                    self.sheet.end[0] + 1 if self.sheet is not None and self.sheet.height else 0
                )
            finally:
                book.close()
        except Exception:  # any failure: the openpyxl reader decides and explains
            self.sheet, self.size = None, None
        finally:
            stream.seek(0)

    @property
    def read(self) -> bool:
        """Whether calamine read the file (else rows are streamed by `_Sheet`)."""
        return self.size is not None

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(Excel row number, cells from column A). Cells become Python objects row by row, so
        checking starts as soon as the sheet is parsed."""
        if self.size is None:
            yield from _Sheet(self.stream).rows()
            return
        if not self.size:
            return
        # iter_rows starts at Excel's row 1 but at the first used column: pad back to column A.
        pad = [""] * self.sheet.start[1]
        for number, values in enumerate(self.sheet.iter_rows(), 1):
            yield number, pad + values if pad else values


def _open(source: str | os.PathLike | IO[bytes]) -> tuple[IO[bytes], bool]:
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb"), True
        except OSError as exc:
            raise LedgerError(f"无法打开文件：{exc.strerror or exc}") from exc
    if not source.seekable():
        return io.BytesIO(source.read()), True
    source.seek(0)
    return source, False


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()
