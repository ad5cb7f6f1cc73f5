"""Each transition's `apply` is a pure function of (matter, params, time) → Change.

No database: the matters and units here are never saved (pytest-django refuses any query in a
test without the `db` fixture, so a query would fail these tests)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.factories import bj
from xinfang.cases import transitions as t
from xinfang.cases.models import Case, Outcome, Rating, RouteMode, State
from xinfang.cases.transitions import Change, Due, TransitionRefused
from xinfang.cases.workflow import ACTIONS
from xinfang.orgs.models import Unit

AT = bj(2026, 9, 2, 9)
CITY = Unit(pk=1, name="市人社局")
HR = Unit(pk=2, name="县人社局", parent=CITY)
TOWN = Unit(pk=3, name="城关镇")
EDU = Unit(pk=4, name="县教育局")


def _case(**kw) -> Case:
    return Case(number="XF-2026-000001", state=State.REGISTERED, **kw)


FINAL_PRIOR = Case(pk=7, number="XF-2026-000007", state=State.FINAL)

# name, the matter's fields, params, the Change expected
CASES = [
    (
        "route",
        {},
        {"unit": HR, "mode": RouteMode.ASSIGN, "co_units": [HR, TOWN], "assign_days": 20},
        Change(
            fields={
                "lead_unit": HR,
                "route_mode": RouteMode.ASSIGN,
                "routed_at": AT,
                "report_required": True,
                "review_unit": None,
                "rereview_unit": None,
            },
            deadlines={"assign_due_at": Due(days=20), "object_due_at": Due(rule="object")},
            co_units=(TOWN,),  # the lead unit is never its own co-handler
            details={
                "unit": "县人社局",
                "unit_id": 2,
                "mode": RouteMode.ASSIGN,
                "co_units": ["城关镇"],
                "assign_days": 20,
                "note": "",
            },
        ),
    ),
    (
        "object",
        {"lead_unit": HR, "object_due_at": AT + dt.timedelta(days=1)},
        {"reason": "非本单位职责"},
        Change(
            fields=dict.fromkeys(("lead_unit", "routed_at", "object_due_at", "assign_due_at")),
            co_units=(),
            details={"unit": "县人社局", "reason": "非本单位职责"},
        ),
    ),
    (
        "undo_auto_route",
        {"lead_unit": HR, "object_due_at": AT + dt.timedelta(days=1)},
        {"reason": "分类有误"},
        Change(
            fields=dict.fromkeys(
                ("lead_unit", "routed_at", "object_due_at", "assign_due_at", "category")
            ),
            co_units=(),
            details={"unit": "县人社局", "reason": "分类有误"},
        ),
    ),
    (
        "accept",
        {"lead_unit": HR},
        {},
        Change(fields={"accepted_at": AT}, details={"unit": "县人社局"}),
    ),
    (
        "decline",
        {},
        {"reason": "属诉讼事项", "proper_channel": "向人民法院起诉"},
        Change(
            fields={"closed_at": AT},
            details={"reason": "属诉讼事项", "proper_channel": "向人民法院起诉"},
        ),
    ),
    (
        "not_accept_again",
        {},
        {"prior": FINAL_PRIOR},
        Change(
            fields={"closed_at": AT, "linked_to": FINAL_PRIOR},
            details={"prior": "XF-2026-000007", "reason": ""},
        ),
    ),
    (
        "extend",
        {"clock": "handle"},
        {"days": 30, "reason": "案情复杂"},
        Change(
            extension_days=30,
            details={"days": 30, "reason": "案情复杂"},
            due_details=("old_due", "new_due"),
        ),
    ),
    (
        "reply",
        {},
        {"outcome": Outcome.SUPPORTED, "text": "责令支付"},
        Change(
            fields={"outcome": Outcome.SUPPORTED, "replied_at": AT},
            details={"outcome": Outcome.SUPPORTED, "text": "责令支付"},
        ),
    ),
    (
        "report",
        {"assign_due_at": AT - dt.timedelta(days=1)},
        {"text": "已办结"},
        Change(
            fields={"report_submitted_at": AT},
            details={"text": "已办结", "report_on_time": False},
        ),
    ),
    (
        "rate",
        {},
        {"rating": Rating.SATISFIED, "comment": "好"},
        Change(
            fields={"rating": Rating.SATISFIED}, details={"rating": "satisfied", "comment": "好"}
        ),
    ),
    (
        "request_review",
        {"lead_unit": HR, "due_at": AT},
        {"reason": "不服"},
        Change(fields={"review_unit": CITY}, details={"reason": "不服", "review_unit": "市人社局"}),
    ),
    (
        "decide_review",
        {},
        {"outcome": Outcome.EXPLAINED, "text": "维持"},
        Change(
            fields={"review_outcome": Outcome.EXPLAINED},
            details={"outcome": Outcome.EXPLAINED, "text": "维持"},
        ),
    ),
    (
        "request_rereview",
        {"review_unit": HR},
        {"reason": "仍不服"},
        Change(
            fields={"rereview_unit": CITY},
            details={"reason": "仍不服", "rereview_unit": "市人社局"},
        ),
    ),
    (
        "decide_rereview",
        {},
        {"outcome": Outcome.NOT_SUPPORTED, "text": "不予支持"},
        Change(
            fields={"rereview_outcome": Outcome.NOT_SUPPORTED, "closed_at": AT},
            details={"outcome": Outcome.NOT_SUPPORTED, "text": "不予支持"},
        ),
    ),
    (
        "pause",
        {"clock": "handle"},
        {"reason": "鉴定"},
        Change(pause="鉴定", details={"reason": "鉴定", "clock": "handle"}),
    ),
    (
        "resume",
        {"clock": "handle", "paused": True},
        {},
        Change(resume=True, details={"clock": "handle"}, due_details=("new_due",)),
    ),
    (
        "finalize",
        {"clock": "review_request", "due_at": AT},
        {},
        Change(fields={"closed_at": AT}, details={"window": "review_request"}),
    ),
    ("urge", {}, {"note": "请抓紧"}, Change(details={"note": "请抓紧"})),
    (
        "merge",
        {},
        {"into": FINAL_PRIOR, "note": "同一诉求"},
        Change(
            fields={"closed_at": AT, "linked_to": FINAL_PRIOR},
            details={"into": "XF-2026-000007", "into_id": 7, "note": "同一诉求"},
        ),
    ),
]


def test_the_table_of_cases_covers_every_transition():
    assert [name for name, *_ in CASES] == list(ACTIONS)


@pytest.mark.parametrize(("name", "fields", "params", "expected"), CASES, ids=[c[0] for c in CASES])
def test_apply_returns_the_change_as_data(name, fields, params, expected):
    case = _case(**fields)
    before = dict(case.__dict__)
    assert ACTIONS[name].apply(case, params, AT) == expected
    assert case.__dict__ == before  # the matter itself is untouched


@pytest.mark.parametrize(
    ("name", "fields", "params", "at", "message"),
    [
        (
            "object",
            {"object_due_at": AT},
            {"reason": "x"},
            AT + dt.timedelta(seconds=1),
            "异议期限",
        ),
        (
            "request_review",
            {"lead_unit": HR, "due_at": AT},
            {"reason": "x"},
            AT + dt.timedelta(seconds=1),
            "复查申请期限已于2026年09月02日届满",
        ),
        (
            "undo_auto_route",
            {"object_due_at": AT},
            {"reason": "x"},
            AT + dt.timedelta(seconds=1),
            "撤回期限",
        ),
        ("request_review", {"lead_unit": CITY}, {"reason": "x"}, AT, "没有上一级机关"),
        ("request_review", {}, {"reason": "x"}, AT, "没有上一级机关"),
        ("request_rereview", {"review_unit": CITY}, {"reason": "x"}, AT, "复查机关没有上一级机关"),
        ("finalize", {"due_at": AT + dt.timedelta(days=1)}, {}, AT, "申请期限尚未届满"),
        ("finalize", {}, {}, AT, "申请期限尚未届满"),
    ],
)
def test_apply_refuses_what_the_matter_forbids(name, fields, params, at, message):
    with pytest.raises(TransitionRefused, match=message):
        ACTIONS[name].apply(_case(**fields), params, at)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("route", {"unit": HR, "mode": "sideways"}, "mode"),
        ("route", {"unit": HR, "mode": RouteMode.ASSIGN}, "assign_days"),
        ("route", {"unit": HR, "assign_days": 91}, "assign_days"),
        ("object", {"reason": "  "}, "reason"),
        ("undo_auto_route", {"reason": ""}, "reason"),
        ("decline", {"reason": "x", "proper_channel": ""}, "proper_channel"),
        ("reply", {"outcome": "maybe", "text": "x"}, "outcome"),
        ("reply", {"outcome": Outcome.SUPPORTED, "text": " "}, "text"),
        ("report", {}, "text"),
        ("rate", {"rating": "great"}, "rating"),
        ("request_review", {"reason": ""}, "reason"),
        ("decide_review", {"outcome": "", "text": "x"}, "outcome"),
        ("request_rereview", {"reason": ""}, "reason"),
        ("decide_rereview", {"outcome": Outcome.SUPPORTED}, "text"),
        ("pause", {"reason": ""}, "reason"),
        ("urge", {"note": ""}, "note"),
    ],
)
def test_check_refuses_bad_input_by_field(name, params, field):
    with pytest.raises(ValidationError) as exc:
        ACTIONS[name].check(params, None)
    assert list(exc.value.message_dict) == [field]


def test_not_accept_again_needs_a_final_prior():
    with pytest.raises(TransitionRefused, match="尚未终结"):
        t.check_not_accept_again({"prior": Case(number="XF-1", state=State.ACCEPTED)}, None)
    t.check_not_accept_again({"prior": FINAL_PRIOR}, None)


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("route", {"accused_pending": True}, "被反映单位待确定"),
        ("extend", {"extension_days": 10}, "已延期一次"),
        ("rate", {"rating": Rating.SATISFIED}, "不能重复评价"),
        ("pause", {"paused": True}, "计时已中止"),
        ("resume", {}, "计时未中止"),
        ("report", {}, "无需报送"),
        ("report", {"report_required": True, "report_submitted_at": AT}, "已报送"),
    ],
)
def test_once_only_refusals(name, fields, message):
    assert message in ACTIONS[name].refusal(_case(**fields))
    assert ACTIONS[name].refusal(_case()) is None or name in {"resume", "report"}
