"""Checks on what people type: resident ID numbers, phones, uploads. Errors speak Chinese."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import IO

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from xinfang.lib import uploads


def clean_id_number(value: str) -> str:
    """A mainland resident ID (居民身份证号码), 18 characters with a valid check digit."""
    value = (value or "").strip().upper()
    if not value:
        return ""
    head = value[:17]
    if (
        len(value) == 18
        and head.isascii()
        and head.isdigit()
        and value[-1] == ric.calc_check_digit(value)
    ):
        # Fast path for imports: the same checks as ric.validate, with the (slow) birth-place
        # lookup cached per region code and birth year.
        year = int(value[6:10])
        try:  # ric.get_birth_date's check, without its slow re-cleaning of the number
            dt.date(year, int(value[10:12]), int(value[12:14]))
        except ValueError:
            year = 0  # the slow path below names the wrong birth date
        if year and _birth_place_known(value[:6], year):
            return value
    if len(value) == 18 and head.isdigit():
        # A wrong birth date is a format error, whatever the check digit says.
        try:
            ric.get_birth_date(value)
        except StdnumError as exc:
            raise ValidationError("身份证号码中的出生日期不正确", code="id_birth_date") from exc
    try:
        return ric.validate(value)
    except InvalidChecksum as exc:
        raise ValidationError("身份证号码校验位错误，请核对最后一位", code="id_checksum") from exc
    except StdnumError as exc:
        raise ValidationError(
            "身份证号码格式不正确（应为18位，含出生日期和校验位）", code="id_format"
        ) from exc


def warm_up() -> None:
    """Load python-stdnum's region table (read from a text file on first use)."""
    _birth_place_known("110105", 1949)


@lru_cache(maxsize=8192)
def _birth_place_known(region: str, year: int) -> bool:
    try:
        ric.get_birth_place(f"{region}{year:04d}01010000")
    except StdnumError:
        return False
    return True


# phonenumbers' own pattern for mainland mobiles: a match is valid and already in national form.
_CN_MOBILE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
)


def clean_phone(value: str) -> str:
    """A mainland mobile or fixed-line number, returned in national digits (e.g. 13812345678)."""
    value = (value or "").strip().replace(" ", "").replace("-", "")
    if not value:
        return ""
    if len(value) == 11 and _CN_MOBILE.fullmatch(value):
        return value
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("联系电话不是有效的电话号码", code="phone") from exc
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        raise ValidationError("联系电话不是有效的中国大陆电话号码", code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(
        " ", ""
    )


def clean_upload(name: str, size: int, content: IO[bytes] | None = None) -> None:
    """Refuse an attachment of the wrong type or too large, and, given the file (`content`:
    an UploadedFile or any seekable binary file), one whose bytes are not of the type its name
    says (an .exe renamed .pdf) or an Office file that is an archive bomb."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in settings.XINFANG_ATTACHMENT_TYPES:
        allowed = "、".join(settings.XINFANG_ATTACHMENT_TYPES)
        raise ValidationError(f"附件“{name}”类型不允许，只能上传：{allowed}", code="file_type")
    limit = settings.XINFANG_MAX_ATTACHMENT_BYTES
    if size > limit:
        raise ValidationError(
            f"附件“{name}”太大（{size / 1048576:.1f} MB），单个附件不能超过 {limit // 1048576} MB",
            code="file_size",
        )
    if content is not None:
        problem = uploads.content_problem(extension, content)
        if problem:
            raise ValidationError(f"附件“{name}”无法接收：{problem}", code="file_content")


def mask_id_number(value: str) -> str:
    """Show the region and the last digit only: 110105********123X → 1101**********123X."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
