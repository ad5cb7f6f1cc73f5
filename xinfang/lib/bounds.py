"""The bounds of the whole numbers people type, declared once with the message that names them.

A number no real matter has (a group of a billion visitors) is a typing error and is said to be
one. A number no database column holds (20 digits) would otherwise reach the database and fail
there, an HTTP 500 instead of a message: SQLite raises OverflowError past 2**63, PostgreSQL a
DataError past 2**31 for an integer column. The forms, the API schema, the ledger and
screening imports and the screening service read their bounds from here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

# The largest value an integer column holds on every supported database (PostgreSQL `integer`).
DB_INT_MAX = 2**31 - 1
# The largest id (BigAutoField: `bigint` on PostgreSQL, SQLite's 64-bit integer).
ID_MAX = 2**63 - 1
# More digits than any bound here: a longer text is refused before Python converts it.
_MAX_DIGITS = 19


@dataclass(frozen=True)
class Bound:
    """An inclusive range of whole numbers and the Chinese message when a value falls outside."""

    low: int
    high: int
    message: str

    def holds(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def parse(self, value: Any) -> int:
        """A cell or a text as a whole number within bounds; else ValueError with the message.

        Takes what a spreadsheet gives (an int, a float such as 5.0, a text of ASCII digits);
        refuses fractions, words, full-width or superscript digits and overlong texts.
        """
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
                raise ValueError(self.message)
            number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(self.message)
        return number

    def form_field(self, **kwargs: Any) -> forms.IntegerField:
        """An IntegerField with these bounds (shown in the page and the API schema) and the
        message for any value outside them, a number too long to be one included."""
        messages = dict.fromkeys(("min_value", "max_value", "out_of_range"), self.message)
        messages.update(kwargs.pop("error_messages", {}))
        return BoundedIntegerField(
            min_value=self.low, max_value=self.high, error_messages=messages, **kwargs
        )


class BoundedIntegerField(forms.IntegerField):
    """IntegerField that refuses a text too long to be a number in its bounds before converting
    it (Python would turn 5,000 digits into an int, slowly, or refuse with an English error)."""

    default_error_messages = {"out_of_range": "数值超出允许范围"}

    def to_python(self, value):
        text = str(value).strip() if isinstance(value, str) else None
        if text and len(text.lstrip("+-").split(".")[0]) > _MAX_DIGITS:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return super().to_python(value)


# A keyset cursor `<µs since 1970>_<id>` (`cases.selectors.queue_page`): a time before the
# year 3000 and an id.
_CURSOR = re.compile(r"([0-9]{1,17})_([0-9]{1,19})")
_CURSOR_MICROS_MAX = 32_503_680_000 * 1_000_000  # 3000-01-01 UTC


def fits_a_cursor(text: str) -> bool:
    match = _CURSOR.fullmatch(text)
    return bool(match and int(match[1]) < _CURSOR_MICROS_MAX and 1 <= int(match[2]) <= ID_MAX)


# A month typed as `2026-09` in a query string: a year the calendar counts (a 20-digit year
# overflows `datetime.date`, 9999-12 has no next month).
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
YEARS = range(1900, 3000)


def parse_month(text: str) -> tuple[int, int] | None:
    """`2026-09` as (2026, 9); None for anything else, a year outside 1900–2999 included."""
    match = _MONTH.fullmatch(text.strip())
    if not match or int(match[1]) not in YEARS or not 1 <= int(match[2]) <= 12:
        return None
    return int(match[1]), int(match[2])


# ---------------------------------------------------------------- the bounds

# 来访人数 of a matter or a reception record: more than a few thousand is a typing error.
GROUP_SIZE = Bound(1, 5000, "来访人数应在1至5000人之间（超过5000人请核实是否输入错误）")
# 涉及户数 of a screening entry.
HOUSEHOLDS = Bound(0, 100_000, "涉及户数应在0至100000户之间（超过10万户请核实是否输入错误）")
# A deadline typed as a number of days (a plan's, a meeting's follow-up).
DAYS = Bound(1, 3650, "期限应在1至3650日之间")
PAGE = Bound(1, 100_000, "页码应在1至100000之间")
VERSION = Bound(1, DB_INT_MAX, "版本号无效")
ID = Bound(1, ID_MAX, "编号无效")

# The bound of an input by its name, for messages of the JSON API's schema checks.
BY_NAME = {"group_size": GROUP_SIZE, "visitors": GROUP_SIZE, "households": HOUSEHOLDS}


# ---------------------------------------------------------------- registration times

# 登记时间: no office registers a matter of the last century in this system (a 1900 date is a
# typing error), nor one of tomorrow; a few minutes ahead is one machine's clock against
# another's. The staff page, the JSON API and the register (and so the import) read this.
REGISTERED_SINCE = dt.datetime(2000, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
REGISTRATION_SKEW = dt.timedelta(minutes=5)
TOO_EARLY = "登记时间不能早于2000年1月1日"
TOO_LATE = "登记时间不能晚于当前时间"


def registration_time_error(at: dt.datetime, now: dt.datetime) -> str | None:
    """The Chinese message when `at` cannot be a registration time, else None."""
    if at < REGISTERED_SINCE:
        return TOO_EARLY
    if at > now + REGISTRATION_SKEW:
        return TOO_LATE
    return None
