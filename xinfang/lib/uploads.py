"""What an uploaded file really is: its first bytes (magic numbers), not its name.

An attachment named "证据.pdf" must start like a PDF; a renamed program ("MZ...") is refused
whatever its extension. The signatures come from `filetype` (a well-kept, dependency-free
library); the Office formats are checked more closely than any signature can: an .xlsx or
.docx is a zip whose parts name the format, and is refused as an archive bomb when it would
unpack to far more than it weighs (`zip_problem`, also used by the Excel imports before any
part is read). Answers are Chinese reasons (or None when the file is fine). Framework-free.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

import filetype  # type: ignore[import-untyped]  # the library ships no types

HEAD_BYTES = 8192  # enough for every signature filetype knows
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .ppt (Office 97-2003)
ZIP_MAGIC = b"PK\x03\x04"
# The part that names each Office Open XML format (the zip itself says nothing).
OOXML_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
SAME_AS = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif"}


@dataclass(frozen=True)
class ZipLimits:
    """How far a zip may unpack: members, total bytes, and the ratio of any large member."""

    members: int = 1000
    total: int = 512 << 20
    ratio: int = 200
    ratio_from: int = 1 << 20  # members smaller than this are not held to the ratio


ATTACHMENT_ZIP = ZipLimits()
# An Excel ledger of a million rows unpacks to about 1 GB of sheet XML (streamed, never held):
# allow that, but nothing that inflates like a bomb (deflate reaches about 1,000:1; real
# ledgers 10-50:1).
IMPORT_ZIP = ZipLimits(members=1000, total=4 << 30, ratio=200)


def _head(stream: IO[bytes], size: int = HEAD_BYTES) -> bytes:
    stream.seek(0)
    head = stream.read(size)
    stream.seek(0)
    return head


def zip_problem(stream: IO[bytes], limits: ZipLimits = IMPORT_ZIP) -> str | None:
    """Why this zip (.xlsx, .docx) must not be unpacked (None: it may, or it is no zip at all),
    from its central directory only: no member is decompressed here. Python's zipfile (and so
    openpyxl) never inflates a member beyond the size its directory declares, so the declared
    sizes bound what is read."""
    try:
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None  # not a readable zip: no bomb; whoever reads it says what it is
    finally:
        stream.seek(0)
    if len(members) > limits.members:
        return f"文件包含的部件过多（{len(members)}个，最多{limits.members}个），疑似压缩炸弹"
    total = sum(m.file_size for m in members)
    if total > limits.total:
        return (
            f"文件解压后过大（约{total >> 20} MB，最多{limits.total >> 20} MB），"
            "疑似压缩炸弹，请拆分后再上传"
        )
    for m in members:
        if m.file_size >= limits.ratio_from and m.file_size > limits.ratio * max(
            m.compress_size, 1
        ):
            return (
                f"文件压缩比异常（{m.filename} 解压后是压缩后的"
                f"{m.file_size // max(m.compress_size, 1)}倍），疑似压缩炸弹"
            )
    return None


def _ooxml_problem(stream: IO[bytes], extension: str) -> str | None:
    bomb = zip_problem(stream, ATTACHMENT_ZIP)
    if bomb:
        return bomb
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "文件已损坏或不是有效的 Office 文档"
    finally:
        stream.seek(0)
    if OOXML_PARTS[extension] not in names:
        return f"文件内容不是 .{extension} 文档"
    return None


def _is_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        return True
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the end of the head
                return True
    return False


def content_problem(extension: str, stream: IO[bytes]) -> str | None:
    """Why the content of `stream` is not a file of type `extension` (None: it is).

    `stream` must be seekable; only its head is read, and for a zip-based Office file its
    directory. A type that has no known signature is refused rather than trusted."""
    extension = SAME_AS.get(extension.lower(), extension.lower())
    head = _head(stream)
    if not head:
        return "文件为空（0字节）"
    if extension in OOXML_PARTS:
        if not head.startswith(ZIP_MAGIC):
            return f"文件内容不是 .{extension} 文档"
        return _ooxml_problem(stream, extension)
    if extension in ("doc", "xls", "ppt"):
        return None if head.startswith(OLE_MAGIC) else f"文件内容不是 .{extension} 文档"
    if extension == "txt":
        return None if _is_text(head) else "文件内容不是纯文本"
    kind = filetype.guess(head)
    found = SAME_AS.get(kind.extension, kind.extension) if kind is not None else None
    if found == extension:
        return None
    if not filetype.is_extension_supported(extension):
        return f"无法识别 .{extension} 文件的内容，不能作为附件上传"
    return f"文件内容与扩展名 .{extension} 不符"
