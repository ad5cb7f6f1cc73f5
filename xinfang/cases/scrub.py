"""One scrubber for personal data in free text that leaves the office (Open311, public pages).

`scrub_personal_data(text)` replaces every phone number, resident ID number, e-mail address and
long digit run with "[已隐去]", however it was typed:

- Detection runs on a normalised copy: each character through NFKC (full-width digits and
  letters, ＠, ．, （）, the ideographic space become ASCII) and every Unicode decimal digit read
  as its figure. A second pass reads the Chinese numerals 〇/○/零/一/幺/二 … 九 as digits (and
  figures as none), so a number written in Chinese is caught while 张三 next to a phone number
  is not taken for part of it; a number mixing figures and Chinese numerals is not.
  Matches are mapped back to the original text, so what is not personal stays as it was typed.
- Between any two digits up to three separators may stand: spaces of any kind (also zero-width),
  dots, dashes, slashes, underscores, middle dots, brackets.
- Mainland mobiles (with +86 / 0086 / 86), landlines with an area code, 18-digit resident ID
  numbers (last X/x/Ｘ), e-mails (user ＠ host ． tld, spaces allowed), any run of 7 or more
  digits joined by punctuation (15-digit IDs, bank cards, local numbers; a date such as
  2026-11-02 or a span of years such as 2020-2026 stays), any run of 12 or more digits also with
  spaces, and 5 or more digits after a cue word (电话、手机、座机、微信、QQ、tel …).
- `known`: values the caller knows to be personal (the petitioner's name, the typed address) are
  masked wherever they occur, compared in the same normal form; one-character values are ignored.

It errs on the side of masking: a matter number or a long amount written with dashes is masked
too. Every pattern matches in time linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MASK = "[已隐去]"

_CN_DIGITS = {
    "〇": "0",
    "○": "0",
    "零": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# What may stand between two digits of one number (after NFKC).
_SEP = (
    r"\s.\-\u2010-\u2015\u2212_/\\|~\u301c\u00b7\u2022\u2219\u22c5\u30fb"
    r"\u00ad\u200b-\u200d\u2060\ufeff()\[\]"
)
S = f"[{_SEP}]{{0,3}}"
# Between the digits of a number joined by punctuation only (no spaces): 2026-11-02, 6222-0212-….
_JOIN = r"[.\-\u2010-\u2015\u2212_/\u00b7\u2022\u30fb]{0,2}"
_D = "[0-9]"

_RULES = [
    # e-mail: user@host.tld, ＠ and ． already ASCII; spaces around @ and dots allowed
    re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s*@\s*[A-Za-z0-9\-]+(?:\s*[.。]\s*[A-Za-z0-9\-]+)+"
    ),
    # resident ID number: 17 digits and a check character
    re.compile(rf"{_D}(?:{S}{_D}){{16}}{S}[0-9Xx]"),
    # mainland mobile, with an optional country code
    re.compile(rf"(?:\+\s*)?(?:(?:00)?86{S})?1{S}[3-9](?:{S}{_D}){{9}}"),
    # landline with an area code: 0731-84561234, (010) 8888 6666
    re.compile(rf"\(?\s*0{S}[1-9](?:{S}{_D}){{1,2}}\s*\)?{S}[2-9](?:{S}{_D}){{6,7}}"),
    # 12 or more digits, spaces allowed: bank cards, numbers of any kind
    re.compile(rf"(?<![0-9]){_D}(?:{S}{_D}){{11,}}"),
    # 5 or more digits after a cue word: 电话 8456 1234, QQ 12345
    re.compile(
        rf"(?:电话|手机|座机|联系|号码|微信|身份证|证件|(?i:qq|tel|phone|mobile|wechat))"
        rf"[^0-9\n]{{0,8}}?(?P<n>{_D}(?:{S}{_D}){{4,}})"
    ),
]
# 7 or more digits joined by punctuation, except a date or a span of years.
_RUN = re.compile(rf"(?<![0-9]){_D}(?:{_JOIN}{_D}){{6,}}")
_HARMLESS = re.compile(
    r"(?:19|20)[0-9]{2}([./\-])[01]?[0-9]\1[0-3]?[0-9]"
    r"|(?:19|20)[0-9]{2}[\-\u2010-\u2015\u2212~\u301c](?:19|20)[0-9]{2}"
)


def _char(ch: str, *, chinese: bool) -> str:
    if ch in _CN_DIGITS:
        return _CN_DIGITS[ch] if chinese else ch
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return "#" if chinese else str(digit)
    piece = unicodedata.normalize("NFKC", ch)
    return "#" if chinese and any(c.isdigit() for c in piece) else piece


def _normalise(text: str, *, chinese: bool = False) -> tuple[str, list[int]]:
    """The text for detection, and for each of its characters the index it came from.

    Figures (any width or script) are digits; with `chinese`, the Chinese numerals are digits
    instead and figures are not, so that 张三 next to a phone number is not read as part of it.
    """
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = _char(ch, chinese=chinese)
        pieces.append(piece)
        origin.extend([i] * len(piece))
    return "".join(pieces), origin


def _spans(normal: str, known: Iterable[str]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for rule in _RULES:
        for m in rule.finditer(normal):
            group = "n" if "n" in rule.groupindex else 0
            found.append(m.span(group))
    found += [m.span() for m in _RUN.finditer(normal) if not _HARMLESS.fullmatch(m.group())]
    for value in known:
        value = _normalise((value or "").strip())[0]
        if len(value) < 2:
            continue
        start = normal.find(value)
        while start != -1:
            found.append((start, start + len(value)))
            start = normal.find(value, start + len(value))
    return found


def scrub_personal_data(text: str | None, *, known: Iterable[str] = ()) -> str:
    """`text` with every phone, ID number, e-mail, long number and `known` value as "[已隐去]"."""
    text = str(text or "")
    if not text:
        return ""
    known = list(known)
    found: list[tuple[int, int]] = []
    passes = [False, True] if any(ch in _CN_DIGITS for ch in text) else [False]
    for chinese in passes:
        normal, origin = _normalise(text, chinese=chinese)
        spans = _spans(normal, () if chinese else known)
        found += [(origin[start], origin[end - 1] + 1) for start, end in spans if end > start]
    spans = sorted(found)
    out: list[str] = []
    at, masked = 0, False
    for start, end in spans:
        if masked and start <= at:  # overlapping or touching: the mask already written covers it
            at = max(at, end)
            continue
        out += [text[at:start], MASK]
        at, masked = end, True
    out.append(text[at:])
    return "".join(out)
