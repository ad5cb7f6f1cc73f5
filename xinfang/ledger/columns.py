"""The ledger's columns (台帐列), its whole-file messages, the result of an import, and the
import template (导入模板) with drop-down lists for the choice columns."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from xinfang.cases.models import Channel, ImportJob, Kind

# ------------------------------------------------------------------ the columns

COL_TIME, COL_CHANNEL, COL_KIND = "登记时间", "来源渠道", "事项类型"
COL_TITLE, COL_CONTENT, COL_PLACE, COL_CATEGORY = "标题", "诉求内容", "问题属地", "事项分类"
COL_NAME, COL_ID, COL_PHONE, COL_ADDRESS = "信访人姓名", "身份证号", "联系电话", "住址"
COL_ANON, COL_GROUP, COL_UNIT, COL_PERSON = "是否匿名", "来访人数", "被反映单位", "被反映人"

COLUMNS = [
    COL_TIME,
    COL_CHANNEL,
    COL_KIND,
    COL_TITLE,
    COL_CONTENT,
    COL_PLACE,
    COL_CATEGORY,
    COL_NAME,
    COL_ID,
    COL_PHONE,
    COL_ADDRESS,
    COL_ANON,
    COL_GROUP,
    COL_UNIT,
    COL_PERSON,
]
REQUIRED_COLUMNS = [COL_TIME, COL_CHANNEL, COL_KIND, COL_TITLE, COL_CONTENT, COL_PLACE]

# bulk.validate's field names → the column that holds them
FIELD_COLUMNS = {
    "kind": COL_KIND,
    "channel": COL_CHANNEL,
    "title": COL_TITLE,
    "content": COL_CONTENT,
    "registered_at": COL_TIME,
    "anonymous": COL_ANON,
    "petitioner_name": COL_NAME,
    "petitioner_id_number": COL_ID,
    "petitioner_phone": COL_PHONE,
    "group_size": COL_GROUP,
    "accused_unit": COL_UNIT,
}
MAX_LENGTHS = {COL_NAME: 40, COL_ADDRESS: 200, COL_PERSON: 60}
YES = frozenset({"是", "y", "yes", "true", "1", "匿名"})
NO = frozenset({"否", "n", "no", "false", "0", ""})

CHANNELS = {label: value for value, label in Channel.choices} | {v: v for v in Channel.values}
KINDS = {label: value for value, label in Kind.choices} | {v: v for v in Kind.values}

NOT_XLSX = "文件无法读取：不是有效的Excel（.xlsx）文件，或文件已损坏。请在Excel中“另存为”.xlsx格式后重新导入"
OLD_XLS = "不支持旧版Excel（.xls）文件，请在Excel中“另存为”.xlsx格式后重新导入"
EMPTY = "文件中没有数据：第1行应为表头（登记时间、来源渠道、事项类型……），从第2行起每行一件事项"
NO_ROWS = "文件中只有表头，没有可导入的事项"


class LedgerError(Exception):
    """The file as a whole cannot be imported (not an xlsx, corrupt, empty, missing columns)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LedgerIssue:
    """One problem: a cell (row as Excel numbers it, column header) or the whole file."""

    message: str
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return (
            f"第{self.row}行 {self.column}：{self.message}"
            if self.column
            else f"第{self.row}行：{self.message}"
        )


@dataclass
class ImportResult:
    """What an import did. `ok` is False when nothing (more) was written because of `errors`."""

    ok: bool
    errors: list[LedgerIssue] = field(default_factory=list)
    error_count: int = 0
    total_rows: int = 0
    created: int = 0
    resumed_from: int = 0
    job: ImportJob | None = None

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors]


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# ------------------------------------------------------------------ the template

SAMPLE_ROW = [
    "2026-03-01 09:30",
    "来访",
    "申诉求决",
    "某公司拖欠工资三个月",
    "本人在某建筑公司务工，公司拖欠工资三个月未发，请求帮助追讨。",
    "东湖街道",
    "劳动和社会保障/拖欠工资",
    "张三",
    "11010519491231002X",
    "13812345678",
    "A1区东湖街道1号",
    "否",
    1,
    "",
    "",
]
WIDTHS = {
    COL_TIME: 18,
    COL_TITLE: 28,
    COL_CONTENT: 50,
    COL_PLACE: 14,
    COL_CATEGORY: 22,
    COL_ID: 21,
    COL_PHONE: 15,
    COL_ADDRESS: 28,
    COL_UNIT: 20,
}


def ledger_template() -> bytes:
    """导入模板: the header, one sample row, and drop-down lists for the choice columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "台帐"
    ws.append(COLUMNS)
    ws.append(SAMPLE_ROW)
    bold = Font(bold=True)
    for index, name in enumerate(COLUMNS):
        letter = _letter(index)
        ws[f"{letter}1"].font = bold
        ws.column_dimensions[letter].width = WIDTHS.get(name, 12)
    ws.freeze_panes = "A2"
    for name, labels in (
        (COL_CHANNEL, Channel.labels),
        (COL_KIND, Kind.labels),
        (COL_ANON, ["是", "否"]),
    ):
        letter = _letter(COLUMNS.index(name))
        rule = DataValidation(
            type="list",
            formula1='"' + ",".join(labels) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="输入有误",
            error=f"请从下拉列表中选择{name}",
        )
        rule.add(f"{letter}2:{letter}10000")
        ws.add_data_validation(rule)
    for name in (COL_ID, COL_PHONE):  # keep long digit strings as text
        ws[f"{_letter(COLUMNS.index(name))}2"].number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
