"""The rota as an iCalendar feed (RFC 5545), written by hand: it is small.

CRLF line endings, content lines folded at 75 octets without splitting a UTF-8 character,
TEXT values escaped, all-day events as DTSTART;VALUE=DATE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from xinfang.orgs.models import Unit
from xinfang.reception.models import RotaDay

PRODID = "-//xinfang//reception rota//ZH"


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets; continuation lines start with a space."""
    out: list[str] = []
    current: list[str] = []
    size, limit = 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space counts toward 75
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def summary(day: RotaDay) -> str:
    if day.leader_absent and day.substitute_label:
        return f"领导接访：{day.substitute_label}（代{day.leader_label}）"
    return f"领导接访：{day.on_duty or '待安排'}"


def _events(office: Unit, days: Iterable[RotaDay], stamp_text: str) -> list[str]:
    lines: list[str] = []
    for day in days:
        lines += [
            "BEGIN:VEVENT",
            f"UID:rota-{office.code}-{day.date:%Y%m%d}@xinfang",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{day.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day.date + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(summary(day))}",
            f"LOCATION:{escape_text(office.name)}",
        ]
        if day.note:
            lines.append(f"DESCRIPTION:{escape_text(day.note)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    return lines


def _calendar(name: str, events: list[str]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-WR-TIMEZONE:Asia/Shanghai",
        *events,
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def _stamp(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def rota_calendar(office: Unit, days: Iterable[RotaDay], *, stamp: dt.datetime) -> str:
    """One VEVENT per rota day, all-day, in the office's name."""
    return _calendar(office.name + " 领导接访排班", _events(office, days, _stamp(stamp)))


def rotas_calendar(rotas: list[tuple[Unit, Iterable[RotaDay]]], *, stamp: dt.datetime) -> str:
    """The rotas of several offices in one calendar (a private feed); one office reads as its own."""
    if len(rotas) == 1:
        return rota_calendar(rotas[0][0], rotas[0][1], stamp=stamp)
    events: list[str] = []
    for office, days in rotas:
        events += _events(office, days, _stamp(stamp))
    return _calendar("领导接访排班", events)
