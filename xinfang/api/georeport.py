"""Open311 GeoReport v2: what the responses say, and how they are written as JSON or XML.

Only matters that came in through Open311 are listed, and never anyone's name, phone or
e-mail: the specification lets a server leave personal fields out, and petitions are
confidential. What is published:

- `description`: the citizen's text through `cases.scrub.scrub_personal_data`, which also masks
  the petitioner's name, contact address and the typed `address_string` wherever they appear.
- `address`: the matter's place (区划, e.g. "A1区东湖街道"), never the address the citizen typed
  (it may be a home). `lat`/`long`: none, since a place has no coordinates of its own and the
  posted point may be a house.
- `media_url`: always empty. A photo may show faces, number plates or documents, and the office
  has no way yet to mark a photo as checked; publish one only once such a flag exists.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.utils import timezone

from xinfang.api import conf
from xinfang.api.models import Open311Request
from xinfang.api.services import original_description
from xinfang.cases import events
from xinfang.cases.models import CLOSED_STATES, CaseEvent, State
from xinfang.cases.scrub import scrub_personal_data
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.orgs.models import Category

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"
FORMATS = {"json": "application/json", "xml": "text/xml"}
# A reply (答复) or review decision (复查意见) answers the request: closed until the citizen asks again.
CLOSED = frozenset({*CLOSED_STATES, State.REPLIED, State.REVIEWED})
# 区划代码: 6 digits a county, 9 a town or street (乡镇、街道), 12 a village or community.
TOWN_CODE_LENGTH = 9
# Wrapper element → element of each list item in the XML form.
XML_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def w3c(moment: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, in Beijing time: 2026-11-02T09:00:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# ---------------------------------------------------------------- writing


def render(fmt: str, data, *, root: str, item: str, status: int = 200) -> HttpResponse:
    """JSON as the list/object itself; XML under `root`, each list entry as `item`."""
    body = _xml(root, item, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type=f"{FORMATS[fmt]}; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    """The specification's error list: [{"code": 404, "description": "…"}] / <errors><error>…"""
    return render(
        fmt,
        [{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
    )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, data: dict) -> None:
    for key, value in data.items():
        child = ET.SubElement(element, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            for entry in value:
                sub = ET.SubElement(child, XML_ITEMS.get(key, "item"))
                if isinstance(entry, dict):
                    _fill(sub, entry)
                else:
                    sub.text = _text(entry)
        else:
            child.text = _text(value)


def _xml(root: str, item: str, data) -> bytes:
    top = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(ET.SubElement(top, item), entry)
    else:
        _fill(top, data)
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode").encode()
    )


# ---------------------------------------------------------------- discovery and services


def discovery(base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": conf.contact(),
        "key_service": "提交诉求所需的 api_key 由信访机构签发（命令：xinfang open311_key 系统名称）",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


def service_categories() -> Iterable[Category]:
    """The services: every category without sub-categories (the dispatch catalogue's leaves)."""
    return Category.objects.filter(children__isnull=True).select_related("parent").order_by("code")


def service(category: Category) -> dict:
    group = category.parent.name if category.parent_id else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{group}：{category.name}" if group else category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(x for x in [category.name, group] if x),
        "group": group,
    }


def service_definition(category: Category) -> dict:
    return {"service_code": category.code, "attributes": []}


# ---------------------------------------------------------------- requests


def status_of(state: str) -> str:
    return "closed" if state in CLOSED else "open"


def status_notes(event: CaseEvent | None) -> str:
    """A plain line about the latest public step, worded by the event vocabulary (EVENTS).
    Reasons and texts stay out of the notes: they may name people."""
    if event is None:
        return ""
    text = events.text_of(event.kind)
    if text is None or text.open311 is None:
        return events.label(event.kind)
    fields = events.event_fields(event, scrub=scrub_personal_data)
    return events.render(text.open311, fields)


def requests_queryset():
    latest = CaseEvent.objects.filter(case=OuterRef("case"), public=True).order_by("-at", "-id")
    return Open311Request.objects.select_related(
        "case",
        "case__lead_unit",
        "case__office",
        "case__category",
        "case__place__parent__parent",
    ).annotate(latest_event_id=Subquery(latest.values("id")[:1]))


def request_rows(rows: list[Open311Request]) -> list[dict]:
    """GET requests: one dict per request, in the specification's field order."""
    events = CaseEvent.objects.in_bulk([r.latest_event_id for r in rows if r.latest_event_id])
    return [request_row(r, events.get(r.latest_event_id)) for r in rows]


def request_row(req: Open311Request, event: CaseEvent | None) -> dict:
    case = req.case
    open_ = status_of(case.state) == "open"
    expected = case.due_at if open_ and case.clock not in CITIZEN_WINDOWS else None
    return {
        "service_request_id": case.number,
        "status": status_of(case.state),
        "status_notes": status_notes(event),
        "service_name": case.category.name if case.category_id else "",
        "service_code": req.service_code,
        "description": public_description(req),
        "agency_responsible": (case.lead_unit or case.office).name,
        "service_notice": service_notice(case) if open_ else "",
        "requested_datetime": w3c(case.registered_at),
        "updated_datetime": w3c(event.at if event else case.registered_at),
        "expected_datetime": w3c(expected),
        "address": public_address(case),
        "address_id": "",
        "zipcode": "",
        "lat": None,  # the posted point may be a house; a place has no coordinates of its own
        "long": None,
        "media_url": "",  # not published: no photo is marked as checked by the office
    }


def public_description(req: Open311Request) -> str:
    """The citizen's text without personal data, nor the name and addresses they gave."""
    case = req.case
    known = [
        req.address_string,
        case.petitioner_address,
        case.petitioner_phone,
        case.petitioner_id_number,
        case.petitioner_name,
    ]
    return scrub_personal_data(original_description(case.content), known=known)


def public_address(case) -> str:
    """Where the matter is, as a place (区划) with its parent: "A1区东湖街道"; never a typed address.

    At most the town or street (乡镇、街道): a village or community (村、社区) is published as its town.
    """
    place = case.place
    if place is None:
        return ""
    while place.parent_id and len(place.code) > TOWN_CODE_LENGTH:
        place = place.parent
    return f"{place.parent.name}{place.name}" if place.parent_id else place.name


def service_notice(case) -> str:
    """What the office owes next, with its deadline."""
    from xinfang.cases.selectors import clock_rules, last_day

    rules = clock_rules()
    if case.paused:
        return "办理计时中止中"
    if not case.due_at or case.clock not in rules or case.clock in CITIZEN_WINDOWS:
        return ""
    return f"{rules[case.clock].label}期限：{last_day(case.due_at):%Y年%m月%d日}"
