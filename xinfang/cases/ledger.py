"""Excel ledgers (台帐) in and out.

Import (台帐导入): the first row is the header (Chinese column names, any order, unknown
columns ignored). Every row is checked with the registration form's rules and the look-ups, and
every problem is reported as "第12行 身份证号：…"; a file with any problem registers nothing.

Reading and checking run in a forked process (`_checked`) while this process, which holds the
database connection, writes the clean rows it receives, so the two cores work at once. A file of
up to ATOMIC_ROWS rows is written in one transaction as it is being checked and rolled back on
the first problem; a killed import leaves nothing. A bigger file is checked whole first (its
batches wait in a temporary spool file), then written in batches, each one transaction together
with its `ImportJob` progress, so a killed import resumes after the last committed batch when
the same file is imported again.

Rows come from calamine (Rust) when it can read the file; otherwise, and for very large
sheets, openpyxl opens and checks the package and the worksheet XML is streamed with lxml, one
row at a time, which also gives the Chinese messages for broken files.

Export (台帐导出): `export_cases` streams a queryset into an .xlsx with openpyxl's write-only
mode.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import multiprocessing
import os
import pickle
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from django.db import connection, transaction
from django.db.models import F, QuerySet, Value, prefetch_related_objects
from django.utils import timezone
from lxml import etree
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Font
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook, SheetTypeEnum

from xinfang.cases import access, bulk, clocks, deadlines, validators
from xinfang.cases.models import (
    CONFIDENTIAL_KINDS,
    Case,
    Channel,
    ImportJob,
    Kind,
    Outcome,
    Rating,
    State,
)
from xinfang.cases.selectors import case_due_state
from xinfang.cases.services import Petitioner
from xinfang.cases.validators import mask_phone
from xinfang.env import env_int
from xinfang.lib.xlsxcells import safe_row
from xinfang.orgs.models import Category, Place, Unit, User

BATCH_SIZE = 5000
FIRST_BATCH = 1000
MAX_REPORTED_ERRORS = 500
# Files up to this many rows are written in one transaction while they are still being checked
# (about five seconds of holding SQLite's write lock; other writers wait up to 20 s).
ATOMIC_ROWS = env_int("XINFANG_IMPORT_ATOMIC_ROWS", 100_000)
# Below this size a file is checked in this process: forking would cost more than it saves.
PARALLEL_MIN_BYTES = 256 * 1024
CHECK_FAILED = "检查台帐时出错，未导入任何事项，请重试；如仍失败请联系管理员"

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ the columns

COL_TIME, COL_CHANNEL, COL_KIND = "登记时间", "来源渠道", "事项类型"
COL_TITLE, COL_CONTENT, COL_PLACE, COL_CATEGORY = "标题", "诉求内容", "问题属地", "事项分类"
COL_NAME, COL_ID, COL_PHONE, COL_ADDRESS = "信访人姓名", "身份证号", "联系电话", "住址"
COL_ANON, COL_GROUP, COL_UNIT, COL_PERSON = "是否匿名", "来访人数", "被反映单位", "被反映人"

COLUMNS = [
    COL_TIME,
    COL_CHANNEL,
    COL_KIND,
    COL_TITLE,
    COL_CONTENT,
    COL_PLACE,
    COL_CATEGORY,
    COL_NAME,
    COL_ID,
    COL_PHONE,
    COL_ADDRESS,
    COL_ANON,
    COL_GROUP,
    COL_UNIT,
    COL_PERSON,
]
REQUIRED_COLUMNS = [COL_TIME, COL_CHANNEL, COL_KIND, COL_TITLE, COL_CONTENT, COL_PLACE]

# bulk.validate's field names → the column that holds them
FIELD_COLUMNS = {
    "kind": COL_KIND,
    "channel": COL_CHANNEL,
    "title": COL_TITLE,
    "content": COL_CONTENT,
    "registered_at": COL_TIME,
    "anonymous": COL_ANON,
    "petitioner_name": COL_NAME,
    "petitioner_id_number": COL_ID,
    "petitioner_phone": COL_PHONE,
    "group_size": COL_GROUP,
    "accused_unit": COL_UNIT,
}
MAX_LENGTHS = {COL_NAME: 40, COL_ADDRESS: 200, COL_PERSON: 60}
YES = frozenset({"是", "y", "yes", "true", "1", "匿名"})
NO = frozenset({"否", "n", "no", "false", "0", ""})

CHANNELS = {label: value for value, label in Channel.choices} | {v: v for v in Channel.values}
KINDS = {label: value for value, label in Kind.choices} | {v: v for v in Kind.values}

NOT_XLSX = "文件无法读取：不是有效的Excel（.xlsx）文件，或文件已损坏。请在Excel中“另存为”.xlsx格式后重新导入"
OLD_XLS = "不支持旧版Excel（.xls）文件，请在Excel中“另存为”.xlsx格式后重新导入"
EMPTY = "文件中没有数据：第1行应为表头（登记时间、来源渠道、事项类型……），从第2行起每行一件事项"
NO_ROWS = "文件中只有表头，没有可导入的事项"


class LedgerError(Exception):
    """The file as a whole cannot be imported (not an xlsx, corrupt, empty, missing columns)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LedgerIssue:
    """One problem: a cell (row as Excel numbers it, column header) or the whole file."""

    message: str
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return (
            f"第{self.row}行 {self.column}：{self.message}"
            if self.column
            else f"第{self.row}行：{self.message}"
        )


@dataclass
class ImportResult:
    """What an import did. `ok` is False when nothing (more) was written because of `errors`."""

    ok: bool
    errors: list[LedgerIssue] = field(default_factory=list)
    error_count: int = 0
    total_rows: int = 0
    created: int = 0
    resumed_from: int = 0
    job: ImportJob | None = None

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors]


# ------------------------------------------------------------------ reading the workbook

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


class _Sheet:
    """The first worksheet of an .xlsx, opened with openpyxl and streamed row by row."""

    def __init__(self, stream: IO[bytes]) -> None:
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise LedgerError(OLD_XLS)
        if not head:
            raise LedgerError("文件为空（0字节），请选择填好的台帐文件")
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


# ------------------------------------------------------------------ cells → values


def _text(value: Any) -> str:
    if value.__class__ is str:  # most cells: no conversion (strip() also drops a leading 全角空格)
        value = value.strip()
        return value.replace("\u3000", " ") if "\u3000" in value else value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().replace("\u3000", " ").strip()


_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T\s]\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:分)?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?"
)


@lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> dt.datetime | None:
    match = _DATE_TEXT.fullmatch(text.strip())
    if not match:
        return None
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return dt.datetime(*parts, tzinfo=clocks.LOCAL)
    except ValueError:
        return None


def _registered_at(value: Any) -> dt.datetime:
    """Excel dates, or text such as 2026-03-01 09:30, 2026/3/1, 2026年3月1日; Beijing time."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=clocks.LOCAL) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=clocks.LOCAL)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return from_excel(value).replace(tzinfo=clocks.LOCAL)
    text = _text(value)
    if not text:
        raise ValueError("请填写登记时间")
    parsed = _parse_date_text(text)
    if parsed is None:
        raise ValueError(f"“{text}”不是有效的时间，请写成 2026-03-01 09:30 或 2026年3月1日")
    return parsed


def _id_text(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("身份证号被Excel存成了数字，请把该列设为“文本”格式后重新填写")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 10**15:
        raise ValueError(
            "身份证号被Excel存成了数字（末几位可能已丢失），请把该列设为“文本”格式后重新填写"
        )
    return _text(value)


class _Lookup:
    """Finds a place, category or unit by code or name in a table read once, before the check.

    The check runs in another process, which must not touch the database; an office has at
    most some tens of thousands of places, units and categories, read in one query each.
    """

    def __init__(self, what: str, records: Iterable[tuple[int, str, str, str]]) -> None:
        self.what, self.cache = what, {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.by_path: dict[str, list[int]] = {}
        for pk, code, name, parent in records:
            self.by_code.setdefault(code, pk)
            self.by_name.setdefault(name, []).append(pk)
            if parent:
                self.by_path.setdefault(f"{parent}/{name}", []).append(pk)

    def __call__(self, text: str) -> int:
        if text not in self.cache:
            self.cache[text] = self._find(text)
        found = self.cache[text]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def _find(self, text: str) -> int | str:
        if self.by_path and "/" in text:
            parent, _sep, name = (part.strip() for part in text.partition("/"))
            matches = self.by_path.get(f"{parent}/{name}", [])
        elif text in self.by_code:
            return self.by_code[text]
        else:
            matches = self.by_name.get(text, [])
        if not matches:
            return f"找不到{self.what}“{text}”，请填写系统中已有的名称或代码"
        if len(matches) > 1:
            return f"{self.what}“{text}”有重名，请改填代码"
        return matches[0]


@dataclass
class _Lookups:
    places: _Lookup
    categories: _Lookup
    units: _Lookup

    @classmethod
    def load(cls) -> _Lookups:
        return cls(
            places=_Lookup("问题属地", Place.objects.values_list("id", "code", "name", Value(""))),
            categories=_Lookup(
                "事项分类", Category.objects.values_list("id", "code", "name", "parent__name")
            ),
            units=_Lookup("被反映单位", Unit.objects.values_list("id", "code", "name", Value(""))),
        )


class _RowReader:
    """Turns one spreadsheet row into a `bulk.Row`, or a list of (column, message)."""

    def __init__(self, header: dict[str, int], lookups: _Lookups) -> None:
        self.header = header
        # (column, index) pairs, so that a row is read with two comprehensions and no look-ups.
        self.text_columns = [(c, header[c]) for c in _TEXT_COLUMNS if c in header]
        self.raw_columns = [(c, header[c]) for c in _RAW_COLUMNS if c in header]
        self.places = lookups.places
        self.categories = lookups.categories
        self.units = lookups.units
        self.now = timezone.now()

    def read(self, values: list[Any]) -> tuple[bulk.Row | None, list[tuple[str, str]]]:
        problems: list[tuple[str, str]] = []
        width = len(values)
        cells = {column: values[index] for column, index in self.raw_columns if index < width}
        text = dict.fromkeys(_TEXT_COLUMNS, "")
        text.update(
            (column, _text(values[index])) for column, index in self.text_columns if index < width
        )

        def convert(column: str, function, default=None):
            try:
                return function(cells.get(column))
            except ValueError as exc:
                problems.append((column, str(exc)))
                return default

        def look_up(column: str, lookup: _Lookup) -> int | None:
            try:
                return lookup(text[column]) if text[column] else None
            except ValueError as exc:
                problems.append((column, str(exc)))
                return None

        at = convert(COL_TIME, _registered_at)
        channel = CHANNELS.get(text[COL_CHANNEL])
        if channel is None:
            problems.append((COL_CHANNEL, _choice_message("来源渠道", text[COL_CHANNEL], Channel)))
        kind = KINDS.get(text[COL_KIND])
        if kind is None:
            problems.append((COL_KIND, _choice_message("事项类型", text[COL_KIND], Kind)))
        place_id = look_up(COL_PLACE, self.places)
        if not text[COL_PLACE]:
            problems.append((COL_PLACE, "请填写问题属地（区划名称或代码）"))
        category_id = look_up(COL_CATEGORY, self.categories)
        unit_id = look_up(COL_UNIT, self.units)
        anonymous = convert(COL_ANON, _yes_no, False)
        group_size = convert(COL_GROUP, _group_size, 1)
        id_number = convert(COL_ID, _id_text, "")
        for column, limit in MAX_LENGTHS.items():
            if len(text[column]) > limit:
                problems.append((column, f"不能超过{limit}个字"))
        row = bulk.Row(
            channel=channel or "",
            kind=kind or "",
            title=text[COL_TITLE],
            content=text[COL_CONTENT],
            place_id=place_id or 0,
            registered_at=at or timezone.now(),
            category_id=category_id,
            group_size=group_size,
            accused_unit_id=unit_id,
            accused_person=text[COL_PERSON],
            petitioner=Petitioner(
                name=text[COL_NAME],
                id_number=id_number,
                phone=text[COL_PHONE],
                address=text[COL_ADDRESS],
                anonymous=anonymous,
            ),
        )
        # Every problem of the row is reported: when the time, channel or type could not be
        # read, the other cells are still checked, leaving out what depends on the unread ones.
        skip = _SKIP_WITHOUT_KIND if kind is None else _ALREADY_REPORTED if channel is None else ()
        for name, messages in bulk.validate(row, now=self.now).items():
            if name in skip:
                continue
            column = FIELD_COLUMNS.get(name, name)
            if name == "registered_at" and at is None:
                continue
            problems.extend((column, message) for message in messages)
        return (None if problems else row), problems


# Checks already reported when the channel or type cell was unreadable, and without a type
# those that depend on it (anonymity, accused unit); an unreadable time skips its own check.
_ALREADY_REPORTED = frozenset({"kind", "channel"})
_SKIP_WITHOUT_KIND = _ALREADY_REPORTED | {"anonymous", "accused_unit"}


_RAW_COLUMNS = (COL_TIME, COL_ANON, COL_GROUP, COL_ID)
_TEXT_COLUMNS = (
    COL_CHANNEL,
    COL_KIND,
    COL_TITLE,
    COL_CONTENT,
    COL_PLACE,
    COL_CATEGORY,
    COL_NAME,
    COL_PHONE,
    COL_ADDRESS,
    COL_UNIT,
    COL_PERSON,
)


def _choice_message(what: str, text: str, choices) -> str:
    allowed = "、".join(choices.labels)
    if not text:
        return f"请填写{what}（{allowed}）"
    return f"“{text}”不是有效的{what}，应为：{allowed}"


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"“{text}”无效，请填写“是”或“否”")


def _group_size(value: Any) -> int:
    text = _text(value)
    if not text:
        return 1
    if not text.isdigit():
        raise ValueError(f"“{text}”不是有效的人数，请填写整数")
    return int(text)


# ------------------------------------------------------------------ import


def _header(values: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        name = re.sub(r"[\s*＊]", "", _text(value))
        if name in COLUMNS:
            if name in found:
                raise LedgerError(
                    f"表头中“{name}”列重复（第{_letter(found[name])}列和第{_letter(index)}列），请删除其中一列"
                )
            found[name] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        names = "、".join(f"“{c}”" for c in missing)
        raise LedgerError(f"表头缺少必填列：{names}。第1行应为表头，请使用导入模板")
    return found


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# ------------------------------------------------------------------ checking (the first side)

Message = tuple  # ("size", rows or None) | ("rows", [Prepared]) | ("done", issues, count, rows) | ("error", text)


def _produce(stream: IO[bytes], lookups: _Lookups) -> Iterator[Message]:
    """Read and check every row; clean rows come out prepared for the writer, in batches.

    After the first problem no more batches are sent (nothing will be written), but every row
    is still checked so that the clerk sees all the problems at once.
    """
    try:
        sheet = _FastSheet(stream)
        yield ("size", sheet.size)
        rows = sheet.rows()
        header_row = next(rows, None)
        while header_row is not None and not any(_text(v) for v in header_row[1]):
            header_row = next(rows, None)
        if header_row is None:
            raise LedgerError(EMPTY)
        reader = _RowReader(_header(header_row[1]), lookups)
        issues: list[LedgerIssue] = []
        count = total = 0
        batch: list[bulk.Prepared] = []
        limit = min(FIRST_BATCH, BATCH_SIZE)  # a small first batch sets the writer going sooner
        prepare = bulk.Preparer()
        for number, values in rows:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            total += 1
            row, problems = reader.read(values)
            if problems:
                count += len(problems)
                room = MAX_REPORTED_ERRORS - len(issues)
                issues.extend(LedgerIssue(m, number, c) for c, m in problems[: max(room, 0)])
            elif not count:
                batch.append(prepare(row))
                if len(batch) >= limit:
                    yield ("rows", batch)
                    batch, limit = [], BATCH_SIZE
        if batch and not count:
            yield ("rows", batch)
        if total == 0:
            raise LedgerError(NO_ROWS)
        yield ("done", issues, count, total)
    except LedgerError as exc:
        yield ("error", exc.message)


def _produce_into(sender, stream: IO[bytes], lookups: _Lookups) -> None:
    """The checking process: sends `_produce`'s messages, pickled, through a pipe."""
    try:
        for message in _produce(stream, lookups):
            sender.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    except BrokenPipeError:  # the importer has stopped listening
        pass
    except Exception:
        logger.exception("ledger check failed")
        sender.send_bytes(pickle.dumps(("error", CHECK_FAILED)))
    finally:
        sender.close()


def _fork_checker(stream: IO[bytes], lookups: _Lookups):
    """(pipe end, process) of a forked `_produce_into`, or None where this process cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    validators.warm_up()  # loaded once here, so that the checking process inherits the table
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_produce_into, args=(sender, stream, lookups), daemon=True)
    try:
        process.start()
    except (AssertionError, OSError):  # a daemonic process may not fork; no memory for a fork
        receiver.close()
        return None
    finally:
        sender.close()
    return receiver, process


def _checked(stream: IO[bytes], lookups: _Lookups) -> Iterator[Message]:
    """`_produce`'s messages; from a forked process when the file is big enough to gain.

    The writer (this process, which holds the database connection) then registers batch n
    while the other core reads and checks batch n+1. The child never touches the database.
    """
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)  # before the fork: the checking process reads from here
    forked = _fork_checker(stream, lookups) if size >= PARALLEL_MIN_BYTES else None
    if forked is None:
        yield from _produce(stream, lookups)
        return
    receiver, process = forked
    try:
        while True:
            try:
                message = pickle.loads(receiver.recv_bytes())  # noqa: S301 (our own child process)
            except EOFError:
                raise LedgerError(CHECK_FAILED) from None
            yield message
            if message[0] in ("done", "error"):
                return
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


# ------------------------------------------------------------------ writing (the second side)


class _Spool:
    """Checked batches kept on disk until the whole file is known to be clean."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())

    def add(self, batch: list[bulk.Prepared]) -> None:
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def batches(self) -> Iterator[list[bulk.Prepared]]:
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)  # noqa: S301 (our own temporary file)
            except EOFError:
                return

    def close(self) -> None:
        self.file.close()


class _Refused(Exception):
    """Rolls back an import whose file turned out to have problems."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("refused")
        self.result = result


def _already_imported(job: ImportJob) -> str:
    when = timezone.localtime(job.finished_at or job.started_at)
    return f"该文件已于{when:%Y年%m月%d日 %H:%M}导入，共{job.committed_rows}件；如确需再次导入，请选择强制导入（--force）"


def import_ledger(
    source: str | os.PathLike | IO[bytes],
    *,
    office: Unit,
    by: User | None = None,
    force: bool = False,
    file_name: str = "",
) -> ImportResult:
    """台帐导入: every row checked with the form's rules; all rows registered, or none.

    A file of up to ATOMIC_ROWS rows is written in one transaction while it is being checked,
    and rolled back if any row has a problem. A bigger one is checked whole first, then written
    in batches, each committed with the job's progress; the same file again continues such an
    import after its last committed batch. A completed file is refused unless `force`.
    """
    stream, owned = _open(source)
    try:
        digest = _sha256(stream)
        job = ImportJob.objects.filter(office=office, sha256=digest).order_by("-id").first()
        if job is not None and job.status == ImportJob.Status.DONE and not force:
            return ImportResult(
                ok=False, errors=[LedgerIssue(_already_imported(job))], error_count=1, job=job
            )
        if job is not None and job.status == ImportJob.Status.DONE:
            job = None
        name = file_name or (
            os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else ""
        )
        new_job = ImportJob(office=office, sha256=digest, file_name=name[:200], created_by=by)
        messages = _checked(stream, _Lookups.load())
        try:
            _kind, rows = _expect(next(messages), "size")
            if job is None and rows is not None and rows <= ATOMIC_ROWS:
                return _import_at_once(messages, new_job, office=office, by=by)
            return _import_in_batches(messages, job or new_job, office=office, by=by)
        finally:
            messages.close()
    except LedgerError as exc:
        return ImportResult(ok=False, errors=[LedgerIssue(exc.message)], error_count=1)
    finally:
        if owned:
            stream.close()


def _expect(message: Message, *kinds: str) -> Message:
    if message[0] == "error":
        raise LedgerError(message[1])
    if message[0] not in kinds:
        raise LedgerError(CHECK_FAILED)
    return message


def _import_at_once(
    messages: Iterator[Message], job: ImportJob, *, office: Unit, by: User | None
) -> ImportResult:
    """Write each clean batch as soon as it is checked, all in one transaction."""
    created, clocks = 0, {}
    try:
        with transaction.atomic(), _large_cache():
            job.save()
            for message in messages:
                kind, *payload = _expect(message, "rows", "done")
                if kind == "rows":
                    bulk.register_prepared(office=office, by=by, rows=payload[0], clocks=clocks)
                    created += len(payload[0])
                    continue
                issues, count, total = payload
                if count:
                    raise _Refused(
                        ImportResult(ok=False, errors=issues, error_count=count, total_rows=total)
                    )
            job.total_rows = job.committed_rows = created
            job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
            job.save(update_fields=["total_rows", "committed_rows", "status", "finished_at"])
    except _Refused as refused:
        return refused.result
    return ImportResult(ok=True, total_rows=created, created=created, job=job)


def _import_in_batches(
    messages: Iterator[Message], job: ImportJob, *, office: Unit, by: User | None
) -> ImportResult:
    """Spool the checked batches; when the whole file is clean, commit them one by one."""
    spool = _Spool()
    try:
        for message in messages:
            kind, *payload = _expect(message, "rows", "done")
            if kind == "rows":
                spool.add(payload[0])
                continue
            issues, count, total = payload
            if count:
                return ImportResult(ok=False, errors=issues, error_count=count, total_rows=total)
        if job.pk is None:
            job.total_rows = total
            job.save()
        resumed_from = job.committed_rows
        created = _write_batches(spool, job, office=office, by=by)
        return ImportResult(
            ok=True, total_rows=total, created=created, resumed_from=resumed_from, job=job
        )
    finally:
        spool.close()


# SQLite page cache (KiB, as a negative PRAGMA value) while an import writes: a matter touches
# 11 b-trees (the table and its indexes), which the default 2 MiB cache keeps re-reading.
# Only this connection's cache size changes, and only for the write; durability is untouched.
IMPORT_CACHE_KIB = 131072


@contextmanager
def _large_cache() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _write_batches(spool: _Spool, job: ImportJob, *, office: Unit, by: User | None) -> int:
    """Each batch after the job's last committed one, with the job's progress, in one transaction."""
    skip, done, created, clocks = job.committed_rows, 0, 0, {}
    with _large_cache():
        for batch in spool.batches():
            if done + len(batch) <= skip:
                done += len(batch)
                continue
            rows = batch[max(skip - done, 0) :]
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.committed_rows != done + len(batch) - len(rows):
                    raise LedgerError("该文件正由另一个导入任务处理，请稍后查看结果")
                bulk.register_prepared(office=office, by=by, rows=rows, clocks=clocks)
                ImportJob.objects.filter(pk=job.pk).update(
                    committed_rows=F("committed_rows") + len(rows)
                )
            done += len(batch)
            created += len(rows)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return created


# ------------------------------------------------------------------ the template

SAMPLE_ROW = [
    "2026-03-01 09:30",
    "来访",
    "申诉求决",
    "某公司拖欠工资三个月",
    "本人在某建筑公司务工，公司拖欠工资三个月未发，请求帮助追讨。",
    "东湖街道",
    "劳动和社会保障/拖欠工资",
    "张三",
    "11010519491231002X",
    "13812345678",
    "A1区东湖街道1号",
    "否",
    1,
    "",
    "",
]
WIDTHS = {
    COL_TIME: 18,
    COL_TITLE: 28,
    COL_CONTENT: 50,
    COL_PLACE: 14,
    COL_CATEGORY: 22,
    COL_ID: 21,
    COL_PHONE: 15,
    COL_ADDRESS: 28,
    COL_UNIT: 20,
}


def ledger_template() -> bytes:
    """导入模板: the header, one sample row, and drop-down lists for the choice columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "台帐"
    ws.append(COLUMNS)
    ws.append(SAMPLE_ROW)
    bold = Font(bold=True)
    for index, name in enumerate(COLUMNS):
        letter = _letter(index)
        ws[f"{letter}1"].font = bold
        ws.column_dimensions[letter].width = WIDTHS.get(name, 12)
    ws.freeze_panes = "A2"
    for name, labels in (
        (COL_CHANNEL, Channel.labels),
        (COL_KIND, Kind.labels),
        (COL_ANON, ["是", "否"]),
    ):
        letter = _letter(COLUMNS.index(name))
        rule = DataValidation(
            type="list",
            formula1='"' + ",".join(labels) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="输入有误",
            error=f"请从下拉列表中选择{name}",
        )
        rule.add(f"{letter}2:{letter}10000")
        ws.add_data_validation(rule)
    for name in (COL_ID, COL_PHONE):  # keep long digit strings as text
        ws[f"{_letter(COLUMNS.index(name))}2"].number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ export

EXPORT_COLUMNS = [
    ("事项编号", 22),
    ("登记时间", 18),
    ("来源渠道", 10),
    ("事项类型", 10),
    ("标题", 30),
    ("问题属地", 14),
    ("事项分类", 20),
    ("信访人", 12),
    ("联系电话", 15),
    ("主办单位", 24),
    ("状态", 10),
    ("到期时间", 18),
    ("时限状态", 10),
    ("办理结果", 10),
    ("评价", 10),
]
CONFIDENTIAL = "（保密）"
_CHANNEL_LABELS = dict(Channel.choices)
_KIND_LABELS = dict(Kind.choices)
_STATE_LABELS = dict(State.choices)
_RATING_LABELS = dict(Rating.choices)
_OUTCOME_LABELS = dict(Outcome.choices)


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, clocks.LOCAL).strftime("%Y-%m-%d %H:%M") if moment else ""


def _export_row(case: Case, user: User, now: dt.datetime) -> list[Any]:
    if case.anonymous:
        name, phone = "", ""
    elif not access.can_see_petitioner(user, case, known_visible=True):
        name, phone = CONFIDENTIAL, CONFIDENTIAL
    else:
        name, phone = case.petitioner_name, mask_phone(case.petitioner_phone)
    category = ""
    if case.category_id:
        parent = case.category.parent
        category = f"{parent.name}/{case.category.name}" if parent else case.category.name
    return [
        case.number,
        _local(case.registered_at),
        _CHANNEL_LABELS.get(case.channel, case.channel),
        _KIND_LABELS.get(case.kind, case.kind),
        case.title,
        case.place.name if case.place_id else "",
        category,
        name,
        phone,
        case.lead_unit.name if case.lead_unit_id else "",
        _STATE_LABELS.get(case.state, case.state),
        deadlines.format_deadline(case.due_at, empty=""),
        clocks.DUE_STATE_LABELS[case_due_state(case, now)],
        _OUTCOME_LABELS.get(case.outcome, ""),
        _RATING_LABELS.get(case.rating, ""),
    ]


def export_rows(
    qs: QuerySet[Case], *, user: User, now: dt.datetime | None = None
) -> Iterable[list[Any]]:
    """The ledger's rows, streamed (no query per matter, no list of matters).

    `qs` holds only matters the user may see (`access.visible_cases` or `access.queue_cases`).
    Places, categories and units are small tables read once and set on each matter, instead of
    joined in SQL: with the joins SQLite sorted a million rows before the first one came out;
    without them the rows stream in index order. Columns the row never reads are not fetched,
    and the other accused units are read, per chunk, for the reports only.
    """
    now = now or timezone.now()
    places = Place.objects.in_bulk()
    categories = Category.objects.select_related("parent").in_bulk()
    units = Unit.objects.in_bulk()
    qs = qs.select_related(None).prefetch_related(None).defer(*_UNREAD)
    chunk: list[Case] = []
    for case in qs.iterator(chunk_size=EXPORT_CHUNK):
        case.place = places.get(case.place_id)
        case.category = categories.get(case.category_id)
        case.lead_unit = units.get(case.lead_unit_id)
        case.accused_unit = units.get(case.accused_unit_id)
        chunk.append(case)
        if len(chunk) == EXPORT_CHUNK:
            yield from _chunk_rows(chunk, user, now)
            chunk = []
    yield from _chunk_rows(chunk, user, now)


EXPORT_CHUNK = 2000
# Columns an export row does not read (the free text and the other clocks' times).
_UNREAD = (
    "content",
    "report_submitted_at",
    "routed_at",
    "accepted_at",
    "replied_at",
    "closed_at",
    "clock_started_at",
    "warn_at",
    "assign_due_at",
    "object_due_at",
)


def _chunk_rows(chunk: list[Case], user: User, now: dt.datetime) -> Iterator[list[Any]]:
    reports = [c for c in chunk if c.kind in CONFIDENTIAL_KINDS]  # can_see_petitioner reads these
    if reports:
        prefetch_related_objects(reports, "other_accused_units")
    for case in chunk:
        yield _export_row(case, user, now)


def export_cases(
    qs: QuerySet[Case], path_or_stream: str | os.PathLike | IO[bytes], *, user: User
) -> int:
    """台帐导出: write the matters in `qs` to an .xlsx (a path, an HttpResponse or any stream).

    Returns how many matters were written. The caller decides which matters `user` may export
    (e.g. `access.visible_cases(user)`); here the petitioner is hidden from the accused unit.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台帐")
    ws.freeze_panes = "A2"
    for index, (_name, width) in enumerate(EXPORT_COLUMNS):
        ws.column_dimensions[_letter(index)].width = width
    from openpyxl.cell import WriteOnlyCell

    bold = Font(bold=True)
    header = []
    for name, _width in EXPORT_COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for row in export_rows(qs, user=user):
        ws.append(safe_row(ws, row))  # a citizen's "=..." title stays text
        count += 1
    if isinstance(path_or_stream, (str, os.PathLike)):
        wb.save(path_or_stream)
    else:
        # openpyxl needs a seekable target for the zip; HttpResponse is not, so go via memory
        # for streams that cannot seek.
        seekable = getattr(path_or_stream, "seekable", lambda: False)()
        if seekable:
            wb.save(path_or_stream)
        else:
            with tempfile.TemporaryFile() as tmp:
                wb.save(tmp)
                tmp.seek(0)
                for chunk in iter(lambda: tmp.read(1 << 20), b""):
                    path_or_stream.write(chunk)
    return count


__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportResult",
    "LedgerError",
    "LedgerIssue",
    "export_cases",
    "export_rows",
    "import_ledger",
    "ledger_template",
]
