"""个人信息查看记录 for administrators: who saw which petitioner's data, when and why; filtered,
paginated, exported; for administrators only; itself audited; kept at least 180 days."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys

import openpyxl
import pytest
from django.utils import timezone

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services
from xinfang.ops.audit import purge_expired_audit
from xinfang.ops.models import AuditLogAccess
from xinfang.orgs.models import PersonalDataView

URL = "/ops/audit/"


@pytest.fixture
def seen(county, people):
    """Two matters; the clerk looked at the first on 1 Nov, the head at the second on 20 Nov."""
    first = register(county, people.clerk, bj(2026, 10, 8, 9))
    second = register(county, people.clerk, bj(2026, 10, 9, 9), title="学校乱收费")
    services.personal_data_reveal(case=first, by=people.clerk, reason="电话回访核实")
    services.personal_data_reveal(case=second, by=people.clerk, reason='=HYPERLINK("x")')
    PersonalDataView.objects.filter(case=first).update(at=bj(2026, 11, 1, 10))
    PersonalDataView.objects.filter(case=second).update(at=bj(2026, 11, 20, 15))
    return first, second


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_administrator_sees_who_saw_what_when_and_why(client, people, seen):
    first, second = seen
    body = _login(client, people.admin).get(URL).content.decode()
    assert "登记员小王" in body and "电话回访核实" in body
    assert first.number in body and second.number in body
    assert "身份证号、电话" in body
    assert "张三" not in body  # the viewer names matters, not petitioners
    access = AuditLogAccess.objects.get()  # looking at the log is itself recorded
    assert access.user == people.admin and access.format == "html" and access.rows == 2


@pytest.mark.parametrize("who", ["clerk", "officer", "head", "supervisor", "accused_officer"])
def test_nobody_else_may_open_it(client, people, seen, who):
    response = _login(client, getattr(people, who)).get(URL)
    assert response.status_code == 403
    assert "只有系统管理员" in response.content.decode()
    response = _login(client, getattr(people, who)).get(URL + "?format=xlsx")
    assert response.status_code == 403
    assert not AuditLogAccess.objects.exists()


def test_a_visitor_is_sent_to_log_in(client, seen):
    assert client.get(URL).status_code == 302


def test_filters_by_date_user_and_matter(client, people, seen):
    first, second = seen
    c = _login(client, people.admin)
    only_nov_1 = c.get(URL, {"date_from": "2026-11-01", "date_to": "2026-11-01"}).content.decode()
    assert first.number in only_nov_1 and second.number not in only_nov_1
    by_number = c.get(URL, {"number": second.number}).content.decode()
    assert second.number in by_number and first.number not in by_number
    assert "没有符合条件的记录" in c.get(URL, {"user": "officer"}).content.decode()
    assert "共 2 条" in c.get(URL, {"user": "clerk"}).content.decode()
    assert AuditLogAccess.objects.filter(filters__user="officer").exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2026-13-01"}, "有效的日期"),
        ({"date_from": "2026-11-20", "date_to": "2026-11-01"}, "起始日期不能晚于截止日期"),
        ({"page": "99999999999999999999"}, "共 2 条"),
    ],
)
def test_bad_filters_say_so_in_chinese(client, people, seen, query, message):
    response = _login(client, people.admin).get(URL, query)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_paginated(client, people, county, seen):
    first, _ = seen
    PersonalDataView.objects.bulk_create(
        PersonalDataView(user=people.head, case=first, fields="phone", reason=f"第{i}次")
        for i in range(118)
    )
    c = _login(client, people.admin)
    assert "第 1 / 3 页，共 120 条" in c.get(URL).content.decode()
    last = c.get(URL, {"page": 3}).content.decode()
    assert last.count("<tr><td>") == 20


def test_xlsx_export_lists_the_same_rows_and_is_recorded(client, people, seen):
    first, second = seen
    response = _login(client, people.admin).get(URL, {"user": "clerk", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert [r[4] for r in rows] == [second.number, first.number]  # newest first
    assert rows[0][7] == '=HYPERLINK("x")'  # a formula-like reason stays text
    assert ws.cell(3, 8).data_type == "s"
    access = AuditLogAccess.objects.get()
    assert (access.format, access.rows, access.filters["user"]) == ("xlsx", 2, "clerk")


def test_purge_keeps_at_least_180_days(settings, people, seen):
    first, _ = seen
    now = timezone.now()
    old = PersonalDataView.objects.create(user=people.head, case=first, fields="phone")
    recent = PersonalDataView.objects.create(user=people.head, case=first, fields="phone")
    PersonalDataView.objects.filter(pk=old.pk).update(at=now - dt.timedelta(days=181))
    PersonalDataView.objects.filter(pk=recent.pk).update(at=now - dt.timedelta(days=179))
    settings.XINFANG_AUDIT_RETENTION_DAYS = 30  # never below 180, whatever is set
    purge_expired_audit(now=now)
    assert not PersonalDataView.objects.filter(pk=old.pk).exists()
    assert PersonalDataView.objects.filter(pk=recent.pk).exists()
    settings.XINFANG_AUDIT_RETENTION_DAYS = 365
    PersonalDataView.objects.filter(pk=recent.pk).update(at=now - dt.timedelta(days=300))
    purge_expired_audit(now=now)
    assert PersonalDataView.objects.filter(pk=recent.pk).exists()


def test_a_retention_below_180_days_is_refused_at_start():
    env = dict(os.environ, XINFANG_AUDIT_RETENTION_DAYS="90", DJANGO_SETTINGS_MODULE="")
    done = subprocess.run(
        [sys.executable, "-c", "import xinfang.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "XINFANG_AUDIT_RETENTION_DAYS" in done.stderr and "不小于 180" in done.stderr


def test_the_booking_phone_and_export_download_logs_are_there_too(client, people, county, seen):
    from xinfang.exports.models import ExportDownload, ExportJob
    from xinfang.reception.models import AppointmentSlot, Booking, BookingPhoneView

    first, _ = seen
    slot = AppointmentSlot.objects.create(
        office=county.office,
        date=dt.date(2026, 11, 10),
        start=dt.time(9),
        end=dt.time(10),
        leader_name="张局长",
    )
    booking = Booking.objects.create(
        slot=slot,
        reference="YY20261110",
        name="王五",
        phone="13700001111",
        description="工资",
        case_number=first.number,
    )
    BookingPhoneView.objects.create(user=people.clerk, booking=booking)
    job = ExportJob.objects.create(owner=people.supervisor, kind="ledger")
    ExportDownload.objects.create(job=job, user=people.supervisor, rows=120)
    c = _login(client, people.admin)
    bookings = c.get(URL, {"kind": "booking", "number": first.number}).content.decode()
    assert "YY20261110" in bookings and "登记员小王" in bookings
    assert "王五" not in bookings and "13700001111" not in bookings
    exports = c.get(URL, {"kind": "export"}).content.decode()
    assert f"导出任务 {job.pk}" in exports and "120 行" in exports
    assert "共 1 条" in exports
    assert c.get(URL, {"kind": "nonsense"}).status_code == 200  # a form error, not a 500
    kinds = AuditLogAccess.objects.order_by("pk").values_list("filters__kind", flat=True)
    assert list(kinds) == ["booking", "export", "case"]  # nonsense: the default log


def test_the_audit_log_of_the_audit_log_is_read_only_in_the_admin(client, people, seen):
    c = _login(client, people.admin)
    c.get(URL)
    page = c.get("/admin/ops/auditlogaccess/")
    assert page.status_code == 200 and "admin" in page.content.decode()
    access = AuditLogAccess.objects.get()
    assert (
        c.post(f"/admin/ops/auditlogaccess/{access.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert AuditLogAccess.objects.filter(pk=access.pk).exists()
