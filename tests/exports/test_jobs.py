"""Large exports as jobs: asked for on the queue page, written by the worker row by row, followed
on a progress page, downloaded by their owner only; a killed run is taken up again."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services as s
from xinfang.cases.models import Kind
from xinfang.exports import services
from xinfang.exports.kinds import ExportError
from xinfang.exports.models import ExportDownload, ExportJob
from xinfang.ledger.exporting import CONFIDENTIAL

Status = ExportJob.Status
EVIL = '=HYPERLINK("http://x")'


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path, monkeypatch):
    settings.XINFANG_EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setattr(services, "DIRECT_MAX", 2)  # three matters make a "large" export


@pytest.fixture
def matters(county, people):
    c = county
    at = bj(2026, 3, 2, 9)
    out = [
        register(c, people.clerk, at, title=EVIL),
        register(c, people.clerk, at, title="欠薪二"),
        register(c, people.clerk, at, title="欠薪三"),
    ]
    for m in out:
        s.case_route(case=m, by=people.clerk, unit=c.hr, at=bj(2026, 3, 2, 10))
    # a report against the district government itself, still at the office: the supervisor (of
    # the district government) sees the matter but never who reported it
    report = register(
        c,
        people.clerk,
        at,
        kind=Kind.ACCUSATION,
        title="举报区政府",
        accused_unit=c.county,
        petitioner=_person(),
    )
    return out, report


def _person():
    from tests.factories import petitioner

    return petitioner(name="钱密告", phone="13955556666")


def _rows(path_or_bytes) -> list[tuple]:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return list(load_workbook(src).active.iter_rows(values_only=True))


def _ask(client, user, **query):
    client.login(username=user.username, password=PASSWORD)
    response = client.get("/cases/export.xlsx", query)
    assert response.status_code == 302, response.content[:200]
    return ExportJob.objects.get(owner=user), response


def test_large_ledger_export_end_to_end(client, people, matters):
    job, response = _ask(client, people.clerk)
    assert response["Location"] == f"/exports/{job.pk}/"
    assert job.status == Status.QUEUED and job.kind == "ledger"
    page = client.get(f"/exports/{job.pk}/")
    assert "排队中" in page.content.decode() and page["Refresh"] == "3"

    call_command("export", "run")  # `xinfang export run`; the worker runs the same pass
    job.refresh_from_db()
    assert job.status == Status.DONE and job.rows_done == job.rows_total == 4
    assert job.pct == 100
    assert stat.S_IMODE(os.stat(job.file_path).st_mode) == 0o600  # not world-readable
    data = client.get(f"/exports/{job.pk}/", {"format": "json"}).json()
    assert data["status"] == "done" and data["rows_done"] == 4 and data["download"]
    assert "Refresh" not in client.get(f"/exports/{job.pk}/")

    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200
    rows = _rows(b"".join(download.streaming_content))
    assert rows[0][0] == "事项编号" and len(rows) == 5
    titles = {r[4] for r in rows[1:]}
    assert EVIL in titles  # came back as a string, not as a formula
    assert ExportDownload.objects.filter(job=job, user=people.clerk, rows=4).count() == 1  # audited


def test_formula_title_is_text_in_the_file(client, people, matters):
    job, _ = _ask(client, people.clerk)
    services.run_pending("w1")
    job.refresh_from_db()
    ws = load_workbook(job.file_path).active
    cells = [row[4] for row in ws.iter_rows(min_row=2)]
    evil = next(c for c in cells if c.value == EVIL)
    assert evil.data_type == "s" and evil.quotePrefix


def test_only_the_owner_sees_or_downloads_a_job(client, people, matters):
    job, _ = _ask(client, people.clerk)
    services.run_pending("w1")
    client.logout()
    client.login(username="supervisor", password=PASSWORD)
    for url in (
        f"/exports/{job.pk}/",
        f"/exports/{job.pk}/download/",
        f"/exports/{job.pk}/?format=json",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/exports/{job.pk}/retry/").status_code == 404
    assert str(job.pk) not in client.get("/exports/").content.decode().split("<tbody>")[1]
    client.logout()
    assert client.get(f"/exports/{job.pk}/download/").status_code == 302  # to the login page
    assert not ExportDownload.objects.exists()


def test_the_job_keeps_the_owners_scope(client, people, matters):
    plain, _report = matters
    job, _ = _ask(client, people.head, scope="lead")  # 人社局: the three matters routed to it
    services.run_pending("w1")
    job.refresh_from_db()
    rows = _rows(Path(job.file_path).read_bytes())
    assert sorted(r[0] for r in rows[1:]) == sorted(m.number for m in plain)


def test_the_job_hides_the_complainant_from_the_accused_unit(client, people, matters):
    _plain, report = matters
    job, _ = _ask(client, people.supervisor, scope="office")
    services.run_pending("w1")
    job.refresh_from_db()
    rows = _rows(Path(job.file_path).read_bytes())
    line = next(r for r in rows if r[0] == report.number)
    assert (
        line[7] == line[8] == CONFIDENTIAL
        and "钱密告" not in str(rows)
        and "13955556666" not in str(rows)
    )


def test_a_killed_run_is_queued_again_and_finished(people, matters, county):
    job = services.export_request(owner=people.clerk, kind="ledger", filters={})
    # a worker claimed it and died: running, heartbeat long ago, a half-written file left behind
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING,
        worker="dead",
        rows_done=2000,
        heartbeat_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    part = services.export_dir() / f"{job.pk}.xlsx.part"
    part.write_bytes(b"half")
    assert services.requeue_stale() == 1
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.rows_done == 0
    services.run_pending("w2")
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 1 and job.rows_done == 4
    assert not part.exists() and load_workbook(job.file_path).active.max_row == 5


def test_a_run_that_fails_says_so_in_chinese_and_can_be_retried(
    client, people, matters, monkeypatch
):
    job, _ = _ask(client, people.clerk)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("xinfang.exports.writer.write_xlsx", broken)
    services.run_pending("w1")
    job.refresh_from_db()
    assert job.status == Status.FAILED and "导出时出错" in job.error
    assert not list(services.export_dir().glob("*.part"))
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "导出时出错" in page and "重新导出" in page
    assert (
        client.get(f"/exports/{job.pk}/download/").status_code == 302
    )  # not ready: back, with a message
    monkeypatch.undo()
    monkeypatch.setattr(services, "DIRECT_MAX", 2)
    client.post(f"/exports/{job.pk}/retry/")
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    services.run_pending("w1")
    job.refresh_from_db()
    assert job.status == Status.DONE


def test_a_second_worker_cannot_take_a_claimed_job(people, matters):
    job = services.export_request(owner=people.clerk, kind="ledger", filters={})
    assert services._claim(job.pk, "w1") and not services._claim(job.pk, "w2")
    assert services.export_run(job, worker="w2").status == Status.RUNNING  # left to w1


def test_the_same_request_twice_is_one_job(people, matters):
    a = services.export_request(owner=people.clerk, kind="ledger", filters={"state": "routed"})
    b = services.export_request(owner=people.clerk, kind="ledger", filters={"state": "routed"})
    assert a.pk == b.pk


def test_small_exports_stay_direct(client, people, matters, monkeypatch):
    monkeypatch.setattr(services, "DIRECT_MAX", 5000)
    client.login(username="clerk", password=PASSWORD)
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 200 and not ExportJob.objects.exists()
    assert EVIL in {r[4] for r in _rows(response.content)[1:]}


def test_bad_input_gets_a_chinese_message(client, people, matters):
    with pytest.raises(ExportError, match="没有这种导出内容"):
        services.export_request(owner=people.clerk, kind="nope", filters={})
    with pytest.raises(ExportError, match="查询条件不正确"):
        services.export_request(owner=people.clerk, kind="rate_matters", filters={"rate": "nope"})
    client.login(username="clerk", password=PASSWORD)
    assert client.get("/exports/999999/").status_code == 404
    assert client.get("/exports/999999999999999999999/").status_code == 404
    response = client.get("/cases/export.xlsx", {"date_from": "2026-13-45", "category": "x" * 500})
    assert response.status_code == 302  # bad filters are left out, as on the queue page


def test_rate_drill_down_export_becomes_a_job(client, people, matters):
    client.login(username="supervisor", password=PASSWORD)
    query = {
        "rate": "route_on_time",
        "part": "denominator",
        "from": "2026-03-01",
        "to": "2026-03-31",
    }
    response = client.get("/reports/rates/matters/", {**query, "format": "xlsx"})
    assert response.status_code == 302
    job = ExportJob.objects.get(owner=people.supervisor, kind="rate_matters")
    assert job.filters == query
    services.run_pending("w1")
    job.refresh_from_db()
    assert job.status == Status.DONE and job.rows_done == 3  # the three routings in March
    rows = _rows(Path(job.file_path).read_bytes())
    assert rows[0] == ("事项编号", "标题", "计入单位", "主办单位", "状态", "时间")
    assert EVIL in {r[1] for r in rows[1:]}
    client.get(f"/exports/{job.pk}/download/")
    assert not ExportDownload.objects.exists()  # no petitioner in these rows: nothing to audit


def test_old_files_are_deleted(people, matters):
    job = services.export_request(owner=people.clerk, kind="ledger", filters={})
    job = services.export_run(job, worker="w1")
    path = job.file_path
    services.purge_expired(now=job.finished_at + services.KEEP + dt.timedelta(minutes=1))
    job.refresh_from_db()
    assert job.status == Status.EXPIRED and not os.path.exists(path)


def test_the_worker_runs_export_jobs(people, matters):
    job = services.export_request(owner=people.clerk, kind="ledger", filters={})
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.status == Status.DONE


def test_ledger_rows_cost_the_same_queries_for_few_or_many(county, people, matters):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases import access
    from xinfang.ledger import exporting

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = list(
                exporting.export_rows(
                    access.visible_cases(people.supervisor), user=people.supervisor
                )
            )
        return len(rows), len(queries)

    count()  # the supervisor's subtree, cached after the first read
    few = count()
    for i in range(5):
        register(
            county,
            people.clerk,
            bj(2026, 3, 3, 9),
            kind=Kind.ACCUSATION,
            title=f"举报{i}",
            accused_unit=county.county,
            petitioner=_person(),
        )
    many = count()
    assert many[0] == few[0] + 5 and many[1] == few[1]  # no query per matter


def test_the_worker_can_leave_exports_to_their_own_process(people, matters, settings):
    settings.XINFANG_WORKER_EXPORTS = False
    job = services.export_request(owner=people.clerk, kind="ledger", filters={})
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    call_command("export", "run", "--job", str(job.pk))
    job.refresh_from_db()
    assert job.status == Status.DONE


@pytest.mark.django_db
def test_export_run_names_a_missing_job_in_chinese():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有编号为 424242 的导出任务"):
        call_command("export", "run", "--job", "424242")
