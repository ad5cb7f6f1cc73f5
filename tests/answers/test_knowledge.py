"""The knowledge base: the starter loader, the office's replies entering it, similar replies."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.answers.conftest import STARTER, accepted, replied, write_starter
from tests.factories import petitioner
from xinfang.answers import selectors, services
from xinfang.answers.models import ReplyEntry, Source
from xinfang.cases.models import Kind

WAGES_REPLY = (
    "经查，某建筑公司拖欠您工资属实。区人社局已于2026年10月8日依据《保障农民工工资支付条例》"
    "第三十条责令其10个工作日内足额支付。"
)


def test_load_starter_is_idempotent(db, starter_csv):
    first = services.starter_load(starter_csv)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = services.starter_load(starter_csv)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert ReplyEntry.objects.filter(source=Source.STARTER).count() == 3
    changed = [list(r) for r in STARTER]
    changed[2][5] = "您好！该项目预计今年9月底完工通车。"
    write_starter(starter_csv, changed)
    third = services.starter_load(starter_csv)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert ReplyEntry.objects.get(external_id="3").reply.endswith("9月底完工通车。")


def test_starter_texts_are_masked_and_checked(db, starter_csv):
    services.starter_load(starter_csv)
    smoke = ReplyEntry.objects.get(external_id="1")
    assert "13912345678" not in smoke.message and "139****5678" in smoke.message
    assert smoke.relevant and smoke.outcome_time and smoke.policy
    road = ReplyEntry.objects.get(external_id="3")
    assert road.outcome_time and not road.policy
    assert road.asked_at.year == 2019 and road.replied_at.month == 5


def test_missing_file_gives_a_chinese_message(db, tmp_path, settings):
    settings.XINFANG_REPLIES_CSV = str(tmp_path / "none.csv")
    with pytest.raises(CommandError, match="不存在"):
        call_command("answers", "load-starter")
    settings.XINFANG_REPLIES_CSV = ""
    with pytest.raises(CommandError, match="未配置"):
        call_command("answers", "load-starter")
    assert not ReplyEntry.objects.exists()


def test_bad_files_give_a_chinese_message(db, tmp_path):
    wrong = write_starter(tmp_path / "wrong.csv", [["1", "x"]], header=["id", "name"])
    with pytest.raises(CommandError, match="缺少列：title、content、reply"):
        call_command("answers", "load-starter", "--csv", str(wrong))
    binary = tmp_path / "gbk.csv"
    binary.write_bytes("id,title,content,reply\n1,标题,内容,答复\n".encode("gbk"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("answers", "load-starter", "--csv", str(binary))
    assert not ReplyEntry.objects.exists()


def test_load_starter_command_reports_counts(db, starter_csv, capsys):
    call_command("answers", "load-starter")
    call_command("answers", "load-starter")
    out = capsys.readouterr().out
    assert "新增 3 条" in out and "未变 3 条" in out


def test_a_reply_enters_the_knowledge_base_masked(county, people):
    case = replied(
        county,
        people,
        text=WAGES_REPLY + "张三的电话13800138000已登记。",
        petitioner=petitioner(name="张三"),
        content="我叫张三，住A1区东湖街道1号，电话13800138000，某建筑公司拖欠工资三个月。",
    )
    entry = ReplyEntry.objects.get(case=case)
    assert entry.source == Source.OFFICE and entry.unit == county.hr
    assert entry.outcome == case.outcome and entry.on_time is True
    assert "张三" not in entry.message + entry.reply and "某某" in entry.message
    assert "13800138000" not in entry.message + entry.reply
    assert "东湖街道1号" not in entry.message
    assert entry.relevant and entry.outcome_time and entry.policy


def test_confidential_kinds_stay_out(county, people):
    replied(
        county,
        people,
        text=WAGES_REPLY,
        kind=Kind.ACCUSATION,
        accused_unit=county.housing,
        title="举报住建局工作人员",
    )
    assert not ReplyEntry.objects.exists()


def test_backfill_adds_replies_given_before_the_app(county, people):
    case = replied(county, people, text=WAGES_REPLY)
    ReplyEntry.objects.all().delete()  # as before the app existed
    assert services.backfill(batch=1) == 1
    assert services.backfill() == 1  # again: the same row, updated in place
    assert ReplyEntry.objects.get().case == case


def test_similar_replies_found_for_a_matter(county, people, starter_csv):
    services.starter_load(starter_csv)
    replied(county, people, text=WAGES_REPLY)
    new = accepted(county, people, title="建筑公司拖欠农民工工资", content="公司拖欠工资半年。")
    found = selectors.similar_replies(new)
    assert found and found[0].entry.source == Source.OFFICE
    assert "拖欠" in found[0].entry.reply
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"


def test_the_index_sees_new_and_changed_entries(county, people, starter_csv):
    new = accepted(county, people, title="建筑公司拖欠农民工工资", content="公司拖欠工资半年。")
    assert selectors.similar_replies(new) == []  # empty knowledge base
    services.starter_load(starter_csv)
    assert all(s.entry.case_id is None for s in selectors.similar_replies(new))
    replied(county, people, text=WAGES_REPLY)  # appended to the built index
    assert selectors.similar_replies(new)[0].entry.source == Source.OFFICE
    changed = [list(r) for r in STARTER]
    changed[0][2] = "建筑公司拖欠农民工工资"  # changed in place: the index is rebuilt
    write_starter(starter_csv, changed)
    services.starter_load(starter_csv)
    titles = [s.entry.title for s in selectors.similar_replies(new)]
    assert "建筑公司拖欠农民工工资" in titles


def test_a_matter_is_not_its_own_suggestion(county, people):
    case = replied(county, people, text=WAGES_REPLY)
    assert selectors.similar_replies(case) == []
