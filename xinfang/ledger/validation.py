"""Checking a ledger row: cells become values, names and codes are looked up, and the
registration form's rules give every problem as (column, message)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Value
from django.utils import timezone
from openpyxl.utils.datetime import from_excel

from xinfang.cases import bulk, clocks
from xinfang.cases.models import Channel, Kind
from xinfang.cases.services import Petitioner
from xinfang.ledger.columns import (
    CHANNELS,
    COL_ADDRESS,
    COL_ANON,
    COL_CATEGORY,
    COL_CHANNEL,
    COL_CONTENT,
    COL_GROUP,
    COL_ID,
    COL_KIND,
    COL_NAME,
    COL_PERSON,
    COL_PHONE,
    COL_PLACE,
    COL_TIME,
    COL_TITLE,
    COL_UNIT,
    COLUMNS,
    FIELD_COLUMNS,
    KINDS,
    MAX_LENGTHS,
    NO,
    REQUIRED_COLUMNS,
    YES,
    LedgerError,
    _letter,
)
from xinfang.lib import bounds
from xinfang.orgs.models import Category, Place, Unit

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
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"“{text}”不是有效的人数，请填写整数")
    return bounds.GROUP_SIZE.parse(text)  # 1–5000, as every form: a billion is a typing error


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
