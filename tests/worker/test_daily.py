"""The daily jobs run from the worker (issue 12: `backlog_scan` never ran unless someone ran it
by hand): once a Beijing day, by one worker, again after a worker died mid-job."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from tests.factories import bj
from xinfang.worker import daily
from xinfang.worker.models import DailyRun

BJ = dt.timezone(dt.timedelta(hours=8))


def _counting(calls: list[dt.datetime], *, fail: bool = False) -> daily.DailyJob:
    def run(now: dt.datetime) -> str:
        calls.append(now)
        if fail:
            raise RuntimeError("boom")
        return f"第{len(calls)}次"

    return daily.DailyJob("test_job", run, hour=1)


@pytest.mark.django_db
def test_a_daily_job_runs_once_a_beijing_day_from_its_hour():
    calls: list[dt.datetime] = []
    job = (_counting(calls),)
    assert daily.run_due(now=dt.datetime(2026, 9, 16, 0, 30, tzinfo=BJ), jobs=job) == []
    assert daily.run_due(now=dt.datetime(2026, 9, 16, 1, 5, tzinfo=BJ), jobs=job) == ["第1次"]
    assert daily.run_due(now=dt.datetime(2026, 9, 16, 23, 0, tzinfo=BJ), jobs=job) == []
    assert daily.run_due(now=dt.datetime(2026, 9, 17, 1, 0, tzinfo=BJ), jobs=job) == ["第2次"]
    assert list(DailyRun.objects.order_by("day").values_list("day", "result")) == [
        (dt.date(2026, 9, 16), "第1次"),
        (dt.date(2026, 9, 17), "第2次"),
    ]


@pytest.mark.django_db
def test_a_job_that_failed_or_whose_worker_died_is_taken_up_again_an_hour_later():
    calls: list[dt.datetime] = []
    start = dt.datetime(2026, 9, 16, 9, 0, tzinfo=BJ)
    assert daily.run_due(now=start, jobs=(_counting(calls, fail=True),)) == []  # logged, not raised
    again = (_counting(calls),)
    assert daily.run_due(now=start + dt.timedelta(minutes=30), jobs=again) == []
    assert daily.run_due(now=start + dt.timedelta(minutes=61), jobs=again) == ["第2次"]
    assert len(calls) == 2


@pytest.mark.django_db
def test_the_worker_runs_the_backlog_scan_on_its_first_pass_of_the_day(county, people):
    call_command("worker", "--once", stdout=io.StringIO())
    call_command("worker", "--once", stdout=io.StringIO())
    scans = DailyRun.objects.filter(job="backlog_scan")
    assert scans.count() == 1 and scans.get().result.startswith("积案扫描：新认定积案")


def test_the_worker_keeps_the_retention_rules_daily(county, people, settings):
    """保存期限: after 02:00 Beijing the worker's pass runs the retention job once that day."""
    with time_machine.travel(bj(2026, 10, 8, 3), tick=False):
        call_command("worker", "--once", stdout=io.StringIO())
        call_command("worker", "--once", stdout=io.StringIO())
    [run] = DailyRun.objects.filter(job="retention")
    assert run.result.startswith("保存期限：匿名化 0 件，删除过期查看记录 0 条")
