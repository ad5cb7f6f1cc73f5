"""矛盾纠纷排查: screening rounds and their ledger of issues (never people), Excel in and out.

An entry is an issue: what it is, where, which units, the responsible leader, the plan, the
deadline, the status and how many households it affects. An entry may become a matter
(registered as a suggestion, 建议意见, which may be anonymous) and then a backlog case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from xinfang.backlog import permissions
from xinfang.backlog.models import BacklogCase, RuleKind, ScreeningEntry, ScreeningRound
from xinfang.cases import deadlines
from xinfang.cases import services as case_services
from xinfang.cases.models import Case, Channel, Kind
from xinfang.cases.selectors import work_calendar
from xinfang.lib import bounds
from xinfang.lib.masking import mask_personal_data
from xinfang.lib.uploads import IMPORT_ZIP, zip_problem
from xinfang.lib.xlsxcells import keep_text, safe_row, sheet_title
from xinfang.orgs.models import Place, Unit, User

EntryStatus = ScreeningEntry.EntryStatus
CONVERT_CHANNELS = (Channel.VISIT, Channel.ONLINE)

# Excel columns, in order. 矛盾纠纷问题 and 属地 are required on import. 条目编号 is the stable
# key an export writes and an import reads back: a row carrying the code of an entry of the same
# round updates that entry (keeping its link to the matter it became) instead of adding a copy.
CODE = "条目编号"
COLUMNS = [
    CODE,
    "矛盾纠纷问题",
    "属地",
    "具体地点",
    "涉及单位",
    "责任领导",
    "化解措施",
    "化解期限",
    "状态",
    "涉及户数",
    "转为信访事项",
]
TEMPLATE_COLUMNS = COLUMNS[:-1]
REQUIRED = ("矛盾纠纷问题", "属地")
MAX_ROWS = 5000
# The template's sample row carries this in 条目编号; an import skips such a row.
SAMPLE = "示例"
SAMPLE_MARK = "示例（导入时跳过，可删除本行）"
_CODE_RE = re.compile(r"^PC(\d+)-(\d+)$")


def entry_code(entry: ScreeningEntry) -> str:
    """The entry's stable key in Excel: PC<round>-<entry>."""
    return f"PC{entry.round_id}-{entry.pk}"


def _require_edit(user: User, round_: ScreeningRound) -> None:
    if not permissions.can_edit_round(user, round_):
        raise PermissionDenied("您无权编辑该排查台帐")


def round_create(
    *, by: User, name: str, period_start: dt.date, period_end: dt.date, office: Unit | None = None
) -> ScreeningRound:
    """Open a screening round for the user's office (or the office given)."""
    office = office or by.unit
    if office is None:
        raise ValidationError("请选择组织单位")
    round_ = ScreeningRound(
        name=(name or "").strip(),
        period_start=period_start,
        period_end=period_end,
        office=office,
        created_by=by,
    )
    _require_edit(by, round_)
    if not round_.name:
        raise ValidationError("请填写排查名称")
    if period_end < period_start:
        raise ValidationError("排查结束日期不能早于开始日期")
    round_.save()
    return round_


@dataclass
class EntryData:
    issue: str
    place: Place
    location: str = ""
    units: list[Unit] = field(default_factory=list)
    responsible: User | None = None
    plan: str = ""
    deadline: dt.date | None = None
    status: str = EntryStatus.PENDING
    households: int = 0


def _check_entry(data: EntryData) -> None:
    if not data.issue.strip():
        raise ValidationError("请填写矛盾纠纷问题")
    if data.status not in EntryStatus.values:
        raise ValidationError("状态应为待化解、化解中或已化解")
    if not bounds.HOUSEHOLDS.holds(data.households):
        raise ValidationError(bounds.HOUSEHOLDS.message)


def entry_create(*, round_: ScreeningRound, by: User, data: EntryData) -> ScreeningEntry:
    _require_edit(by, round_)
    _check_entry(data)
    with transaction.atomic():
        entry = _write(round_, data)
    return entry


def _write(
    round_: ScreeningRound, data: EntryData, *, entry: ScreeningEntry | None = None
) -> ScreeningEntry:
    """Create an entry, or update `entry` in place (its link to a converted matter is kept)."""
    deadline, note = data.deadline, ""
    if deadline is not None:  # a deadline on a rest day moves to the next working day, noted
        explicit = deadlines.explicit_last_day(deadline, work_calendar())
        deadline, note = explicit.day, explicit.note
    values = {
        "issue": mask_personal_data(data.issue.strip()),
        "place_id": data.place.pk,
        "location": mask_personal_data(data.location.strip()),
        "responsible": data.responsible,
        "plan": mask_personal_data(data.plan.strip()),
        "deadline": deadline,
        "deadline_note": note,
        "status": data.status,
        "households": data.households,
    }
    if entry is None:
        entry = ScreeningEntry.objects.create(round=round_, **values)
    else:
        for name, value in values.items():
            setattr(entry, name, value)
        entry.save(update_fields=[name.removesuffix("_id") for name in values])
    entry.units.set([u.pk for u in data.units])
    return entry


def entry_set_status(*, entry: ScreeningEntry, by: User, status: str) -> ScreeningEntry:
    _require_edit(by, entry.round)
    if status not in EntryStatus.values:
        raise ValidationError("状态应为待化解、化解中或已化解")
    entry.status = status
    entry.save(update_fields=["status"])
    return entry


def entry_to_case(*, entry: ScreeningEntry, by: User, channel: str) -> Case:
    """Register the issue as a matter: a suggestion (建议意见), anonymous, through the register."""
    _require_edit(by, entry.round)
    if entry.converted_case_id:
        raise ValidationError(f"该问题已转为信访事项 {entry.converted_case.number}")
    if channel not in CONVERT_CHANNELS:
        raise ValidationError("请确认来源渠道（来访或网上）")
    units = "、".join(u.name for u in entry.units.all())
    lines = [entry.issue.strip(), f"属地：{entry.place.name}{entry.location}"]
    if units:
        lines.append(f"涉及单位：{units}")
    if entry.households:
        lines.append(f"涉及户数：{entry.households}户")
    if entry.plan:
        lines.append(f"排查提出的化解措施：{entry.plan}")
    lines.append(f"来源：{entry.round.name}")
    with transaction.atomic():
        result = case_services.case_register(
            case_services.Registration(
                office=entry.round.office,
                channel=channel,
                kind=Kind.SUGGESTION,
                title=("排查问题：" + entry.issue.strip().replace("\n", " "))[:120],
                content="\n".join(lines),
                place=entry.place,
                petitioner=case_services.Petitioner(anonymous=True),
            ),
            by=by,
        )
        entry.converted_case = result.case
        if entry.status == EntryStatus.PENDING:
            entry.status = EntryStatus.IN_PROGRESS
        entry.save(update_fields=["converted_case", "status"])
    return result.case


def entry_to_backlog(*, entry: ScreeningEntry, by: User) -> BacklogCase:
    """The matter an entry became is made a backlog case (督查标记, with the round as reason)."""
    from xinfang.backlog import flagging

    if entry.converted_case_id is None:
        raise ValidationError("请先将该问题登记为信访事项，再认定为积案")
    return flagging.backlog_flag(
        case=entry.converted_case,
        by=by,
        rule=RuleKind.MANUAL,
        reason=f"矛盾纠纷排查转入：{entry.round.name}",
    )


# ---------------------------------------------------------------- Excel out


def export_entries(
    entries: Iterable[ScreeningEntry], out: IO[bytes], *, title: str = "排查台帐"
) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(title))
    ws.append(COLUMNS)
    for e in entries:
        ws.append(
            safe_row(
                ws,
                [
                    entry_code(e),
                    mask_personal_data(e.issue),  # rows saved before masking, too
                    e.place.name,
                    mask_personal_data(e.location),
                    "、".join(u.name for u in e.units.all()),
                    e.responsible.username if e.responsible else "",
                    mask_personal_data(e.plan),
                    e.deadline,
                    e.get_status_display(),
                    e.households,
                    e.converted_case.number if e.converted_case_id else "",
                ],
            )
        )  # an issue typed as "=..." stays text
    wb.save(out)


def _sample_names(user: User | None) -> tuple[str, str, str]:
    """A place, units and a leader that exist here, so the sample row is a row that imports."""
    unit = user.unit if user is not None and user.unit_id else None
    place = (
        unit.place if unit is not None and unit.place_id else Place.objects.order_by("id").first()
    )
    units = [unit.name] if unit is not None else []
    leader = user.username if user is not None and user.is_authenticated else ""
    return (place.name if place else ""), "、".join(units), leader


def template(out: IO[bytes], *, user: User | None = None, today: dt.date | None = None) -> None:
    """The blank ledger with one sample row. The sample names a place, unit and person that exist
    (the user's own unit and its place), and is marked 示例 in 条目编号: an import skips it, so a
    clerk who fills rows below it and imports the file gets only their own rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "排查台帐"
    ws.append(TEMPLATE_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    place, units, leader = _sample_names(user)
    deadline = (today or timezone.localdate()) + dt.timedelta(days=30)
    ws.append(
        [
            SAMPLE_MARK,
            "某小区加装电梯意见分歧，部分住户反对",
            place,
            "东湖小区3栋",
            units,
            leader,
            "组织协商，分户听取意见",
            deadline.isoformat(),
            EntryStatus.PENDING.label,
            24,
        ]
    )
    for cell in ws[2]:
        cell.font = Font(italic=True, color="808080")
    keep_text(ws[2])  # names come from the database
    ws.freeze_panes = "A2"
    wb.save(out)


# ---------------------------------------------------------------- Excel in (all or nothing)


class ImportFailed(ValidationError):
    """The file has rows that cannot be read; nothing was written. `.messages` names row and column."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError("日期格式应为 2027-01-20")
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:  # 2027-13-01, 2027-02-30: the calendar has no such day
        raise ValueError(f"“{text}”不是有效日期（没有这一天），请写成 2027-01-20") from None


class _Lookups:
    def __init__(self) -> None:
        self.places = {}
        for pk, code, name in Place.objects.values_list("id", "code", "name"):
            self.places.setdefault(name, pk)
            self.places[code] = pk
        self.units = {}
        for pk, code, name in Unit.objects.values_list("id", "code", "name"):
            self.units.setdefault(name, pk)
            self.units[code] = pk
        self.status = {s.label: s.value for s in EntryStatus} | {
            s.value: s.value for s in EntryStatus
        }

    @staticmethod
    def user(text: str) -> User:
        users = list(
            User.objects.filter(Q(username=text) | Q(display_name=text), is_active=True)[:2]
        )
        if len(users) != 1:
            raise ValueError(
                f"找不到工作人员“{text}”"
                if not users
                else f"“{text}”对应多名工作人员，请填写用户名"
            )
        return users[0]


def _row(values: dict[str, Any], lookups: _Lookups, add) -> EntryData | None:
    issue = mask_personal_data(_text(values.get("矛盾纠纷问题")))  # as stored, to match
    if not issue:
        add("矛盾纠纷问题", "不能为空")
    place_text = _text(values.get("属地"))
    place_id = lookups.places.get(place_text)
    if not place_text:
        add("属地", "不能为空")
    elif place_id is None:
        add("属地", f"找不到区划“{place_text}”（请填写区划名称或代码）")
    units = []
    for name in filter(None, re.split(r"[、,，;；\s]+", _text(values.get("涉及单位")))):
        if name in lookups.units:
            units.append(lookups.units[name])
        else:
            add("涉及单位", f"找不到单位“{name}”")
    responsible = None
    leader = _text(values.get("责任领导"))
    if leader:
        try:
            responsible = lookups.user(leader)
        except ValueError as exc:
            add("责任领导", str(exc))
    deadline = None
    try:
        deadline = _date(values.get("化解期限"))
    except ValueError as exc:
        add("化解期限", str(exc))
    status_text = _text(values.get("状态")) or EntryStatus.PENDING.label
    status = lookups.status.get(status_text)
    if status is None:
        add("状态", f"“{status_text}”不是有效状态（待化解、化解中、已化解）")
    households = 0
    raw = _text(values.get("涉及户数"))
    if raw:
        if not (raw.isascii() and raw.isdigit()):
            add("涉及户数", f"“{raw}”应为不小于零的整数")
        else:
            try:
                households = bounds.HOUSEHOLDS.parse(raw)
            except ValueError as exc:
                add("涉及户数", str(exc))
    if place_id is None or not issue or status is None:
        return None
    return EntryData(
        issue=issue,
        place=Place(pk=place_id),
        location=_text(values.get("具体地点")),
        units=[Unit(pk=u) for u in units],
        responsible=responsible,
        plan=_text(values.get("化解措施")),
        deadline=deadline,
        status=status,
        households=households,
    )


@dataclass(frozen=True)
class Imported:
    """What an import did: rows added, and entries of the round updated by their 条目编号."""

    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated

    def __str__(self) -> str:
        return (
            f"新增 {self.created} 条，更新 {self.updated} 条"
            if self.updated
            else f"已导入 {self.created} 条"
        )


def _existing(
    round_: ScreeningRound,
    code: str,
    entries: dict[int, ScreeningEntry],
    seen: dict[int, int],
    number: int,
    add,
) -> tuple[ScreeningEntry | None, bool]:
    """The entry of this round a row's 条目编号 names; (None, True) when the row is to be added."""
    match = _CODE_RE.match(code)
    if not match:
        add(CODE, f"“{code}”不是有效的条目编号（应为导出文件中的 PC12-345 形式，新增条目请留空）")
        return None, False
    round_id, entry_id = map(int, match.groups())
    if round_id != round_.pk:  # a row exported from another round: carried over as a new entry
        return None, True
    entry = entries.get(entry_id)
    if entry is None:
        add(CODE, f"本排查中没有条目“{code}”（可能已删除），新增条目请留空")
        return None, False
    if entry_id in seen:
        add(CODE, f"“{code}”与第{seen[entry_id]}行重复")
        return None, False
    seen[entry_id] = number
    return entry, True


def import_entries(*, round_: ScreeningRound, by: User, source: IO[bytes]) -> Imported:
    """Read an .xlsx ledger into the round. Every row is checked first; one bad row writes nothing.

    Importing an export again changes nothing: a row whose 条目编号 names an entry of this round
    updates it (status, plan, deadline...; the matter it became stays linked). A row without a
    code that repeats an entry of the round word for word (same issue and place) updates it too,
    so an older export without codes does not double the ledger. The sample row is skipped.
    """
    _require_edit(by, round_)
    bomb = zip_problem(source, IMPORT_ZIP) if source.seekable() else None
    if bomb:
        raise ImportFailed([bomb])
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise ImportFailed(["无法读取该文件，请上传 .xlsx 格式的排查台帐"]) from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFailed([f"第1行（表头）缺少列：{'、'.join(missing)}"])
    index = {name: header.index(name) for name in COLUMNS if name in header}
    errors: list[str] = []
    parsed: list[tuple[EntryData, ScreeningEntry | None]] = []
    lookups = _Lookups()
    entries = {e.pk: e for e in round_.entries.all()}
    by_text: dict[tuple[str, int], list[ScreeningEntry]] = {}
    for e in entries.values():
        by_text.setdefault((e.issue.strip(), e.place_id), []).append(e)
    seen: dict[int, int] = {}
    for number, raw in enumerate(rows, start=2):
        if not any(_text(v) for v in raw):
            continue
        if len(parsed) + len(errors) >= MAX_ROWS:
            errors.append(f"一次最多导入{MAX_ROWS}行")
            break
        values = {name: raw[i] if i < len(raw) else None for name, i in index.items()}
        code = _text(values.get(CODE))
        if code.startswith(SAMPLE):
            continue

        def add(column: str, message: str, number=number) -> None:
            errors.append(f"第{number}行“{column}”列：{message}")

        entry, ok = _existing(round_, code, entries, seen, number, add) if code else (None, True)
        data = _row(values, lookups, add)
        if data is None or not ok:
            continue
        if entry is None and not code:
            same = [e for e in by_text.get((data.issue, data.place.pk), []) if e.pk not in seen]
            if len(same) == 1:
                entry = same[0]
                seen[entry.pk] = number
        parsed.append((data, entry))
    wb.close()
    if errors:
        raise ImportFailed(errors)
    if not parsed:
        raise ImportFailed(["文件中没有数据行（模板中的示例行不会导入，请在其下方填写）"])
    with transaction.atomic():
        for data, entry in parsed:
            _write(round_, data, entry=entry)
    updated = sum(1 for _data, entry in parsed if entry is not None)
    return Imported(created=len(parsed) - updated, updated=updated)
