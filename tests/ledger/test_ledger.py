"""Excel ledgers (台帐): an office imports a spreadsheet of matters, and exports its queue."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from tests.factories import VALID_ID, VALID_PHONE, bj, register
from xinfang.cases import access, bulk, search
from xinfang.cases.models import Case, CaseEvent, ImportJob, Kind, State
from xinfang.ledger import columns, exporting, importing, reading, validation
from xinfang.ledger.columns import COLUMNS, ledger_template
from xinfang.ledger.exporting import export_cases
from xinfang.ledger.importing import import_ledger

NOW = bj(2026, 3, 20, 12)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def good_row(i: int, **changes) -> dict:
    row = {
        "登记时间": dt.datetime(2026, 3, 1 + i % 10, 9, 30),
        "来源渠道": ["来访", "来信", "网上", "来电"][i % 4],
        "事项类型": "申诉求决",
        "标题": f"某公司拖欠工资第{i}号",
        "诉求内容": "本人在某建筑公司务工，公司拖欠工资三个月未发，欠薪共计两万元，请求帮助追讨。",
        "问题属地": "东湖街道" if i % 2 else "430102",
        "事项分类": "劳动和社会保障/拖欠工资" if i % 3 else "LD01",
        "信访人姓名": f"张{i}",
        "身份证号": VALID_ID,
        "联系电话": VALID_PHONE,
        "住址": "A1区东湖街道1号",
        "是否匿名": "否",
        "来访人数": 1,
    }
    row.update(changes)
    return row


def xlsx(rows: list[dict], columns: list[str] | None = None) -> bytes:
    columns = columns or COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c.strip()) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(data: bytes, county, **kw):
    return import_ledger(io.BytesIO(data), office=county.office, **kw)


# ------------------------------------------------------------------ a good file


def test_a_good_ledger_registers_every_row_with_events_and_search(county, people):
    rows = [good_row(i) for i in range(50)]
    rows[5] = good_row(5, **{"登记时间": "2026/3/2", "是否匿名": "", "来访人数": None})
    rows[6] = good_row(6, **{"登记时间": "2026年3月3日", "联系电话": " 138-1234-5678 "})
    rows[7] = good_row(
        7,
        **{
            "事项类型": "检举控告",
            "是否匿名": "是",
            "信访人姓名": "",
            "被反映单位": "A1区住房和城乡建设局",
            "被反映人": "李某",
            "标题": "举报违建",
            "诉求内容": "住建局某干部违规审批违建。",
        },
    )
    result = run(xlsx(rows), county, by=people.clerk)
    assert result.ok, result.messages
    assert result.created == result.total_rows == 50
    cases = Case.objects.order_by("seq")
    assert cases.count() == 50
    assert [c.seq for c in cases] == list(range(1, 51))
    first = cases.get(title="某公司拖欠工资第0号")
    assert first.place == county.place and first.category == county.wages
    assert first.registered_at == bj(2026, 3, 1, 9, 30)
    assert first.state == State.REGISTERED and first.due_at == bj(2026, 3, 17)
    assert first.petitioner_id_number == VALID_ID and first.petitioner_phone == VALID_PHONE
    assert first.number == "XF430102-2026-000001" and first.created_by == people.clerk
    one = cases.get(title="某公司拖欠工资第1号")
    assert one.place == county.town_place and one.channel == "letter"
    assert cases.get(title="某公司拖欠工资第5号").registered_at == bj(2026, 3, 2)
    assert cases.get(title="某公司拖欠工资第6号").petitioner_phone == VALID_PHONE
    report = cases.get(title="举报违建")
    assert (
        report.anonymous and report.petitioner_name == "" and report.accused_unit == county.housing
    )
    assert report.kind == Kind.ACCUSATION and report.accused_person == "李某"
    events = CaseEvent.objects.filter(kind="case.registered")
    assert events.count() == 50
    assert events.filter(actor=people.clerk, unit=county.office).count() == 50
    assert search.filter_cases(Case.objects.all(), "欠薪").count() == 49
    assert list(search.filter_cases(Case.objects.all(), "违建")) == [report]
    assert (
        search.filter_cases(
            Case.objects.all(), "欠薪", units=("office", [county.office.pk])
        ).count()
        == 49
    )
    assert (
        search.filter_cases(Case.objects.all(), "欠薪", units=("office", [county.hr.pk])).count()
        == 0
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.committed_rows == 50


def test_columns_in_any_order_with_spaces_and_unknown_columns(county):
    columns = [
        "备注",
        " 标题 ",
        "诉求内容",
        "问题属地",
        "事项类型",
        "来源渠道",
        "登记时间",
        "信访人姓名",
        "联系电话",
    ]
    data = xlsx([good_row(1, 备注="无关"), good_row(2)], columns)
    result = run(data, county)
    assert result.ok, result.messages
    assert Case.objects.count() == 2


# ------------------------------------------------------------------ bad input


def test_a_file_with_bad_rows_imports_nothing_and_names_each_cell(county):
    rows = [good_row(i) for i in range(8)]
    rows[1]["身份证号"] = VALID_ID[:-1] + "1"  # wrong check digit → Excel row 3
    rows[2]["联系电话"] = "12345"  # row 4
    rows[3]["问题属地"] = "火星"  # row 5
    rows[4]["登记时间"] = "2027-01-01 09:00"  # future → row 6
    rows[5]["事项类型"] = "表扬"  # row 7
    rows[6]["登记时间"] = "昨天"  # row 8
    result = run(xlsx(rows), county)
    assert not result.ok
    assert Case.objects.count() == 0 and ImportJob.objects.count() == 0
    messages = result.messages
    assert "第3行 身份证号：身份证号码校验位错误，请核对最后一位" in messages
    assert any(m.startswith("第4行 联系电话：") for m in messages)
    assert "第5行 问题属地：找不到问题属地“火星”，请填写系统中已有的名称或代码" in messages
    assert "第6行 登记时间：登记时间不能晚于当前时间" in messages
    assert any(m.startswith("第7行 事项类型：“表扬”不是有效的事项类型") for m in messages)
    assert any(m.startswith("第8行 登记时间：“昨天”不是有效的时间") for m in messages)
    assert result.error_count == 6


def test_a_missing_required_column_is_one_clear_error(county):
    columns = [c for c in COLUMNS if c != "诉求内容"]
    result = run(xlsx([good_row(1)], columns), county)
    assert not result.ok
    assert result.messages == ["表头缺少必填列：“诉求内容”。第1行应为表头，请使用导入模板"]


@pytest.mark.parametrize(
    "data",
    [os.urandom(3000), "登记时间,标题\n2026-03-01,欠薪\n".encode(), b"PK\x03\x04broken zip"],
    ids=["random-bytes", "csv-renamed", "truncated-zip"],
)
def test_a_file_that_is_not_an_xlsx_gets_a_chinese_error(county, data, tmp_path):
    path = tmp_path / "台帐.xlsx"
    path.write_bytes(data)
    result = import_ledger(path, office=county.office)
    assert not result.ok and result.messages == [columns.NOT_XLSX]


def test_a_truncated_xlsx_gets_a_chinese_error(county):
    data = xlsx([good_row(i) for i in range(20)])
    result = run(data[: len(data) // 2], county)
    assert not result.ok and result.messages == [columns.NOT_XLSX]


def test_an_empty_workbook_and_a_header_only_workbook(county):
    out = io.BytesIO()
    Workbook().save(out)
    assert run(out.getvalue(), county).messages == [columns.EMPTY]
    assert run(xlsx([]), county).messages == [columns.NO_ROWS]
    assert run(b"", county).messages == ["文件为空（0字节），请选择填好的台帐文件"]


def test_an_old_xls_file_is_named(county):
    result = run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, county)
    assert result.messages == [columns.OLD_XLS]


# ------------------------------------------------------------------ kill and resume


def dies_on_second_batch(monkeypatch):
    real = bulk.register_prepared
    calls = {"n": 0}

    def dying(**kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(**kw)

    monkeypatch.setattr(bulk, "register_prepared", dying)
    return real


def test_a_killed_big_import_resumes_without_duplicates(county, people, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    monkeypatch.setattr(
        importing, "ATOMIC_ROWS", 0
    )  # "big": checked whole, then committed batch by batch
    data = xlsx([good_row(i) for i in range(35)])
    real = dies_on_second_batch(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run(data, county, by=people.clerk)
    assert Case.objects.count() == 10
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.RUNNING and job.committed_rows == 10

    monkeypatch.setattr(bulk, "register_prepared", real)
    result = run(data, county, by=people.clerk)
    assert result.ok and result.resumed_from == 10 and result.created == 25
    titles = list(Case.objects.order_by("seq").values_list("title", flat=True))
    assert titles == [f"某公司拖欠工资第{i}号" for i in range(35)]
    assert list(Case.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 36))
    assert CaseEvent.objects.count() == 35
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.committed_rows == 35


def test_a_killed_import_of_a_small_file_leaves_nothing_and_the_same_file_then_imports_whole(
    county, people, monkeypatch
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    data = xlsx([good_row(i) for i in range(35)])
    real = dies_on_second_batch(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run(data, county, by=people.clerk)
    assert (
        Case.objects.count() == 0
        and ImportJob.objects.count() == 0
        and CaseEvent.objects.count() == 0
    )

    monkeypatch.setattr(bulk, "register_prepared", real)
    result = run(data, county, by=people.clerk)
    assert result.ok and result.created == 35 and result.resumed_from == 0
    assert list(Case.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 36))
    assert ImportJob.objects.get().committed_rows == 35


def test_a_problem_after_clean_batches_were_written_rolls_them_back(county, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    rows = [good_row(i) for i in range(35)]
    rows[31]["联系电话"] = "12345"  # Excel row 33, after three clean batches went to the writer
    result = run(xlsx(rows), county)
    assert (
        not result.ok
        and result.error_count == 1
        and result.messages[0].startswith("第33行 联系电话：")
    )
    assert Case.objects.count() == 0 and ImportJob.objects.count() == 0
    assert search.filter_cases(Case.objects.all(), "欠薪").count() == 0


# ------------------------------------------------------------------ checking in a second process


@pytest.fixture
def forked(monkeypatch):
    """Check every file in a forked process, however small."""
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(importing, "BATCH_SIZE", 7)


@pytest.mark.django_db(transaction=True)
def test_a_file_checked_in_a_second_process_registers_the_same_matters(
    county, people, forked, monkeypatch, tmp_path
):
    real = importing._produce_into

    def produce_into(*args):
        (tmp_path / "checker.pid").write_text(str(os.getpid()))
        real(*args)

    monkeypatch.setattr(importing, "_produce_into", produce_into)
    rows = [good_row(i) for i in range(30)]
    result = run(xlsx(rows), county, by=people.clerk)
    assert result.ok and result.created == 30, result.messages
    assert int((tmp_path / "checker.pid").read_text()) != os.getpid()
    cases = Case.objects.order_by("seq")
    assert [c.title for c in cases] == [f"某公司拖欠工资第{i}号" for i in range(30)]
    assert cases[0].due_at == bj(2026, 3, 17) and cases[1].place == county.town_place
    assert search.filter_cases(Case.objects.all(), "欠薪").count() == 30
    assert CaseEvent.objects.filter(kind="case.registered", actor=people.clerk).count() == 30

    rows[20]["身份证号"] = VALID_ID[:-1] + "1"
    rows[3]["问题属地"] = "火星"
    result = run(xlsx(rows), county, force=True)
    assert not result.ok and Case.objects.count() == 30
    assert result.messages == [
        "第5行 问题属地：找不到问题属地“火星”，请填写系统中已有的名称或代码",
        "第22行 身份证号：身份证号码校验位错误，请核对最后一位",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_checker_that_dies_leaves_nothing_and_says_so(county, forked, monkeypatch):
    real = importing._produce

    def dies_after_a_batch(stream, lookups):
        for message in real(stream, lookups):
            yield message
            if message[0] == "rows":
                os._exit(3)

    monkeypatch.setattr(importing, "_produce", dies_after_a_batch)
    result = run(xlsx([good_row(i) for i in range(30)]), county)
    assert not result.ok and result.messages == [importing.CHECK_FAILED]
    assert Case.objects.count() == 0 and ImportJob.objects.count() == 0


def test_a_completed_file_is_refused_unless_forced(county):
    data = xlsx([good_row(i) for i in range(3)])
    assert run(data, county).ok
    again = run(data, county)
    assert not again.ok
    assert again.messages[0].startswith("该文件已于2026年03月20日 12:00导入，共3件")
    assert Case.objects.count() == 3
    forced = run(data, county, force=True)
    assert forced.ok and Case.objects.count() == 6


# ------------------------------------------------------------------ template and command


def test_the_template_has_the_header_a_sample_and_drop_downs(county):
    data = ledger_template()
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == COLUMNS
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation}
    assert "来访" in lists["B2"] and "检举控告" in lists["C2"] and lists["L2"] == '"是,否"'
    result = run(data, county)  # the sample row itself imports
    assert result.ok, result.messages
    assert Case.objects.get().category == county.wages


def test_the_import_command(county, people, tmp_path, capsys):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx([good_row(i) for i in range(4)]))
    call_command("import_ledger", str(path), office="XF430102", user="clerk")
    assert "新登记4件" in capsys.readouterr().out
    assert Case.objects.filter(created_by=people.clerk).count() == 4
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), office="XF430102")
    assert "该文件已于" in capsys.readouterr().err


# ------------------------------------------------------------------ export


def test_export_round_trip(county, people, tmp_path):
    case = register(county, people.clerk, bj(2026, 3, 2, 10))
    report = register(
        county,
        people.clerk,
        bj(2026, 3, 3, 10),
        kind=Kind.ACCUSATION,
        title="举报住建局违规审批",
        accused_unit=county.housing,
    )
    path = tmp_path / "out.xlsx"
    count = export_cases(Case.objects.order_by("id"), path, user=people.supervisor)
    assert count == 2
    ws = load_workbook(path).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == [name for name, _ in exporting.EXPORT_COLUMNS]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["事项编号"] == case.number and first["登记时间"] == "2026-03-02 10:00"
    assert first["来源渠道"] == "来访" and first["事项类型"] == "申诉求决"
    assert first["问题属地"] == "A1区" and first["事项分类"] == "劳动和社会保障/拖欠工资"
    assert first["信访人"] == "张三" and first["联系电话"] == "138****5678"
    assert first["状态"] == "已登记" and first["到期时间"] == "2026-03-17 24:00"
    assert first["时限状态"] == "已超期"  # due 18 March, now 20 March
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["信访人"] == "张三"  # the supervisor may see who reported
    # The accused unit's officer must never learn who reported it.
    assert not access.can_see_petitioner(people.accused_officer, report)
    out = io.BytesIO()
    export_cases(Case.objects.filter(pk=report.pk), out, user=people.accused_officer)
    row = [c.value for c in next(load_workbook(out).active.iter_rows(min_row=2))]
    assert row[7] == exporting.CONFIDENTIAL and row[8] == exporting.CONFIDENTIAL


def test_export_streams_into_an_http_response_without_a_query_per_matter(
    county, people, django_assert_max_num_queries
):
    for day in range(1, 6):
        register(county, people.clerk, bj(2026, 3, day, 10))
    from django.http import HttpResponse

    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    qs = access.visible_cases(people.supervisor).order_by("id")
    with django_assert_max_num_queries(12):
        assert export_cases(qs, response, user=people.supervisor) == 5
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws.max_row == 6


def test_the_export_command(county, people, tmp_path, capsys):
    register(county, people.clerk, bj(2026, 3, 2, 10))
    path = tmp_path / "out.xlsx"
    call_command("export_ledger", str(path), user="supervisor", since="2026-03-01")
    assert "已导出1件" in capsys.readouterr().out
    assert load_workbook(path).active.max_row == 2


def test_the_fast_reader_and_the_streaming_fallback_read_the_same_rows(county, monkeypatch):
    rows = [good_row(i) for i in range(12)]
    rows[3] = good_row(
        3, **{"登记时间": "2026年3月3日", "身份证号": 110105194912310021, "来访人数": 2.0}
    )
    rows[4] = good_row(4, **{"是否匿名": True, "登记时间": dt.date(2026, 3, 4)})
    data = xlsx(rows)
    fast = list(reading._FastSheet(io.BytesIO(data)).rows())
    assert reading._FastSheet(io.BytesIO(data)).read  # calamine did read it
    monkeypatch.setattr(reading, "CALAMINE_MAX_XML", 0)  # too big for calamine: streamed with lxml
    slow_sheet = reading._FastSheet(io.BytesIO(data))
    assert not slow_sheet.read
    slow = list(slow_sheet.rows())
    header = validation._header(fast[0][1])
    assert header == validation._header(slow[0][1])
    assert [n for n, _ in fast] == [n for n, _ in slow]
    lookups = validation._Lookups.load()
    for (_, a), (_, b) in zip(fast[1:], slow[1:], strict=True):
        ra, pa = validation._RowReader(header, lookups).read(a)
        rb, pb = validation._RowReader(header, lookups).read(b)
        assert (ra, pa) == (rb, pb)


@pytest.mark.parametrize("reader", ["calamine", "streamed"])
def test_a_table_that_starts_lower_and_further_right_keeps_excel_row_numbers(
    county, monkeypatch, reader
):
    if reader == "streamed":
        monkeypatch.setattr(reading, "CALAMINE_MAX_XML", 0)
    wb = Workbook()
    ws = wb.active
    ws["A1"] = None
    rows = [good_row(i) for i in range(3)]
    rows[1]["联系电话"] = "12345"
    for r, values in enumerate(
        [COLUMNS] + [[row.get(c) for c in COLUMNS] for row in rows], start=3
    ):
        for c, value in enumerate(values, start=2):  # header in row 3, from column B
            ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    result = run(out.getvalue(), county)
    assert not result.ok and len(result.messages) == 1
    assert result.messages[0].startswith("第5行 联系电话：")


@pytest.mark.parametrize(
    "moment",
    [
        bj(2026, 3, 1, 9, 30),
        bj(2025, 12, 31, 23, 59, 59),
        dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
    ],
)
def test_the_preparer_adapts_times_exactly_as_django_does(moment):
    from django.db import connection

    assert bulk.Preparer().adapt(moment) == connection.ops.adapt_datetimefield_value(moment)


# ------------------------------------------------------------------ every problem of a row, dates in Chinese


def test_every_problem_of_a_row_is_reported_not_only_the_first(county):
    row = good_row(
        1,
        **{
            "登记时间": "昨天",
            "来源渠道": "飞鸽",
            "事项类型": "表扬",
            "标题": "",
            "诉求内容": "",
            "身份证号": VALID_ID[:-1] + "1",
            "联系电话": "12345",
            "问题属地": "火星",
        },
    )
    result = run(xlsx([row]), county)
    assert not result.ok
    columns = [m.split("：", 1)[0] for m in result.messages]
    assert columns == [
        "第2行 登记时间",
        "第2行 来源渠道",
        "第2行 事项类型",
        "第2行 问题属地",
        "第2行 标题",
        "第2行 诉求内容",
        "第2行 身份证号",
        "第2行 联系电话",
    ], result.messages
    assert result.error_count == 8


@pytest.mark.parametrize(
    "cell", ["2026-13-01", "2026-02-30", "2026年2月29日 09:00", "2026-03-01 25:00"]
)
def test_an_impossible_date_is_named_in_chinese_with_row_and_column(county, cell):
    rows = [good_row(0), good_row(1, **{"登记时间": cell})]
    result = run(xlsx(rows), county)
    assert not result.ok
    assert result.messages == [
        f"第3行 登记时间：“{cell}”不是有效的时间，请写成 2026-03-01 09:30 或 2026年3月1日"
    ]
    assert not any(word in m for m in result.messages for word in ("month", "day", "range"))


def test_an_unreadable_time_does_not_hide_the_type_rules(county):
    row = good_row(1, **{"登记时间": "昨天", "事项类型": "申诉求决", "是否匿名": "是"})
    result = run(xlsx([row]), county)
    assert [m.split("：", 1)[0] for m in result.messages] == ["第2行 登记时间", "第2行 是否匿名"], (
        result.messages
    )
