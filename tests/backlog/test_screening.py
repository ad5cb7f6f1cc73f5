"""矛盾纠纷排查: issues (never people), Excel in and out, entry → matter → backlog case."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from tests.factories import PASSWORD
from xinfang.backlog import screening
from xinfang.backlog.models import BacklogCase, RuleKind, ScreeningEntry, ScreeningRound
from xinfang.cases.models import Case, Channel, Kind


@pytest.fixture
def round_(county, people):
    return screening.round_create(
        by=people.clerk,
        name="2027年春节前矛盾纠纷排查",
        period_start=dt.date(2027, 1, 4),
        period_end=dt.date(2027, 1, 29),
    )


def _entry(round_, people, county, **kw):
    data = screening.EntryData(
        issue="某小区加装电梯意见分歧",
        place=county.town_place,
        location="东湖小区3栋",
        units=[county.housing, county.town],
        responsible=people.supervisor,
        plan="组织协商",
        deadline=dt.date(2027, 1, 20),
        households=24,
    )
    for k, v in kw.items():
        setattr(data, k, v)
    return screening.entry_create(round_=round_, by=people.clerk, data=data)


def test_entries_are_issues_never_people():
    names = {f.name for f in ScreeningEntry._meta.get_fields()}
    assert names == {
        "id",
        "round",
        "issue",
        "place",
        "location",
        "units",
        "responsible",
        "plan",
        "deadline",
        "deadline_note",
        "status",
        "households",
        "converted_case",
    }
    assert not any(
        word in " ".join(names) for word in ("risk", "key_person", "petitioner", "id_number")
    )


def _xlsx(rows, header=None) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(header or screening.COLUMNS[1:-1])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_excel_round_trip(round_, county, people):
    _entry(round_, people, county)
    out = io.BytesIO()
    screening.export_entries(round_.entries.all(), out)
    out.seek(0)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == tuple(screening.COLUMNS)
    assert rows[1][0] == screening.entry_code(round_.entries.get())
    assert rows[1][1:6] == (
        "某小区加装电梯意见分歧",
        "东湖街道",
        "东湖小区3栋",
        "A1区住房和城乡建设局、东湖街道办事处",
        "supervisor",
    )
    other = screening.round_create(
        by=people.clerk,
        name="2027年五一前排查",
        period_start=dt.date(2027, 4, 1),
        period_end=dt.date(2027, 4, 28),
    )
    out.seek(0)
    assert screening.import_entries(round_=other, by=people.clerk, source=out).created == 1
    copy = other.entries.get()
    original = round_.entries.get()
    for field in (
        "issue",
        "place",
        "location",
        "responsible",
        "plan",
        "deadline",
        "status",
        "households",
    ):
        assert getattr(copy, field) == getattr(original, field), field
    assert set(copy.units.all()) == {county.housing, county.town}


def test_bad_rows_are_named_and_nothing_is_written(round_, people):
    source = _xlsx(
        [
            ["道路积水", "东湖街道", "", "", "", "", "2027-02-01", "待化解", 5],
            ["", "火星", "", "不存在局", "nobody", "", "明天", "办完了", "很多"],
        ]
    )
    with pytest.raises(ValidationError) as exc:
        screening.import_entries(round_=round_, by=people.clerk, source=source)
    assert exc.value.messages == [
        "第3行“矛盾纠纷问题”列：不能为空",
        "第3行“属地”列：找不到区划“火星”（请填写区划名称或代码）",
        "第3行“涉及单位”列：找不到单位“不存在局”",
        "第3行“责任领导”列：找不到工作人员“nobody”",
        "第3行“化解期限”列：日期格式应为 2027-01-20",
        "第3行“状态”列：“办完了”不是有效状态（待化解、化解中、已化解）",
        "第3行“涉及户数”列：“很多”应为不小于零的整数",
    ]
    assert not ScreeningEntry.objects.exists()


def test_missing_columns_and_not_excel(round_, people):
    with pytest.raises(ValidationError, match="缺少列：属地"):
        screening.import_entries(
            round_=round_, by=people.clerk, source=_xlsx([["x"]], header=["矛盾纠纷问题"])
        )
    with pytest.raises(ValidationError, match="无法读取"):
        screening.import_entries(
            round_=round_, by=people.clerk, source=io.BytesIO(b"not a workbook")
        )


def test_entry_becomes_a_matter_then_a_backlog_case(round_, county, people):
    entry = _entry(round_, people, county)
    with pytest.raises(ValidationError, match="请先将该问题登记"):
        screening.entry_to_backlog(entry=entry, by=people.supervisor)
    case = screening.entry_to_case(entry=entry, by=people.clerk, channel=Channel.VISIT)
    assert case.kind == Kind.SUGGESTION and case.anonymous and case.petitioner_name == ""
    assert case.office == county.office and case.place == county.town_place
    assert "涉及户数：24户" in case.content and "2027年春节前矛盾纠纷排查" in case.content
    entry.refresh_from_db()
    assert entry.converted_case == case and entry.status == "in_progress"
    with pytest.raises(ValidationError, match="已转为信访事项"):
        screening.entry_to_case(entry=entry, by=people.clerk, channel=Channel.VISIT)
    with pytest.raises(PermissionDenied):
        screening.entry_to_backlog(entry=entry, by=people.clerk)
    backlog = screening.entry_to_backlog(entry=entry, by=people.supervisor)
    assert backlog.case == case and backlog.flag_rule == RuleKind.MANUAL
    assert backlog.flag_reason == "矛盾纠纷排查转入：2027年春节前矛盾纠纷排查"


def test_convert_channel_is_visit_or_online(round_, county, people):
    entry = _entry(round_, people, county)
    with pytest.raises(ValidationError, match="来访或网上"):
        screening.entry_to_case(entry=entry, by=people.clerk, channel=Channel.PHONE)
    assert not Case.objects.exists()


def test_outsider_cannot_edit_or_see_the_round(client, round_, county, people):
    with pytest.raises(PermissionDenied):
        screening.entry_create(
            round_=round_,
            by=people.outsider,
            data=screening.EntryData(issue="x", place=county.place),
        )
    client.login(username="outsider", password=PASSWORD)
    assert client.get(f"/backlog/screening/{round_.pk}/").status_code == 404
    assert round_.name not in client.get("/backlog/screening/").content.decode()


def test_screening_pages(client, round_, county, people):
    client.login(username="clerk", password=PASSWORD)
    response = client.post(
        f"/backlog/screening/{round_.pk}/",
        {
            "entry-issue": "菜市场摊位费纠纷",
            "entry-place": county.town_place.pk,
            "entry-status": "pending",
            "entry-households": 12,
            "entry-units": [county.town.pk],
        },
    )
    assert response.status_code == 302
    entry = ScreeningEntry.objects.get()
    source = _xlsx(
        [["小区停车位分配纠纷", "430102001", "", "东湖街道办事处", "", "", "", "化解中", 30]]
    )
    source.name = "ledger.xlsx"
    client.post(f"/backlog/screening/{round_.pk}/import/", {"file": source})
    assert round_.entries.count() == 2
    client.post(f"/backlog/screening/entries/{entry.pk}/convert/", {"channel": "online"})
    entry.refresh_from_db()
    assert entry.converted_case.channel == "online"
    page = client.get(f"/backlog/screening/{round_.pk}/").content.decode()
    assert (
        "菜市场摊位费纠纷" in page and entry.converted_case.number in page and "涉及 42 户" in page
    )
    export = client.get(f"/backlog/screening/{round_.pk}/", {"format": "xlsx"})
    assert len(list(load_workbook(io.BytesIO(export.content)).active.iter_rows())) == 3
    client.logout()
    client.login(username="supervisor", password=PASSWORD)
    response = client.post(f"/backlog/screening/entries/{entry.pk}/backlog/")
    backlog = BacklogCase.objects.get()
    assert response["Location"] == f"/backlog/{backlog.pk}/"


def test_round_creation_page(client, people):
    client.login(username="clerk", password=PASSWORD)
    response = client.post(
        "/backlog/screening/",
        {"name": "国庆前排查", "period_start": "2027-09-01", "period_end": "2027-09-25"},
    )
    round_ = ScreeningRound.objects.get()
    assert response["Location"] == f"/backlog/screening/{round_.pk}/"
    assert round_.office == people.clerk.unit


# ---------------------------------------------------------------- round trips an office makes


def _export(round_) -> io.BytesIO:
    out = io.BytesIO()
    entries = round_.entries.select_related(
        "place", "responsible", "converted_case"
    ).prefetch_related("units")
    screening.export_entries(entries, out)
    out.seek(0)
    return out


def test_the_templates_sample_row_imports_cleanly_on_the_demo(client, db):
    """The template from the download page, on a fresh demo: the sample row is skipped as a sample,
    and the names in it exist, so the same row imports once its 示例 mark is removed."""
    from xinfang.demo.org import ensure_demo_org

    org = ensure_demo_org()
    clerk = org.users["clerk"]
    round_ = screening.round_create(
        by=clerk,
        name="春节前排查",
        period_start=dt.date(2027, 1, 4),
        period_end=dt.date(2027, 1, 29),
    )
    client.force_login(clerk)
    response = client.get("/backlog/screening/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    header = [c.value for c in ws[1]]
    sample = [c.value for c in ws[2]]
    assert header[0] == "条目编号" and sample[0].startswith("示例")
    assert "区住建局" not in str(sample)
    # the clerk fills a row below the sample and imports the file: only their row is added
    ws.append([None, "道路积水", sample[2], "", "", "", "", "", "待化解", 5])
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    done = screening.import_entries(round_=round_, by=clerk, source=filled)
    assert (done.created, done.updated) == (1, 0)
    assert list(round_.entries.values_list("issue", flat=True)) == ["道路积水"]
    # the template alone says why nothing was imported
    with pytest.raises(ValidationError, match="示例行不会导入"):
        screening.import_entries(round_=round_, by=clerk, source=io.BytesIO(response.content))
    # the sample's own names (place, unit, leader, date, status) all exist: without its mark it imports
    ws.delete_rows(3)
    ws["A2"] = None
    unmarked = io.BytesIO()
    wb.save(unmarked)
    unmarked.seek(0)
    assert screening.import_entries(round_=round_, by=clerk, source=unmarked).created == 1
    entry = round_.entries.get(issue__startswith="某小区加装电梯")
    assert entry.households == 24 and entry.responsible == clerk and entry.units.count() == 1


@pytest.mark.parametrize("cell", ["2027-13-01", "2027-02-30", "2027年2月29日"])
def test_an_impossible_date_is_named_in_chinese(round_, people, cell):
    source = _xlsx([["道路积水", "东湖街道", "", "", "", "", cell, "待化解", 5]])
    with pytest.raises(ValidationError) as exc:
        screening.import_entries(round_=round_, by=people.clerk, source=source)
    assert exc.value.messages == [
        f"第2行“化解期限”列：“{cell}”不是有效日期（没有这一天），请写成 2027-01-20"
    ]
    assert "month" not in str(exc.value) and "day is out of range" not in str(exc.value)


def test_reimporting_an_export_updates_instead_of_duplicating(round_, county, people):
    converted = _entry(round_, people, county)
    case = screening.entry_to_case(entry=converted, by=people.clerk, channel=Channel.VISIT)
    backlog = screening.entry_to_backlog(entry=converted, by=people.supervisor)
    _entry(round_, people, county, issue="农贸市场占道经营", households=0)
    source = _export(round_)

    done = screening.import_entries(round_=round_, by=people.clerk, source=source)
    assert (done.created, done.updated) == (0, 2)
    assert round_.entries.count() == 2
    converted.refresh_from_db()
    assert converted.converted_case_id == case.pk and case.backlog.pk == backlog.pk
    assert converted.status == ScreeningEntry.EntryStatus.IN_PROGRESS

    # the office changes a status cell in the exported file and imports it again
    wb = load_workbook(_export(round_))
    ws = wb.active
    status_col = screening.COLUMNS.index("状态") + 1
    for row in ws.iter_rows(min_row=2):
        if row[0].value == screening.entry_code(converted):
            row[status_col - 1].value = "已化解"
    changed = io.BytesIO()
    wb.save(changed)
    changed.seek(0)
    done = screening.import_entries(round_=round_, by=people.clerk, source=changed)
    assert (done.created, done.updated) == (0, 2)
    converted.refresh_from_db()
    assert converted.status == ScreeningEntry.EntryStatus.RESOLVED
    assert converted.converted_case_id == case.pk
    assert round_.entries.count() == 2


def test_an_old_export_without_codes_does_not_double_the_ledger(round_, county, people):
    _entry(round_, people, county)
    wb = load_workbook(_export(round_))
    wb.active.delete_cols(1)
    old = io.BytesIO()
    wb.save(old)
    old.seek(0)
    assert screening.import_entries(round_=round_, by=people.clerk, source=old).updated == 1
    assert round_.entries.count() == 1


def test_bad_entry_codes_are_named(round_, county, people):
    entry = _entry(round_, people, county)
    code = screening.entry_code(entry)
    header = screening.COLUMNS[:-1]
    source = _xlsx(
        [
            [code, "道路积水", "东湖街道"],
            [code, "道路积水", "东湖街道"],
            [f"PC{round_.pk}-999999", "道路积水", "东湖街道"],
            ["ABC", "道路积水", "东湖街道"],
        ],
        header=header,
    )
    with pytest.raises(ValidationError) as exc:
        screening.import_entries(round_=round_, by=people.clerk, source=source)
    assert exc.value.messages == [
        f"第3行“条目编号”列：“{code}”与第2行重复",
        f"第4行“条目编号”列：本排查中没有条目“PC{round_.pk}-999999”（可能已删除），新增条目请留空",
        "第5行“条目编号”列：“ABC”不是有效的条目编号（应为导出文件中的 PC12-345 形式，新增条目请留空）",
    ]
