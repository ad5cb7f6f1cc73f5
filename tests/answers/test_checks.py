"""草稿检查 on hand-written drafts: a good reply passes, each missing part is named."""

from __future__ import annotations

from tests.factories import bj
from xinfang.answers import checks

TITLE = "某公司拖欠工资三个月"
CONTENT = "本人在某建筑公司务工，公司拖欠工资三个月未发，欠薪共计两万元，请求帮助追讨。"
GOOD = (
    "经调查核实，某建筑公司确实拖欠您工资两万元。区人社局已于2026年10月8日向该公司下达"
    "《劳动保障监察限期整改指令书》，依据《保障农民工工资支付条例》第三十条，"
    "责令其在10个工作日内足额支付拖欠的工资。"
)


def test_a_good_reply_passes_every_check():
    report = checks.check_draft(
        GOOD, title=TITLE, content=CONTENT, due_at=bj(2026, 11, 1), at=bj(2026, 10, 9)
    )
    assert [c.name for c in report.items if not c.passed] == []
    assert report.passed
    assert "拖欠" in report.key_terms


def test_a_reply_about_something_else_is_not_relevant():
    other = "您好！公办幼儿园将于2026年6月1日起网上报名，依据《入园招生办法》第五条，请按时报名。"
    report = checks.check_draft(other, title=TITLE, content=CONTENT)
    assert not report.relevance.passed
    assert "拖欠" in report.relevance.note or "相似度" in report.relevance.note
    assert report.outcome_time.passed and report.policy.passed  # the rest is well formed


def test_a_reply_without_a_time_says_so():
    draft = "经查，某建筑公司拖欠工资属实，已责令该公司支付拖欠的工资，依据《劳动合同法》处理。"
    result = checks.check_draft(draft, title=TITLE, content=CONTENT).outcome_time
    assert not result.passed and "时间" in result.note


def test_a_reply_without_an_outcome_says_so():
    draft = "关于拖欠工资的问题，我们会在10个工作日内研究。"
    result = checks.check_outcome_time(draft)
    assert not result.passed and "处理结果" in result.note


def test_a_reply_without_a_policy_says_so():
    draft = "经查，该公司拖欠工资属实，已责令其于2026年10月20日前支付。"
    result = checks.check_draft(draft, title=TITLE, content=CONTENT).policy
    assert not result.passed and "政策" in result.note
    assert checks.check_policy("按照第十二条的要求").passed
    assert checks.check_policy("根据《信访工作条例》").passed


def test_time_expressions():
    for text in (
        "2026年10月8日",
        "10月8日",
        "15日内",
        "十个工作日内",
        "3个月内",
        "年底前",
        "2026-10-08",
    ):
        assert checks._TIME.search(text), text
    assert not checks._TIME.search("请您理解")


def test_the_deadline_check():
    assert checks.check_deadline(bj(2026, 11, 1), bj(2026, 10, 9)).passed
    late = checks.check_deadline(bj(2026, 11, 1), bj(2026, 11, 4, 12))
    assert not late.passed and "3 天" in late.note
    assert checks.check_deadline(None, bj(2026, 10, 9)) is None


def test_calibration_counts_each_check_and_the_wrong_pairing():
    rows = [
        {"title": TITLE, "content": CONTENT, "reply": GOOD},
        {"title": "幼儿园报名时间", "content": "想问公办幼儿园报名时间", "reply": "已收悉"},
    ]
    got = checks.calibrate(rows)
    assert got["replies"] == 2
    assert got["relevance"] == 0.5 and got["policy"] == 0.5 and got["all_three"] == 0.5
    assert got["relevance_on_wrong_message"] == 0.0
