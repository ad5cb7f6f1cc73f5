"""Registration and every transition through the JSON API, with the pages' rules and messages."""

from __future__ import annotations

import pytest

from tests.factories import VALID_ID, bj, register
from xinfang.cases import services
from xinfang.cases.models import Case, CaseEvent, Kind, State
from xinfang.cases.workflow import FORM_ACTIONS


def _register_body(county, **extra) -> dict:
    body = {
        "channel": "visit",
        "kind": "appeal",
        "title": "某公司拖欠工资",
        "content": "拖欠工资三个月，请求帮助。",
        "place": county.place.pk,
        "category": county.wages.pk,
        "petitioner_name": "李四",
        "petitioner_id_number": VALID_ID,
        "petitioner_phone": "13812345678",
    }
    body.update(extra)
    return body


def test_a_clerk_registers_a_matter(county, people, as_):
    response = as_("clerk").post(
        "/api/cases",
        _register_body(
            county, representatives=[{"name": "代表甲", "phone": "13700001111"}], group_size=3
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["case"]["id"])
    assert body["created"] is True and body["notice"] == ""
    assert (
        case.office == county.office
        and case.created_by == people.clerk
        and case.state == State.REGISTERED
    )
    assert case.petitioner_name == "李四" and case.group_size == 3
    assert list(case.representatives.values_list("name", "phone")) == [("代表甲", "13700001111")]
    assert body["case"]["petitioner"]["representatives"] == ["代表甲"]
    assert body["case"]["allowed_actions"] == ["route", "decline", "not_accept_again"]


@pytest.mark.parametrize(
    "persona", ["officer", "head", "supervisor", "outsider", "reviewer", "admin"]
)
def test_only_clerks_register(county, as_, persona):
    response = as_(persona).post("/api/cases", _register_body(county))
    assert response.status_code == 403
    assert response.json()["detail"] == "只有信访机构的登记员可以登记事项"
    assert not Case.objects.exists()


def test_registration_errors_are_the_forms_chinese_messages_per_field(county, as_):
    response = as_("clerk").post("/api/cases", _register_body(county, title="", content=""))
    assert response.status_code == 422 and response.json()["detail"] == "请求参数不正确"
    assert response.json()["errors"] == {"title": ["此项不能为空"], "content": ["此项不能为空"]}
    response = as_("clerk").post("/api/cases", _register_body(county, title=" ", place=999999))
    assert response.status_code == 422 and response.json()["detail"] == "登记信息有误"
    assert response.json()["errors"] == {
        "title": ["这个字段是必填项。"],
        "place": ["选择一个有效的选项： 该选择不在可用的选项中。"],
    }
    response = as_("clerk").post(
        "/api/cases", _register_body(county, petitioner_id_number="110105194912310021")
    )
    assert response.json()["errors"] == {
        "petitioner_id_number": ["身份证号码校验位错误，请核对最后一位"]
    }
    response = as_("clerk").post(
        "/api/cases", _register_body(county, petitioner_phone="", petitioner_address="")
    )
    assert response.json()["errors"] == {
        "petitioner_phone": ["请至少填写联系电话或住址之一，以便答复"]
    }
    response = as_("clerk").post(
        "/api/cases", _register_body(county, anonymous=True, petitioner_name="")
    )
    assert response.json()["errors"]["anonymous"] == ["只有建议意见、检举控告类事项可以匿名"]
    too_many = [{"name": f"代表{i}"} for i in range(6)]
    response = as_("clerk").post("/api/cases", _register_body(county, representatives=too_many))
    assert response.json()["errors"]["representatives"] == ["集体访代表不能超过5人（现有6人）"]
    response = as_("clerk").post("/api/cases", {"channel": "pigeon"})
    assert response.status_code == 422 and response.json()["errors"]["channel"] == [
        "不是允许的取值"
    ]
    assert response.json()["errors"]["kind"] == ["此项为必填项"]
    assert not Case.objects.exists()


def test_a_repeat_submission_is_linked_not_opened(county, people, as_):
    original = register(county, people.clerk, bj(2026, 11, 2, 9))
    response = as_("clerk").post("/api/cases", _register_body(county, repeat_of=original.number))
    assert response.status_code == 200
    assert response.json()["created"] is False and response.json()["notice"] == "in_progress"
    assert response.json()["case"]["id"] == original.pk and Case.objects.count() == 1


def _act(as_, persona, case, action, **body):
    return as_(persona).post(f"/api/cases/{case.pk}/{action}", body)


def test_every_transition_through_the_api(county, people, as_):
    """A matter's whole life, then the other branches, each through POST /api/cases/{id}/{action}."""
    done: set[str] = set()

    def act(persona, case, action, **body):
        response = _act(as_, persona, case, action, **body)
        assert response.status_code in {200, 204}, (action, response.json())
        done.add(action)
        return response.json() if response.status_code == 200 else None

    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    v = act(
        "clerk",
        case,
        "route",
        unit=county.hr.pk,
        mode="assign",
        assign_days=20,
        note="请办理",
        expected_version=case.version,
    )
    assert v["state"] == "routed" and v["lead_unit"]["id"] == county.hr.pk
    act("officer", case, "accept")
    v = act("head", case, "extend", days=30, reason="案情复杂")
    assert v["extension_days"] == 30
    act("officer", case, "pause", reason="听证")
    act("officer", case, "resume")
    act("officer", case, "report", text="已办结")
    act("officer", case, "reply", outcome="supported", text="责令支付")
    act("clerk", case, "rate", rating="unsatisfied", comment="金额不对")
    act("clerk", case, "request_review", reason="不服")
    act("reviewer", case, "decide_review", outcome="supported", text="维持")
    act("clerk", case, "request_rereview", reason="仍不服")
    v = act("rereviewer", case, "decide_rereview", outcome="supported", text="维持")
    assert v["state"] == "final"

    other = services.case_route(
        case=register(county, people.clerk, bj(2026, 11, 3, 9)), by=people.clerk, unit=county.hr
    )
    act("supervisor", other, "urge", note="请抓紧")
    # After the objection the matter is back with the office: the officer no longer sees it.
    assert act("officer", other, "object", reason="不属本单位职责") is None
    other.refresh_from_db()
    assert other.state == State.REGISTERED and other.lead_unit is None
    act("clerk", other, "decline", reason="属于诉讼事项", proper_channel="向人民法院起诉")
    again = register(county, people.clerk, bj(2026, 11, 4, 9))
    v = act("clerk", again, "not_accept_again", prior=case.number, reason="同一事实")
    assert v["state"] == "not_accepted_again" and v["linked_to"] == case.number
    # 智能派单 (routing.auto routes a new matter by the route row, marked auto), undone in time
    routed = services.case_transition(
        case=register(county, people.clerk, bj(2026, 11, 5, 9)),
        name="route",
        by=None,
        params={"unit": county.hr, "auto": {"label": "劳动和社会保障", "confidence": 0.99}},
    )
    v = act("clerk", routed, "undo_auto_route", reason="分类有误")
    assert v["state"] == "registered" and v["lead_unit"] is None
    # Every action the case page offers (并单 and 期满终结 run elsewhere: routing app, worker).
    assert done == set(FORM_ACTIONS)
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[:3] == ["case.registered", "case.routed", "case.accepted"] and len(kinds) == 13


def test_an_action_the_user_may_not_take_is_403_and_hidden_is_404(county, people, matters, as_):
    appeal = matters["appeal"]
    refused = _act(as_, "clerk", appeal, "accept")
    assert refused.status_code == 403 and refused.json()["detail"] == "您无权对该事项进行“受理”操作"
    assert _act(as_, "outsider", appeal, "accept").status_code == 404
    assert _act(as_, "officer", Case(pk=999999), "accept").status_code == 404
    appeal.refresh_from_db()
    assert appeal.state == State.ROUTED


def test_a_transition_the_state_forbids_is_400_in_chinese(county, people, matters, as_):
    response = _act(as_, "officer", matters["appeal"], "reply", outcome="supported", text="x")
    assert response.status_code == 400
    assert response.json()["detail"] == "当前状态为“待受理”，不能进行“答复”操作"
    response = _act(as_, "head", matters["appeal"], "extend", days=5, reason="x")
    assert response.status_code == 400
    accepted = services.case_accept(case=matters["appeal"], by=people.officer)
    services.case_extend(case=accepted, by=people.head, days=10, reason="复杂")
    response = _act(as_, "head", accepted, "extend", days=5, reason="x")
    assert (
        response.status_code == 400
        and response.json()["detail"] == "该事项已延期一次，不能再次延期"
    )


def test_a_stale_version_is_409(people, matters, as_):
    appeal = matters["appeal"]
    response = _act(as_, "officer", appeal, "accept", expected_version=appeal.version - 1)
    assert response.status_code == 409 and "已被他人修改" in response.json()["detail"]
    response = _act(as_, "officer", appeal, "accept", expected_version=appeal.version)
    assert response.status_code == 200 and response.json()["version"] == appeal.version + 1


def test_invalid_action_input_is_422_with_the_forms_messages(county, people, matters, as_):
    appeal = services.case_accept(case=matters["appeal"], by=people.officer)
    response = _act(as_, "head", appeal, "extend", days=31, reason="x")
    assert response.status_code == 422 and response.json()["errors"] == {"days": ["数值过大"]}
    response = _act(as_, "head", appeal, "extend", days=10, reason="")
    assert response.status_code == 422 and response.json()["errors"] == {"reason": ["此项不能为空"]}
    response = _act(as_, "head", appeal, "extend", days=10, reason="   ")  # the form strips it
    assert response.status_code == 422 and response.json()["errors"] == {
        "reason": ["这个字段是必填项。"]
    }
    response = _act(as_, "officer", appeal, "reply", outcome="maybe", text="x")
    assert response.status_code == 422 and response.json()["errors"] == {
        "outcome": ["不是允许的取值"]
    }


def test_routing_a_report_to_the_accused_unit_is_refused_with_the_reason(county, people, as_):
    report = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        accused_unit=county.hr,
        title="反映人社局",
        content="人社局推诿",
    )
    response = _act(as_, "clerk", report, "route", unit=county.hr.pk)
    assert response.status_code == 422
    assert response.json()["errors"]["unit"] == [
        "不能将检举控告转给被反映单位“A1区人力资源和社会保障局”办理（回避）"
    ]


def test_a_body_that_is_not_json_is_400(matters, client, tokens):
    response = client.post(
        f"/api/cases/{matters['appeal'].pk}/accept",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['officer']}",
    )
    assert response.status_code == 400 and response.json()["detail"] == "请求体不是有效的 JSON"


BIG = -111938451127622160673796257742848  # found by the schema fuzzer: SQLite cannot hold it


@pytest.mark.parametrize(
    "field, value",
    [
        ("other_accused_units", [BIG]),
        ("other_accused_units", [2**64]),
        ("accused_unit", 2**64),
        ("place", 99999999999999999999),
        ("category", BIG),
    ],
)
def test_an_id_no_column_can_hold_is_an_invalid_choice_not_a_500(county, as_, field, value):
    response = as_("clerk").post("/api/cases", _register_body(county, **{field: value}))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Case.objects.exists()
