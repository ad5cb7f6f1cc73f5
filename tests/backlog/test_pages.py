"""The case page's forms, posted as a browser would, from flag to close."""

from __future__ import annotations

import datetime as dt

from tests.backlog.conftest import NOW, accepted_case, evidence
from tests.factories import PASSWORD
from xinfang.backlog.models import BacklogCase, Status

D = NOW.date().isoformat()


def _post(client, backlog, action, data, **kw):
    response = client.post(
        f"/backlog/{backlog.pk}/do/{action}/",
        {f"{action}-{k}": v for k, v in data.items()},
        follow=True,
        **kw,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_whole_case_through_the_forms(client, county, people, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=400))
    client.login(username="supervisor", password=PASSWORD)
    html = client.post(
        "/backlog/flag/", {"case_number": case.number, "reason": "多次信访未化解"}, follow=True
    ).content.decode()
    assert "已认定为积案" in html
    b = BacklogCase.objects.get()
    assert "已指定包案领导" in _post(client, b, "owner", {"owner": people.head.pk})
    assert "已加入工作专班" in _post(
        client, b, "member", {"user": people.officer.pk, "role": "member"}
    )
    html = _post(
        client,
        b,
        "plan",
        {
            "lead_unit": county.hr.pk,
            "secondary_units": [county.town.pk],
            "path": "核实后补发",
            "funds_amount": "",
            "plan_date": D,
            "deadline_days": 60,
        },
    )
    assert "已保存化解方案第1版" in html
    assert "已记录：议" in _post(
        client,
        b,
        "step",
        {"step": "deliberate", "held_on": D, "attendees": [people.head.pk], "plan": 1},
    )
    assert "已记录：考" in _post(
        client,
        b,
        "step",
        {
            "step": "assess",
            "held_on": D,
            "external_attendees": "考核组",
            "score": "90",
            "grade": "good",
        },
    )
    html = _post(
        client,
        b,
        "meeting",
        {
            "kind": "coordination",
            "held_on": D,
            "attendee_units": [county.hr.pk, county.town.pk],
            "decisions": "人社局三日内核实",
            "action1_description": "核实欠薪",
            "action1_owner": people.officer.pk,
            "action1_unit": county.hr.pk,
            "action1_due_days": 3,
        },
    )
    assert "已记录协调会" in html
    action = b.meetings.get().actions.get()
    client.post(f"/backlog/actions/{action.pk}/done/")
    action.refresh_from_db()
    assert action.done_at is not None
    assert "已记录帮扶救助" in _post(
        client,
        b,
        "aid",
        {
            "kind": "social_relief",
            "amount": "3000",
            "source": "临时救助资金",
            "approved_by": "区民政局",
            "approved_on": D,
        },
    )
    assert "已记录律师引导调解" in _post(
        client,
        b,
        "mediation",
        {
            "lawyer_name": "王律师",
            "law_firm": "某律所",
            "session_on": D,
            "session_notes": "释法",
            "outcome": "ongoing",
        },
    )
    mediation = b.mediations.get()
    assert "已记录调解情况" in _post(
        client,
        b,
        "session",
        {"mediation": mediation.pk, "held_on": D, "notes": "达成协议", "outcome": "agreed"},
    )
    assert "已记录听证评议" in _post(
        client,
        b,
        "hearing",
        {
            "held_on": D,
            "place": "听证室",
            "minutes": "记录",
            "findings": "合理",
            "decision": "支持",
            "p_deputy": "李代表、周代表",
            "p_lawyer": "王律师",
        },
    )
    assert b.hearings.get().participants.count() == 3
    assert "已记录约谈" in _post(
        client,
        b,
        "summons",
        {"unit": county.hr.pk, "head_name": "张局长", "held_on": D, "reason": "推进缓慢"},
    )
    html = _post(client, b, "close", {})
    assert "不能化解销号：化解方案（第1版）尚未标记落实；尚未记录息诉罢访及佐证材料。" in html
    assert "已标记方案落实" in _post(client, b, "executed", {"on": D})
    assert "已记录息诉罢访" in _post(
        client,
        b,
        "acceptance",
        {"on": D, "kind": "signed_statement", "note": "签字", "evidence": evidence()},
    )
    assert "已化解销号" in _post(client, b, "close", {})
    b.refresh_from_db()
    assert b.status == Status.CLOSED
    page = client.get(f"/backlog/{b.pk}/").content.decode()
    for text in ("李代表", "核实后补发", "区民政局", "达成协议", "张局长", "已化解"):
        assert text in page


def test_form_errors_are_shown_in_chinese(client, county, people, backlog):
    client.login(username="supervisor", password=PASSWORD)
    html = _post(
        client,
        backlog,
        "plan",
        {"lead_unit": county.hr.pk, "path": "x", "plan_date": D, "due_on": "2020-01-01"},
    )
    assert "化解期限不能早于今天" in html
    html = _post(client, backlog, "hearing", {"held_on": D})
    assert "听证地点：这个字段是必填项。" in html
