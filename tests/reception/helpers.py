"""Helpers for the reception tests: the office's own leaders, a frozen clock, an ICS reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import time_machine

from tests.factories import County, bj, make_user
from xinfang.orgs.models import Role, User


@dataclass
class Leaders:
    director: User  # 信访局局长
    deputy: User  # 信访局副局长
    office_clerk: User


def make_leaders(county: County) -> Leaders:
    return Leaders(
        director=make_user("director", county.office, Role.HEAD, display_name="张局长"),
        deputy=make_user("deputy", county.office, Role.HEAD, display_name="李副局长"),
        office_clerk=make_user("clerk2", county.office, Role.CLERK, display_name="登记员小陈"),
    )


def frozen(*args):
    """Freeze the clock at a Beijing time."""
    return time_machine.travel(bj(*args), tick=False)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def parse_ics(raw: bytes) -> list[dict[str, str]]:
    """A strict little RFC 5545 reader: checks CRLF and 75-octet folding, returns the VEVENTs."""
    assert raw.endswith(b"\r\n")
    physical = raw.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in physical)
    assert all(len(line) <= 75 for line in physical), [len(x) for x in physical if len(x) > 75]
    lines: list[bytes] = []
    for line in physical:
        if line.startswith(b" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    text = [line.decode("utf-8") for line in lines]
    assert text[0] == "BEGIN:VCALENDAR" and text[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in text and any(t.startswith("PRODID:") for t in text)
    events, current = [], None
    for line in text:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
