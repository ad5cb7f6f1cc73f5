"""The assessment and the accountability record as .xlsx (reports.xlsx: styled header, frozen
panes, numbers as numbers, formula-like text as text) and as Word reports in the national
document layout (xinfang.lib.gbt9704, the layout the notices use)."""

from __future__ import annotations

from django.utils import timezone
from docx.enum.text import WD_ALIGN_PARAGRAPH

from xinfang.assessment import selectors
from xinfang.assessment.models import Assessment
from xinfang.cases.selectors import cn_date
from xinfang.lib import gbt9704
from xinfang.orgs.models import Unit, User
from xinfang.reports import xlsx
from xinfang.reports.selectors import Period

NO_DATA = "无数据"


def _num(value):
    return None if value is None else float(value)


def assessment_title(a: Assessment) -> str:
    return f"{a.scope_name}信访工作考核结果（{a.period_start:%Y年%m月%d日}至{a.period_end:%Y年%m月%d日}）"


def assessment_xlsx(out, user: User, a: Assessment) -> None:
    snap = a.scheme_snapshot
    header = ["名次", "单位", "总分", "指标得分", "扣分", "加分"]
    header += [f"{i['label']} 得分" for i in snap["indicators"]]
    header += [f"{i['label']} {k}" for i in snap["items"] for k in ("件数", "分值")]

    def row(line, open_):
        rank = line.rank if line.has_data else NO_DATA
        out_row = [rank, line.unit.name, _num(line.total)]
        if not open_:
            return out_row + [None] * (len(header) - 3)
        out_row += [_num(line.indicator_score), _num(line.deductions), _num(line.credits)]
        out_row += [i["score"] for i in line.breakdown.get("indicators", [])]
        for i in line.breakdown.get("items", []):
            out_row += [i["count"], i["amount"]]
        return out_row + [None] * (len(header) - len(out_row))

    title = f"{assessment_title(a)}（{a.get_status_display()}）"
    xlsx.write(
        out, title, header, (row(line, open_) for line, open_ in selectors.lines_for_user(user, a))
    )


def record_rows(entries):
    for item, _count, rows in entries:
        for r in rows:
            at = timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M")
            yield [
                item.label,
                "扣分" if not item.is_credit else "加分",
                r.case.number if r.case else "（无权查看）",
                r.case.title if r.case else "",
                at,
            ]


def record_xlsx(out, unit: Unit, period: Period, entries) -> None:
    title = f"{unit.name}责任追究台账 {period.start}至{period.end}"
    xlsx.write(
        out, title, ["事项类别", "扣分/加分", "事项编号", "标题", "时间"], record_rows(entries)
    )


def _date(a: Assessment):
    moment = a.published_at or a.reviewed_at or a.computed_at
    return timezone.localtime(moment).date()


def assessment_docx(user: User, a: Assessment) -> bytes:
    """考核结果通报: the ranking, then each unit's breakdown the reader may see."""
    snap = a.scheme_snapshot
    doc = gbt9704.new_document()
    title = assessment_title(a)
    gbt9704.title(doc, title)
    gbt9704.add(doc, "")
    status = "" if a.frozen else f"（{a.get_status_display()}，未发布）"
    gbt9704.add(
        doc,
        f"按照《{snap.get('name', a.scheme.name)}》，对{a.scope_name}所属单位"
        f"{a.period_start:%Y年%m月%d日}至{a.period_end:%Y年%m月%d日}的信访工作进行了考核{status}。"
        "考核按事项和单位统计，不涉及信访人个人。现将结果通报如下。",
        first_line=2,
    )
    lines = selectors.lines_for_user(user, a)
    gbt9704.heading(doc, "一、考核排名")
    gbt9704.table(
        doc,
        ["名次", "单位", "指标得分", "扣分", "加分", "总分"],
        [
            [
                line.rank if line.has_data else NO_DATA,
                line.unit.name,
                _num(line.indicator_score) if open_ else None,
                _num(line.deductions) if open_ else None,
                _num(line.credits) if open_ else None,
                _num(line.total) if line.has_data else NO_DATA,
            ]
            for line, open_ in lines
        ],
    )
    gbt9704.heading(doc, "二、各单位得分明细")
    n = 0
    for line, open_ in lines:
        if not open_ or not line.has_data:
            continue
        n += 1
        gbt9704.heading(doc, f"（{_cn_number(n)}）{line.unit.name}", level=2)
        rows = [
            [
                i["label"],
                f"{i['numerator']:g}/{i['denominator']}",
                i["score"] if i["score"] is not None else "不适用",
                i["weight"],
            ]
            for i in line.breakdown.get("indicators", [])
        ]
        rows += [
            [
                i["label"],
                f"{i['count']}件",
                (i["amount"] if i["sign"] == "credit" else -i["amount"]),
                "",
            ]
            for i in line.breakdown.get("items", [])
            if i["count"]
        ]
        gbt9704.table(doc, ["项目", "分子/分母或件数", "得分", "分值"], rows)
    gbt9704.add(doc, "")
    date = _date(a)
    gbt9704.signature(doc, a.scope_name, cn_date(date))
    return gbt9704.to_bytes(doc, title=title, subject="考核结果", author=a.scope_name, date=date)


def record_docx(unit: Unit, period: Period, entries) -> bytes:
    doc = gbt9704.new_document()
    title = f"{unit.name}责任追究台账"
    gbt9704.title(doc, title)
    gbt9704.add(
        doc,
        f"（{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}）",
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    gbt9704.add(doc, "")
    gbt9704.heading(doc, "一、汇总")
    gbt9704.table(
        doc,
        ["事项类别", "扣分/加分", "件数"],
        [[item.label, "加分" if item.is_credit else "扣分", count] for item, count, _ in entries],
    )
    gbt9704.heading(doc, "二、明细")
    rows = list(record_rows(entries))
    if rows:
        gbt9704.table(doc, ["事项类别", "扣分/加分", "事项编号", "标题", "时间"], rows)
    else:
        gbt9704.add(doc, "统计期内没有需要记录的事项。", first_line=2)
    today = timezone.localdate()
    return gbt9704.to_bytes(doc, title=title, subject="责任追究台账", author=unit.name, date=today)


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "") if n < 100 else str(n)
