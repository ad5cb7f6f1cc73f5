"""The event vocabulary: one row per kind says what staff, the citizen and Open311 read.

A kind without a row, a public kind without a citizen text, a kind spelled as a string literal
outside `cases/events.py`: each fails here. The portal, the API and Open311 render the row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import bj, register
from xinfang.api.services import api_token_issue, open311_key_issue
from xinfang.cases import events, services, workflow
from xinfang.cases.events import EVENTS, EventKind, EventText, render
from xinfang.cases.models import Case, CaseEvent

ROOT = Path(__file__).resolve().parents[2] / "xinfang"
KIND_LITERAL = re.compile(
    r"(?<!dispatch_uid=)[\"']((?:case|supervision|backlog|cohandling)\.[a-z_]+)[\"']"
)


def _literals() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in f"/{relative}" or relative == "cases/events.py":
            continue
        kinds = set(KIND_LITERAL.findall(path.read_text(encoding="utf-8")))
        if kinds:
            found[relative] = kinds
    return found


# ---------------------------------------------------------------- the table


def test_every_kind_has_a_row_and_every_row_a_kind():
    assert set(EVENTS) == set(EventKind)
    assert all(isinstance(row, EventText) for row in EVENTS.values())


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_each_kind_says_what_every_audience_reads(kind):
    row = EVENTS[kind]
    assert row.label.strip(), f"{kind}: no staff label"
    if row.public:
        assert row.citizen and row.citizen[0].strip(), f"{kind} is public: no citizen text"
        assert row.open311 and row.open311.strip(), f"{kind} is public: no Open311 note"
    else:
        assert row.citizen is None, f"{kind} is internal: the citizen must not read it"
        assert row.open311 is None, f"{kind} is internal: Open311 must not publish it"


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_no_template_leaves_braces_when_its_details_are_missing(kind):
    row = EVENTS[kind]
    for template in [row.label, *(row.citizen or ()), row.open311 or ""]:
        text = render(template, {})
        assert not re.search(r"[{}\[\]]", text), (kind, template, text)


def test_the_template_language():
    fields = {"unit": "人社局", "empty": "", "channel": "向法院起诉"}
    assert render("{unit|办理单位}已受理", fields) == "人社局已受理"
    assert render("{empty|办理单位}已受理", fields) == "办理单位已受理"
    assert render("不予受理[，请通过{channel}反映]", fields) == "不予受理，请通过向法院起诉反映"
    assert render("不予受理[，请通过{empty}反映]", fields) == "不予受理"
    # a value is never read as a template
    assert render("{unit}", {"unit": "{empty}[x]"}) == "{empty}[x]"


def test_labels_fall_back_to_the_stored_kind():
    assert events.label(EventKind.REPLIED) == "答复"
    assert events.label("case.retired_kind") == "case.retired_kind"
    assert events.is_public("case.replied") and not events.is_public("case.urged")
    assert not events.is_public("case.retired_kind")


# ---------------------------------------------------------------- the code speaks EventKind


def test_every_kind_literal_in_the_code_is_a_member():
    members = {k.value for k in EventKind}
    unknown = {path: kinds - members for path, kinds in _literals().items() if kinds - members}
    assert unknown == {}, "add these kinds to cases/events.py"


def test_no_kind_is_spelled_as_a_literal_outside_the_vocabulary():
    assert _literals() == {}, "write EventKind.X instead of the string"


def test_a_member_is_its_stored_string(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    assert CaseEvent.objects.filter(case=case, kind=EventKind.REGISTERED).count() == 1
    stored = CaseEvent.objects.values_list("kind", flat=True).get(case=case)
    assert stored == "case.registered" and EventKind(stored) is EventKind.REGISTERED


# ---------------------------------------------------------------- what is public is said once


def test_each_transition_records_a_member_as_public_as_the_table_says():
    for action in workflow.ACTIONS.values():
        kind = EventKind(action.event)
        assert action.public == EVENTS[kind].public, (action.name, kind)


def test_a_journey_records_each_event_as_public_as_the_table_says(county, people):
    case = _routed(county, people)
    services.case_urge(case=case, by=people.supervisor, note="请抓紧办理")
    case = services.case_accept(case=case, by=people.officer)
    case = services.case_extend(case=case, by=people.head, days=10, reason="需调查")
    case = services.case_reply(case=case, by=people.officer, outcome="supported", text="已支付")
    case = services.case_request_review(case=case, by=people.clerk, reason="不服")
    services.case_decide_review(case=case, by=people.reviewer, outcome="explained", text="维持")
    recorded = list(CaseEvent.objects.filter(case=case).values_list("kind", "public"))
    assert [kind for kind, _ in recorded] == [
        EventKind.REGISTERED,
        EventKind.ROUTED,
        EventKind.URGED,
        EventKind.ACCEPTED,
        EventKind.EXTENDED,
        EventKind.REPLIED,
        EventKind.REVIEW_REQUESTED,
        EventKind.REVIEW_DECIDED,
    ]
    assert [(kind, public) for kind, public in recorded if public != events.is_public(kind)] == []


# ---------------------------------------------------------------- every reader renders the row


@pytest.fixture
def marked_route(monkeypatch):
    """The 转送 row with words no page would write by itself: whoever shows them read the table."""
    row = EventText(
        "转送（表）",
        ("表：已{verb}{unit}", "表：单位{unit}"),
        "表：转交{unit}",
        public=True,
    )
    monkeypatch.setitem(EVENTS, EventKind.ROUTED, row)
    return row


def _routed(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    return services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))


def test_the_portal_shows_the_citizen_text(client, county, people, marked_route):
    case = _routed(county, people)
    code = services.case_issue_query_code(case=case)
    client.post("/portal/track/", {"number": case.number, "code": code})
    html = client.get("/portal/case/").content.decode()
    assert "表：已转送A1区人力资源和社会保障局" in html
    assert "表：单位A1区人力资源和社会保障局" in html


def test_the_staff_page_and_the_api_show_the_label(client, county, people, marked_route):
    case = _routed(county, people)
    token = api_token_issue(user=people.supervisor, name="test")
    body = client.get(f"/api/cases/{case.pk}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [(e["kind"], e["label"]) for e in body["timeline"]] == [
        ("case.registered", "登记"),
        ("case.routed", "转送（表）"),
    ]
    client.force_login(people.supervisor)
    assert "转送（表）" in client.get(f"/cases/{case.pk}/").content.decode()


def test_open311_shows_the_status_note(client, county, people, marked_route):
    key = open311_key_issue(name="城市服务App")
    posted = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "LD01",
            "description": "工地拖欠农民工工资两个月",
            "address_string": "东湖街道建设路18号工地",
            "first_name": "三",
            "last_name": "张",
            "phone": "13812345678",
        },
    )
    number = posted.json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    if case.accused_pending:  # a 投诉 waits for the clerk to record the accused unit
        case = services.case_record_accused(case=case, by=people.clerk, units=[], no_unit=True)
    services.case_route(case=case, by=people.clerk, unit=county.hr)
    row = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert row["status_notes"] == "表：转交A1区人力资源和社会保障局"


def test_a_merged_matter_tells_the_citizen_without_naming_the_main_one(client, county, people):
    main = register(county, people.clerk, bj(2026, 9, 16, 10))
    dup = register(county, people.clerk, bj(2026, 9, 16, 11), title="同一工地欠薪")
    code = services.case_issue_query_code(case=dup)
    services.case_merge(case=dup, into=main, by=people.clerk, at=bj(2026, 9, 17, 9))
    client.post("/portal/track/", {"number": dup.number, "code": code})
    html = client.get("/portal/case/").content.decode()
    assert "已并入同一诉求的事项一并办理" in html and main.number not in html
    recorded = CaseEvent.objects.filter(kind__in=[EventKind.MERGED, EventKind.MERGE_RECEIVED])
    assert {(e.kind, e.public) for e in recorded} == {
        (EventKind.MERGED, EVENTS[EventKind.MERGED].public),
        (EventKind.MERGE_RECEIVED, EVENTS[EventKind.MERGE_RECEIVED].public),
    }
