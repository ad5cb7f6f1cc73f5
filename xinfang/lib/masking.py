"""Personal numbers typed into free text, masked the way the lists mask them (打码).

`mask_personal_data(text)` keeps the text readable and masks, wherever they are typed:

- resident ID numbers (18 characters, last one a digit or X; also the old 15-digit form):
  the first 8 and the last 4 stay, 110105194912310021 → 11010519******0021;
- mainland mobile numbers, with or without +86/0086, in any grouping (138 1234 5678,
  138-1234-5678): 138****5678;
- e-mail addresses: the first character of the name stays, z***@example.com.

Digits of any width (１３８…) and separators between them (spaces, dashes, dots) are read as
the number they spell; the masked number is written in plain digits. A masked text masks to
itself, so masking on save and again on display or export is harmless. Every pattern runs in
linear time. Framework-free: used by ledgers' free text (矛盾纠纷排查台帐) and exports.
For text that leaves the office altogether (Open311, the portal) the stricter
`xinfang.cases.scrub` replaces numbers whole.
"""

from __future__ import annotations

import re
import unicodedata

_SEP = r"[ \t\u00a0\u3000\-\u2010-\u2015\u2212.·_/]?"  # at most one between two digits
_D = "[0-9]"
_ID18 = re.compile(rf"(?<![0-9A-Za-z]){_D}(?:{_SEP}{_D}){{16}}{_SEP}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(rf"(?<![0-9A-Za-z]){_D}(?:{_SEP}{_D}){{14}}(?![0-9A-Za-z])")
_MOBILE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)?86{_SEP})?(1{_SEP}[3-9](?:{_SEP}{_D}){{9}})(?![0-9])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"
)
_DIGITS = re.compile(r"[0-9Xx]")
_AT = frozenset("@＠﹫")


def _normalise(text: str) -> tuple[str, list[int]]:
    """Full-width and other-script digits and letters as ASCII (NFKC), with each character's
    index in the original text."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        digit = unicodedata.decimal(ch, None)
        piece = str(digit) if digit is not None else unicodedata.normalize("NFKC", ch)
        out.append(piece)
        origin.extend([i] * len(piece))
    return "".join(out), origin


def _id(number: str) -> str:
    return number[:8] + "*" * (len(number) - 12) + number[-4:]


def _mobile(number: str) -> str:
    return number[:3] + "****" + number[-4:]


def mask_personal_data(text: str | None) -> str:
    """`text` with ID numbers, mobile numbers and e-mail addresses masked (see the module)."""
    text = str(text or "")
    if sum(ch.isdigit() for ch in text) < 11 and not _AT.intersection(text):
        return text  # too few digits for an ID or a mobile, no @: most texts, at once
    normal, origin = _normalise(text)
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(normal)

    def add(start: int, end: int, replacement: str) -> None:
        if any(taken[start:end]):
            return
        taken[start:end] = [True] * (end - start)
        spans.append((origin[start], origin[end - 1] + 1, replacement))

    for m in _ID18.finditer(normal):
        add(*m.span(), _id("".join(_DIGITS.findall(m.group())).upper()))
    for m in _MOBILE.finditer(normal):
        add(*m.span(), _mobile("".join(_DIGITS.findall(m.group(1)))))
    for m in _ID15.finditer(normal):
        add(*m.span(), _id("".join(_DIGITS.findall(m.group()))))
    for m in _EMAIL.finditer(normal):
        add(*m.span(), f"{m.group(1)[0]}***@{m.group(2)}")
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end, replacement in sorted(spans):
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    return "".join(out)
