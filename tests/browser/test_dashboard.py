"""统计看板 in a real browser: the charts draw, a click on a bar or on the table opens the matters."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.factories import PASSWORD, register
from xinfang.cases import services as s
from xinfang.cases.models import Channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")


@pytest.fixture
def matters(county, people):
    now = timezone.now()
    for days, channel, category in (
        (40, Channel.VISIT, county.wages),
        (35, Channel.VISIT, county.wages),
        (20, Channel.LETTER, county.schooling),
        (5, Channel.PHONE, county.wages),
    ):
        case = register(
            county, people.clerk, now - dt.timedelta(days=days), channel=channel, category=category
        )
        s.case_route(
            case=case, by=people.clerk, unit=county.hr, at=now - dt.timedelta(days=days - 1)
        )


def test_charts_draw_and_a_click_opens_the_matters(page, live_server, matters, people):
    problems, scripts = [], []
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the site has none
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response", lambda r: scripts.append((r.url, r.status)) if r.url.endswith(".js") else None
    )
    login(page, live_server, "supervisor")
    page.click("header nav >> text=看板")
    page.wait_for_url("**/reports/dashboard/")
    for name in ("trend", "channel", "category", "place", "overdue"):
        canvas = page.wait_for_selector(f"#panel-{name} .dash-chart canvas")
        box = canvas.bounding_box()
        assert box and box["width"] > 150 and box["height"] > 150, name
    echarts = [(url, status) for url, status in scripts if "echarts" in url]
    assert echarts == [(f"{live_server.url}/static/vendor/echarts/echarts.min.js", 200)]
    page.screenshot(path="var/screenshot-dashboard.png", full_page=True)

    # A click on the 拖欠工资 bar (3 matters) opens exactly those matters.
    point = page.evaluate("""() => {
        const el = document.querySelector('#panel-category .dash-chart');
        const chart = echarts.getInstanceByDom(el);
        const labels = chart.getOption().yAxis[0].data;
        const i = labels.indexOf('劳动和社会保障/拖欠工资');
        const end = chart.convertToPixel({seriesIndex: 0}, [3, i]);
        const start = chart.convertToPixel({seriesIndex: 0}, [0, i]);
        const r = el.getBoundingClientRect();
        return {x: r.left + (start[0] + end[0]) / 2, y: r.top + end[1]};
    }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/reports/dashboard/matters/**")
    assert "拖欠工资" in page.inner_text("h1") and "（3 件）" in page.inner_text("h1")
    assert page.locator("table.dash-matters tbody tr").count() == 3

    # The table beside the channel chart links to the same lists.
    page.go_back()
    page.wait_for_selector("#panel-channel .dash-chart canvas")
    page.click("#panel-channel table >> text=来访 >> xpath=.. >> a")
    page.wait_for_url("**/reports/dashboard/matters/**")
    assert re.search(r"来访.*（2 件）", page.inner_text("h1"))
    assert problems == []


def test_without_javascript_the_tables_remain(browser, live_server, matters):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, live_server, "supervisor")
        page.goto(f"{live_server.url}/reports/dashboard/")
        assert page.locator("#panel-channel table tbody tr").count() == 3
        assert not page.locator("#panel-channel .dash-chart").is_visible()
    finally:
        context.close()
