"""答复质量月报 as an Excel workbook (the page's twin, from the same selector)."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from xinfang.lib import xlsxcells

HEADER = ("答复单位", "答复件数", "切题率", "写明结果与时限率", "写明政策依据率", "按期答复率")
RATES = ("relevant_rate", "outcome_time_rate", "policy_rate", "on_time_rate")


def write_report(report: dict, stream: Any) -> None:  # a file or an HttpResponse
    book = Workbook(write_only=True)
    sheet = book.create_sheet(xlsxcells.sheet_title(f"{report['month']} 答复质量"))
    sheet.append(xlsxcells.safe_row(sheet, HEADER))
    for row in [*report["units"], report["total"]]:
        values = [row["unit"], row["replies"], *(row[k] for k in RATES)]
        sheet.append(xlsxcells.safe_row(sheet, values))
    book.save(stream)
