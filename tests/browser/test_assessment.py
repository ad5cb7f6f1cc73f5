"""考核 in a real browser: the supervisor computes, reviews and publishes; the unit's officer then
sees the ranking and opens its accountability record, down to the overdue matter."""

from decimal import Decimal

import pytest

from tests.factories import PASSWORD, bj, register
from xinfang.assessment.models import Adjustment, Indicator, Scheme
from xinfang.cases import services as s
from xinfang.cases.models import Outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")


def test_compute_review_publish_then_the_unit_reads_its_record(page, live_server, county, people):
    scheme = Scheme.objects.create(name="浏览器测试方案", active=True)
    Indicator.objects.create(scheme=scheme, rate="complete_on_time", weight=Decimal(100))
    Adjustment.objects.create(scheme=scheme, item="overdue_open", points=Decimal(2))
    done = register(county, people.clerk, bj(2026, 1, 5, 9), title="按期答复的事项")
    late = register(county, people.clerk, bj(2026, 1, 5, 9), title="逾期未办结的事项")
    for case in (done, late):
        s.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 1, 6, 10))
        s.case_accept(case=case, by=people.officer, at=bj(2026, 1, 7, 10))
    s.case_reply(
        case=done,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="已解决。",
        at=bj(2026, 1, 20, 10),
    )

    login(page, live_server, "supervisor")
    page.click("header nav >> text=考核")
    page.fill("input[name=from]", "2026-01-01")
    page.fill("input[name=to]", "2026-03-31")
    page.click("text=计算考核结果（草稿）")
    page.wait_for_selector("text=考核结果已计算（草稿）")
    row = page.locator("tr", has_text=county.hr.name)
    assert "98.00" in row.inner_text()  # 100 − 1 overdue × 2
    page.click("button:has-text('复核')")
    page.wait_for_selector("text=已复核")
    page.click("button:has-text('发布')")
    page.wait_for_selector("text=已发布，各单位可以查看排名和本单位明细")
    page.click("header .who button")

    login(page, live_server, "officer")
    page.goto(f"{live_server.url}/assessment/")
    page.click(f"text={county.county.name}")
    page.locator("tr", has_text=county.hr.name).locator("text=责任追究台账").click()
    page.wait_for_selector("h2:has-text('逾期未办结（1）')")
    page.click(f"text={late.number}")
    page.wait_for_selector(f"text={late.title}")
    assert f"/cases/{late.pk}/" in page.url  # the matter's own page
