"""A large ledger export in a real browser: the queue's export link becomes a job, its page
refreshes itself while the worker writes, and offers the file when done."""

import pytest

from tests.browser.test_staff_journey import login
from tests.factories import bj, register
from xinfang.exports import services
from xinfang.exports.models import ExportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_large_export_shows_progress_then_the_download(
    page, live_server, county, people, settings, tmp_path, monkeypatch
):
    settings.XINFANG_EXPORT_DIR = tmp_path
    monkeypatch.setattr(services, "DIRECT_MAX", 2)
    for i in range(3):
        register(county, people.clerk, bj(2026, 3, 2, 9), title=f"欠薪{i}")
    login(page, live_server, "clerk")
    page.goto(f"{live_server.url}/cases/export.xlsx")  # what the queue's 导出 link asks for
    page.wait_for_url("**/exports/*/")
    assert "排队中" in page.content() and "已转为后台导出" in page.content()
    job = ExportJob.objects.get()
    services.run_pending("browser-test")  # the worker's pass
    page.wait_for_selector("text=下载 Excel 文件", timeout=10000)  # the page reloaded by itself
    assert "3 / 3 行" in page.content()
    with page.expect_download() as download:
        page.click("text=下载 Excel 文件")
    assert download.value.suggested_filename.endswith(".xlsx")
    job.refresh_from_db()
    assert job.downloads.count() == 1
