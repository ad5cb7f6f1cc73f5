"""处理结果报告: one matter's facts, timeline, reply, rating and review on paper, in the notices'
layout; the complainant hidden from a viewer in the accused unit; only for those who may see it."""

from __future__ import annotations

import io
import zipfile

from docx import Document
from docx.shared import Mm

from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import outcome_report
from xinfang.cases import services as s
from xinfang.cases.models import Kind, Outcome, Rating


def _doc_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _all_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
        )


def _handled(county, people, **kw):
    case = register(county, people.clerk, bj(2026, 3, 2, 9), **kw)
    s.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 3, 2, 10))
    s.case_accept(case=case, by=people.officer, at=bj(2026, 3, 3, 10))
    s.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.NOT_SUPPORTED,
        text=f"经调查，公司已结清工资。联系电话{VALID_PHONE}。",
        at=bj(2026, 3, 20, 10),
    )
    s.case_rate(case=case, by=people.clerk, rating=Rating.UNSATISFIED, at=bj(2026, 3, 21, 10))
    s.case_request_review(case=case, by=people.clerk, reason="不服", at=bj(2026, 3, 22, 10))
    s.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.SUPPORTED,
        text="撤销原处理意见，予以支持。",
        at=bj(2026, 4, 10, 10),
    )
    return case


def test_the_report_holds_the_handling(county, people):
    case = _handled(county, people)
    case.refresh_from_db()
    data = outcome_report.render(case, viewer=people.officer)
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert abs(section.top_margin - Mm(37)) < Mm(0.5) and abs(section.left_margin - Mm(28)) < Mm(
        0.5
    )
    text = _doc_text(data)
    assert "信访事项处理结果报告" in text and case.number in text
    assert "信访人：张三" in text
    for step in ("登记", "转送/交办", "受理", "答复", "评价", "申请复查", "复查决定"):
        assert step in text
    assert "处理结果：不予支持" in text and "公司已结清工资" in text
    assert "信访人评价：不满意" in text
    assert "作出复查意见：支持" in text and "撤销原处理意见" in text
    xml = _all_xml(data)
    assert VALID_PHONE not in xml and VALID_ID not in xml  # masked even inside the reply text


def test_a_matter_not_yet_answered(county, people):
    case = register(county, people.clerk, bj(2026, 3, 2, 9))
    text = _doc_text(outcome_report.render(case, viewer=people.clerk))
    assert "尚未答复" in text and "尚未评价" in text and "未申请复查" in text


def test_the_accused_unit_never_sees_the_complainant(county, people):
    # a report against the district government, at the office: its supervisor sees the matter
    report = register(
        county,
        people.clerk,
        bj(2026, 3, 2, 9),
        kind=Kind.ACCUSATION,
        title="举报区政府",
        accused_unit=county.county,
        petitioner=petitioner(name="钱密告", phone="13955556666"),
    )
    report.refresh_from_db()
    hidden = _all_xml(outcome_report.render(report, viewer=people.supervisor))
    assert (
        "钱密告" not in hidden
        and "13955556666" not in hidden
        and "信访人：（保密）" in _doc_text(outcome_report.render(report, viewer=people.supervisor))
    )
    assert "信访人：钱密告" in _doc_text(outcome_report.render(report, viewer=people.admin))


def test_the_download_is_for_those_who_may_see_the_matter(client, county, people):
    case = _handled(county, people)
    client.login(username="officer", password=PASSWORD)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/outcome-report.docx" in page
    response = client.get(f"/cases/{case.pk}/outcome-report.docx")
    assert response.status_code == 200 and "处理结果报告" in _doc_text(response.content)
    assert "attachment" in response["Content-Disposition"]
    client.logout()
    client.login(username="outsider", password=PASSWORD)  # 教育局: not its matter
    assert client.get(f"/cases/{case.pk}/outcome-report.docx").status_code == 404
    assert client.get("/cases/99999999/outcome-report.docx").status_code == 404
