"""Official notices (信访文书) as .docx in the GB/T 9704-2012 layout, drawn from the timeline."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import zipfile

import pytest
from docx import Document
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tests.factories import VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import notices, services
from xinfang.cases.models import Channel, Kind, Outcome

TOLERANCE = Mm(0.5)


# ---------------------------------------------------------------- helpers


def _open(data: bytes):
    return Document(io.BytesIO(data))


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def _all_xml(data: bytes) -> str:
    """Every part of the package, so nothing can hide in a footer or the properties."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(
            z.read(name).decode("utf-8", "replace")
            for name in z.namelist()
            if name.endswith(".xml")
        )


def _near(actual, expected) -> bool:
    return abs(actual - expected) <= TOLERANCE


def _assert_layout(data: bytes, title: str) -> None:
    """A4, the four GB/T 9704 margins, 2号 title, 3号仿宋 body on a 22-line grid."""
    doc = _open(data)
    section = doc.sections[0]
    assert _near(section.page_width, Mm(210)) and _near(section.page_height, Mm(297))
    assert _near(section.top_margin, Mm(37))
    assert _near(section.bottom_margin, Mm(35))
    assert _near(section.left_margin, Mm(28))
    assert _near(section.right_margin, Mm(26))
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"
    # 28 characters a line: 16 pt characters condensed so that 28 fit the 156 mm line.
    condense = (
        doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    )
    spacing_pt = int(condense.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert 28 * (16 + spacing_pt) <= 442.3 < 29 * (16 + spacing_pt)
    # 22 lines in the 225 mm type area.
    assert int(grid.get(qn("w:linePitch"))) * 22 <= Mm(225).twips

    heading = doc.paragraphs[0]
    assert heading.text == "信访事项" + title
    assert heading.alignment == 1  # centred
    assert {r.font.size for r in heading.runs} == {Pt(22)}
    assert "小标宋" in heading.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia"))

    body_runs = [r for p in doc.paragraphs[1:] for r in p.runs]
    assert body_runs
    for run in body_runs:
        assert run.font.size == Pt(16)
        east_asia = run._r.rPr.rFonts.get(qn("w:eastAsia"))
        assert "仿宋" in east_asia or "FangSong" in east_asia
    for paragraph in doc.paragraphs:
        assert paragraph.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
        assert abs(paragraph.paragraph_format.line_spacing.pt - 28.95) < 0.1
    # Body paragraphs open with a two-character indent.
    indented = [p for p in doc.paragraphs if p.paragraph_format.first_line_indent]
    assert indented and all(p.paragraph_format.first_line_indent == Pt(32) for p in indented)


def _estimated_lines(doc) -> int:
    """Lines the body takes on the 28-character grid (half-width characters count one half)."""
    total = 0
    for paragraph in doc.paragraphs:
        fmt = paragraph.paragraph_format
        indent = (fmt.first_line_indent or 0) / Pt(16)
        width = indent + sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in paragraph.text)
        if paragraph.runs and paragraph.runs[0].font.size == Pt(22):
            width *= 22 / 16
        total += max(1, math.ceil(width / 28))
    return total


def _page_footer_ok(data: bytes) -> None:
    xml = _all_xml(data)
    assert xml.count(" PAGE ") == 2  # odd and even footers
    assert "— " in xml and " —" in xml
    assert "evenAndOddHeaders" in xml


def _rendered(case, slug: str, title: str):
    """The notice in the GB/T 9704 layout: (the file, the document, its text)."""
    data = notices.render_notice(case, slug, viewer=notices.PETITIONER)
    _assert_layout(data, title)
    doc = _open(data)
    return data, doc, _text(doc)


def _assert_signed(doc, issuer: str, date: str) -> None:
    assert doc.paragraphs[-2].text == issuer
    assert doc.paragraphs[-1].text == date


def _accepted(county, people):
    """Registered 16 September 2026, routed to the labour bureau, accepted on 9 October."""
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
    return services.case_accept(case=case, by=people.officer, at=bj(2026, 10, 9, 9))


def _walk_to_reply(
    county,
    people,
    *,
    text: str = "经查，某建筑公司确实拖欠你工资2万元，已责成其足额支付。",
    outcome: str = Outcome.SUPPORTED,
):
    return services.case_reply(
        case=_accepted(county, people),
        by=people.officer,
        outcome=outcome,
        text=text,
        at=bj(2026, 11, 1, 9),
    )


def _appeal_refused(case, people, step: str, *, reason: str, text: str, asked, decided):
    """Ask for a 复查 (`step` "review") or 复核 ("rereview"), and have it decided: not supported."""
    by = people.reviewer if step == "review" else people.rereviewer
    request, decide = (getattr(services, f"case_{verb}_{step}") for verb in ("request", "decide"))
    case = request(case=case, by=people.clerk, reason=reason, at=asked)
    return decide(case=case, by=by, outcome=Outcome.NOT_SUPPORTED, text=text, at=decided)


def _final_matter(county, people):
    """A matter replied in March 2026 whose review window closed unused (final by 20 April).

    Registration may not lie in the future, so matters that follow it are registered in May.
    """
    case = register(county, people.clerk, bj(2026, 3, 2, 10))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 3, 3, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 3, 4, 9))
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.NOT_SUPPORTED,
        text="经查，你反映的欠薪已于2025年结清。",
        at=bj(2026, 3, 10, 9),
    )
    return case


# ---------------------------------------------------------------- the whole life of one matter


def test_each_stage_makes_exactly_its_notices_available(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    assert notices.available_notices(case) == []
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
    assert notices.available_notices(case) == []
    with pytest.raises(ValueError, match="尚未受理"):
        notices.render_notice(case, "accept", viewer=notices.PETITIONER)

    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 10, 9, 9))
    assert notices.available_notices(case) == ["accept"]
    case = services.case_extend(
        case=case,
        by=people.head,
        days=30,
        reason="需委托审计机构核算欠薪金额",
        at=bj(2026, 11, 20, 9),
    )
    assert notices.available_notices(case) == ["accept", "extend"]
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="已责成支付。",
        at=bj(2026, 12, 1, 9),
    )
    assert notices.available_notices(case) == ["accept", "extend", "reply"]
    case = services.case_request_review(
        case=case, by=people.clerk, reason="金额不对", at=bj(2026, 12, 3, 9)
    )
    assert notices.available_notices(case) == ["accept", "extend", "reply"]
    case = services.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.NOT_SUPPORTED,
        text="原处理意见认定事实清楚。",
        at=bj(2026, 12, 10, 9),
    )
    assert notices.available_notices(case) == ["accept", "extend", "reply", "review"]
    case = _appeal_refused(
        case,
        people,
        "rereview",
        reason="仍不服",
        text="复查意见正确，予以维持。",
        asked=bj(2026, 12, 12, 9),
        decided=bj(2026, 12, 20, 9),
    )
    assert notices.available_notices(case) == ["accept", "extend", "reply", "review", "rereview"]
    for slug in ("decline", "not_accept_again"):
        with pytest.raises(ValueError, match=case.number):
            notices.render_notice(case, slug, viewer=notices.PETITIONER)


def test_acceptance_notice(county, people):
    case = _accepted(county, people)
    data, doc, text = _rendered(case, "accept", "受理告知书")
    _page_footer_ok(data)
    assert doc.paragraphs[1].text == f"A1信受告〔2026〕{case.seq}号"
    assert "张三：" in text
    assert case.number in text
    assert "2026年9月16日" in text and "2026年10月9日" in text
    # 60 days from acceptance on 9 October end on 8 December.
    assert "60日内办结" in text and "2026年12月8日" in text
    assert "《信访工作条例》第二十三条" in text
    # Issued by the lead unit, dated the day of acceptance, right-aligned at the end.
    _assert_signed(doc, "A1区人力资源和社会保障局", "2026年10月9日")
    assert doc.paragraphs[-1].alignment == 2 and doc.paragraphs[-2].alignment == 2
    xml = _all_xml(data)
    assert VALID_ID not in xml and VALID_PHONE not in xml
    assert notices.notice_filename(case, "accept") == f"{case.number}-受理告知书.docx"
    # 22 lines a page: the acceptance notice fits on one, with two lines to spare for line breaking.
    assert _estimated_lines(doc) <= 20


def test_extension_notice_states_days_reason_and_both_due_dates(county, people):
    case = services.case_extend(
        case=_accepted(county, people),
        by=people.head,
        days=30,
        reason="需委托审计机构核算欠薪金额",
        at=bj(2026, 11, 20, 9),
    )
    _data, _doc, text = _rendered(case, "extend", "延期告知书")
    assert "延长30日" in text
    assert "因需委托审计机构核算欠薪金额" in text
    assert "由2026年12月8日延长至2027年1月7日" in text
    assert "2026年11月20日" in text and case.number in text
    assert f"A1信延告〔2026〕{case.seq}号" in text


def test_reply_notice_names_outcome_and_review_organ_and_masks_personal_data(county, people):
    case = _walk_to_reply(
        county,
        people,
        text=f"经查，公司拖欠你工资2万元。\n如有疑问请联系（信访人身份证{VALID_ID}，电话{VALID_PHONE}）",
    )
    data, _doc, text = _rendered(case, "reply", "处理意见书")
    assert "经查，公司拖欠你工资2万元。" in text
    assert "对你的信访请求予以支持" in text
    assert "自收到本意见书之日起30日内向A1区人民政府请求复查" in text
    assert "《信访工作条例》第三十五条" in text
    xml = _all_xml(data)
    assert VALID_ID not in xml and VALID_PHONE not in xml
    assert "138****5678" in text


@pytest.mark.parametrize(
    ("outcome", "phrase"),
    [
        (Outcome.SUPPORTED, "予以支持"),
        (Outcome.EXPLAINED, "解释说明"),
        (Outcome.NOT_SUPPORTED, "不予支持"),
    ],
)
def test_reply_outcome_wording(county, people, outcome, phrase):
    case = _walk_to_reply(county, people, text="经调查核实。", outcome=outcome)
    assert phrase in _text(_open(notices.render_notice(case, "reply", viewer=notices.PETITIONER)))


def test_review_and_rereview_notices(county, people):
    case = _appeal_refused(
        _walk_to_reply(county, people),
        people,
        "review",
        reason="金额不对",
        text="原处理意见认定事实清楚，处理适当。",
        asked=bj(2026, 11, 3, 9),
        decided=bj(2026, 11, 10, 9),
    )
    _data, doc, text = _rendered(case, "review", "复查意见书")
    assert f"A1信复查〔2026〕{case.seq}号" in text
    assert f"A1信处〔2026〕{case.seq}号" in text  # the decision under review
    assert "2026年11月3日向本机关请求复查" in text
    assert "对你的复查请求不予支持" in text
    assert "自收到本意见书之日起30日内向A市人民政府请求复核" in text
    assert "《信访工作条例》第三十五条" in text
    _assert_signed(doc, "A1区人民政府", "2026年11月10日")

    case = _appeal_refused(
        case,
        people,
        "rereview",
        reason="仍不服",
        text="复查意见正确，予以维持。",
        asked=bj(2026, 11, 12, 9),
        decided=bj(2026, 11, 20, 9),
    )
    data, doc, text = _rendered(case, "rereview", "复核意见书")
    assert f"A信复核〔2026〕{case.seq}号" in text
    assert "对你的复核请求不予支持" in text
    assert "终结意见" in text
    assert "仍然以同一事实和理由提出投诉请求的" in text and "不再受理" in text
    _assert_signed(doc, "A市人民政府", "2026年11月20日")
    assert VALID_ID not in _all_xml(data)


# ---------------------------------------------------------------- refusals


def test_decline_notice_names_the_proper_channel(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 18, 9))
    case = services.case_decline(
        case=case,
        by=people.officer,
        reason="该事项属于劳动争议，应当通过劳动仲裁程序解决",
        proper_channel="向A1区劳动人事争议仲裁委员会申请劳动仲裁",
        at=bj(2026, 9, 25, 9),
    )
    assert notices.available_notices(case) == ["decline"]
    _data, doc, text = _rendered(case, "decline", "不予受理告知书")
    assert "向A1区劳动人事争议仲裁委员会申请劳动仲裁" in text
    assert "该事项属于劳动争议，应当通过劳动仲裁程序解决" in text
    assert "不予受理" in text and case.number in text and "张三：" in text
    _assert_signed(doc, "A1区人力资源和社会保障局", "2026年9月25日")
    with pytest.raises(ValueError, match="尚未受理"):
        notices.render_notice(case, "accept", viewer=notices.PETITIONER)


def test_decline_by_the_office_before_routing_is_issued_by_the_office(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    case = services.case_decline(
        case=case,
        by=people.clerk,
        reason="该事项已进入诉讼程序",
        proper_channel="依法向人民法院提出",
        at=bj(2026, 9, 17, 9),
    )
    doc = _open(notices.render_notice(case, "decline", viewer=notices.PETITIONER))
    assert doc.paragraphs[-2].text == "A1区信访局"
    assert doc.paragraphs[1].text == f"A1信不受告〔2026〕{case.seq}号"


def test_not_accepted_again_notice_for_a_new_matter_on_a_final_one(county, people, settings):
    settings.XINFANG_OFFICE_NAME = "A1区信访局"
    prior = services.case_finalize(case=_final_matter(county, people), at=bj(2026, 4, 20, 9))
    case = register(county, people.clerk, bj(2026, 5, 6, 10), channel=Channel.LETTER)
    case = services.case_not_accept_again(
        case=case, by=people.clerk, prior=prior, reason="未提出新的事实和理由", at=bj(2026, 5, 7, 9)
    )
    assert notices.available_notices(case) == ["not_accept_again"]
    _data, doc, text = _rendered(case, "not_accept_again", "不再受理告知书")
    assert case.number in text and prior.number in text
    assert "以来信形式" in text and "同一事实和理由" in text and "不再受理" in text
    assert "未提出新的事实和理由" in text
    _assert_signed(doc, "A1区信访局", "2026年5月7日")
    assert doc.paragraphs[1].text == f"A1信不再受告〔2026〕{case.seq}号"


def test_repeat_submission_on_a_closed_matter_gets_a_not_accepted_again_notice(county, people):
    case = _final_matter(county, people)
    # A repeat while the matter is still open is linked, not refused.
    services.case_register(
        services.Registration(
            office=county.office,
            channel=Channel.VISIT,
            kind=Kind.APPEAL,
            title="再次反映欠薪",
            content="还是欠薪",
            place=county.place,
            petitioner=petitioner(),
            repeat_of=case,
        ),
        by=people.clerk,
        at=bj(2026, 3, 20, 9),
    )
    assert notices.available_notices(case) == ["accept", "reply"]
    case = services.case_finalize(case=case, at=bj(2026, 4, 20, 9))
    result = services.case_register(
        services.Registration(
            office=county.office,
            channel=Channel.PHONE,
            kind=Kind.APPEAL,
            title="再次反映欠薪",
            content="还是欠薪",
            place=county.place,
            petitioner=petitioner(),
            repeat_of=case,
        ),
        by=people.clerk,
        at=bj(2026, 5, 8, 9),
    )
    assert result.notice == "not_accepted_again"
    case.refresh_from_db()
    assert notices.available_notices(case) == ["accept", "not_accept_again", "reply"]
    data = notices.render_notice(case, "not_accept_again", viewer=notices.PETITIONER)
    text = _text(_open(data))
    assert "2026年5月8日以来电形式再次提出" in text
    assert case.number in text and "不再受理" in text


# ---------------------------------------------------------------- details


def test_anonymous_petitioner_is_addressed_as_xinfangren(county, people):
    case = register(
        county,
        people.clerk,
        bj(2026, 9, 16, 10),
        kind=Kind.SUGGESTION,
        petitioner=petitioner(name="", anonymous=True, phone="", id_number=""),
    )
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 9, 18, 9))
    doc = _open(notices.render_notice(case, "accept", viewer=notices.PETITIONER))
    assert doc.paragraphs[3].text == "信访人："
    assert "张三" not in _text(doc)


def test_issuer_name_overrides_the_signature(county, people):
    case = _walk_to_reply(county, people)
    doc = _open(
        notices.render_notice(
            case, "reply", issuer_name="A1区人力资源和社会保障局（印）", viewer=notices.PETITIONER
        )
    )
    assert doc.paragraphs[-2].text == "A1区人力资源和社会保障局（印）"


def test_unknown_notice_is_a_value_error(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    with pytest.raises(ValueError, match="未知的文书类型"):
        notices.render_notice(case, "summons", viewer=notices.PETITIONER)


def test_notice_kinds_table():
    assert set(notices.NOTICE_KINDS) == {
        "accept",
        "decline",
        "not_accept_again",
        "extend",
        "reply",
        "review",
        "rereview",
    }
    assert notices.NOTICE_KINDS["reply"] == ("处理意见书", "case.replied")


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) 未安装：跳过 .docx → PDF 分页检查",
)
def test_acceptance_notice_is_one_page_as_pdf(county, people, tmp_path):
    source = tmp_path / "notice.docx"
    source.write_bytes(
        notices.render_notice(_accepted(county, people), "accept", viewer=notices.PETITIONER)
    )
    subprocess.run(  # noqa: S603 - our own file through LibreOffice
        [
            shutil.which("soffice"),
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = (tmp_path / "notice.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
