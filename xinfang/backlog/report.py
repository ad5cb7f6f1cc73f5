"""The Word progress report of one backlog case (积案化解工作进展报告), with python-docx."""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from xinfang.backlog.models import BacklogCase
from xinfang.backlog.privacy import redact_document, redactor_for
from xinfang.backlog.services import close_problems
from xinfang.orgs.models import User


def _font(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = "FangSong"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def _table(doc: Document, header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        doc.add_paragraph("（无）")
        return
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = str(text)


def _plan_due(p) -> str:
    return _d(p.due_on) + (f"（{p.due_note}）" if p.due_note else "")


def _action_text(a) -> str:
    note = f"，{a.due_note}" if a.due_note else ""
    return f"{a.description}（{a.owner}，{_d(a.due_on)}前{note}，{'已办结' if a.done_at else '未办结'}）"


def _d(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def write_report(backlog: BacklogCase, out: IO[bytes], *, viewer: User | None = None) -> None:
    """Write the report of `backlog` (the case, owner, plans, five steps, methods, status) as
    `viewer` may read it: "信访人（保密）" for a viewer who may not see the petitioner (and for
    no viewer at all: the safe default)."""
    case = backlog.case
    r = redactor_for(viewer, backlog)
    doc = Document()
    _font(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("信访积案化解工作进展报告")
    run.bold = True
    run.font.size = Pt(22)

    doc.add_heading("一、基本情况", level=2)
    members = "、".join(
        f"{m.user}（{m.get_role_display()}）" for m in backlog.members.select_related("user")
    )
    for label, value in [
        ("事项编号", case.number),
        ("事项标题", case.title),
        ("责任单位", backlog.unit.name),
        ("登记时间", _d(timezone.localtime(case.registered_at))),
        ("认定规则", backlog.get_flag_rule_display()),
        ("认定理由", backlog.flag_reason or "—"),
        ("认定时间", _d(timezone.localtime(backlog.flagged_at))),
        ("包案领导", str(backlog.owner) if backlog.owner else "未指定"),
        ("工作专班", members or "未组建"),
        ("当前状态", backlog.get_status_display()),
    ]:
        doc.add_paragraph(f"{label}：{value}")

    doc.add_heading("二、化解方案", level=2)
    _table(
        doc,
        ["版本", "主责单位", "次责/配合单位", "化解路径", "资金", "期限", "落实"],
        [
            [
                f"第{p.version}版",
                p.lead_unit.name,
                "、".join(u.name for u in [*p.secondary_units.all(), *p.supporting_units.all()])
                or "—",
                p.path,
                f"{p.funds_amount}元 {p.funds_source}".strip(),
                _plan_due(p),
                _d(p.executed_on),
            ]
            for p in backlog.plans.select_related("lead_unit")
            .prefetch_related("secondary_units", "supporting_units")
            .order_by("version")
        ],
    )

    doc.add_heading("三、“听议明定考”工作记录", level=2)
    _table(
        doc,
        ["日期", "环节", "参加人员", "情况"],
        [
            [
                _d(s.held_on),
                s.get_step_display(),
                "、".join(
                    [str(u) for u in s.attendees.all()]
                    + ([s.external_attendees] if s.external_attendees else [])
                ),
                " ".join(
                    filter(
                        None,
                        [
                            s.notes,
                            f"方案第{s.plan.version}版" if s.plan else "",
                            f"得分{s.score}" if s.score is not None else "",
                            s.get_grade_display(),
                            s.comment,
                        ],
                    )
                ),
            ]
            for s in backlog.steps.select_related("plan").prefetch_related("attendees")
        ],
    )

    doc.add_heading("四、化解措施", level=2)
    doc.add_paragraph("（一）协调会议")
    _table(
        doc,
        ["日期", "类型", "参会单位", "议定事项", "落实事项"],
        [
            [
                _d(m.held_on),
                m.get_kind_display(),
                "、".join(u.name for u in m.attendee_units.all()),
                m.decisions,
                "；".join(_action_text(a) for a in m.actions.all()) or "—",
            ]
            for m in backlog.meetings.prefetch_related("attendee_units", "actions__owner")
        ],
    )
    doc.add_paragraph("（二）帮扶救助")
    _table(
        doc,
        ["类型", "金额（元）", "资金来源", "审批", "发放日期"],
        [
            [
                a.get_kind_display(),
                str(a.amount),
                a.source,
                f"{a.approved_by} {_d(a.approved_on)}",
                _d(a.paid_on),
            ]
            for a in backlog.aids.all()
        ],
    )
    doc.add_paragraph("（三）律师引导调解")
    _table(
        doc,
        ["律师", "调解次数", "结果"],
        [
            [
                f"{m.law_firm} {m.lawyer_name}",
                str(len(m.sessions.all())),
                f"{m.get_outcome_display()} {m.outcome_note}",
            ]
            for m in backlog.mediations.prefetch_related("sessions")
        ],
    )
    doc.add_paragraph("（四）听证评议")
    _table(
        doc,
        ["日期", "地点", "参加人员", "评议意见", "结论"],
        [
            [
                _d(h.held_on),
                h.place,
                "、".join(
                    f"{p.get_kind_display()}{r.participant(p)}" for p in h.participants.all()
                ),
                h.findings,
                h.decision,
            ]
            for h in backlog.hearings.prefetch_related("participants")
        ],
    )
    doc.add_paragraph("（五）约谈")
    _table(
        doc,
        ["日期", "单位", "负责人", "事由", "整改承诺"],
        [
            [_d(s.held_on), s.unit.name, s.head_name, s.reason, s.commitments]
            for s in backlog.summonses.select_related("unit")
        ],
    )

    doc.add_heading("五、化解结果", level=2)
    if backlog.acceptance_on:
        doc.add_paragraph(
            f"息诉罢访：{_d(backlog.acceptance_on)}，佐证材料：{backlog.get_acceptance_kind_display()}。"
            f"{backlog.acceptance_note}"
        )
    problems = close_problems(backlog)
    if backlog.closed_at:
        doc.add_paragraph(f"已于{_d(timezone.localtime(backlog.closed_at))}化解销号。")
    elif problems:
        doc.add_paragraph("尚未销号：" + "；".join(problems) + "。")
    end = doc.add_paragraph(f"{settings.XINFANG_OFFICE_NAME}\n{_d(timezone.localdate())}")
    end.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    redact_document(doc, r)
    doc.save(out)
