"""The pages that use JavaScript still work under the Content-Security-Policy (script-src 'self':
no inline script, no on*= attribute), and chromium reports no violation on any of them.

Each script is exercised, not just loaded: the case page's 智能分派 panel (routing/case_panel.js)
loads and lists its suggestions; the registration form's 建议分类 button (register_panel.js)
answers; the screening ledger's status select submits itself (xinfang/site.js); the dashboard
draws its charts (ECharts); the citizen portal opens; the API's Swagger UI lists its operations;
the admin's change list and add form open.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import PASSWORD, bj, register
from tests.routing.helpers import trained_model
from xinfang.backlog import screening
from xinfang.backlog.screening import EntryStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


@pytest.fixture
def watched(browser):
    """A tab with the CSP on (tests/browser's `page` bypasses it for Playwright's eval-based
    helpers), collecting every violation it reports (console and event)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    found: list[str] = []
    tab.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    tab.add_init_script(WATCH)
    tab.csp_found = found
    yield tab
    context.close()


def _violations(tab) -> list[str]:
    return [*tab.csp_found, *tab.evaluate("window.__csp || []")]


def test_staff_pages_and_the_portal_work_under_the_csp(
    watched, live_server, county, people, settings, tmp_path
):
    tab = watched
    settings.XINFANG_ROUTING_MODEL = str(trained_model(tmp_path / "model.joblib"))
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 2, 9),
        category=None,
        title="反映拖欠工资问题",
        content="工地老板拖欠工资三个月，工人讨薪无门。",
    )
    round_ = screening.round_create(
        by=people.clerk,
        name="十一月排查",
        period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 27),
    )
    entry = screening.entry_create(
        round_=round_,
        by=people.clerk,
        data=screening.EntryData(issue="小区加装电梯意见分歧", place=county.place),
    )
    seen: dict[str, list[str]] = {}

    # the citizen portal, before logging in
    tab.goto(f"{live_server.url}/portal/")
    tab.goto(f"{live_server.url}/portal/submit/")
    tab.wait_for_selector("form")
    seen["portal"] = _violations(tab)

    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", "clerk")
    tab.fill("#id_password", PASSWORD)
    tab.click("form button[type=submit]")
    tab.wait_for_url("**/cases/**")

    # the case tab: its panel is a fragment that case_panel.js loads and wires
    tab.goto(f"{live_server.url}/cases/{case.pk}/")
    rows = tab.locator("#routing-suggestions .routing-suggestion")
    rows.first.wait_for()
    assert rows.count() == 3
    seen["case"] = _violations(tab)

    # the registration form: 建议分类 posts the text and shows what comes back
    tab.goto(f"{live_server.url}/cases/new/")
    tab.fill("#id_title", "反映拖欠工资问题")
    tab.fill("#id_content", "工地老板拖欠工资三个月，工人讨薪无门。")
    tab.click("#routing-suggest-button")
    tab.locator("#routing-register-result p").first.wait_for()
    seen["register"] = _violations(tab)

    # the screening ledger: the status select submits its form (site.js, no onchange=)
    tab.goto(f"{live_server.url}/backlog/screening/{round_.pk}/")
    with tab.expect_navigation():
        tab.select_option("select[name=status]", EntryStatus.IN_PROGRESS)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.IN_PROGRESS
    seen["screening"] = _violations(tab)

    # the dashboard draws its charts with the vendored ECharts
    tab.context.clear_cookies()
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", "supervisor")
    tab.fill("#id_password", PASSWORD)
    tab.click("form button[type=submit]")
    tab.wait_for_url("**/cases/**")
    tab.goto(f"{live_server.url}/reports/dashboard/?from=2026-01-01&to=2026-12-31")
    tab.locator("canvas, svg").first.wait_for()
    seen["dashboard"] = _violations(tab)

    # the API's Swagger UI (django-ninja's own static files) draws the operations
    tab.goto(f"{live_server.url}/api/docs")
    tab.locator(".opblock").first.wait_for()
    seen["api docs"] = _violations(tab)

    # the admin (Django's own scripts): a change list and an add form
    tab.context.clear_cookies()
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", "admin")
    tab.fill("#id_password", PASSWORD)
    tab.click("form button[type=submit]")
    tab.wait_for_load_state()
    tab.goto(f"{live_server.url}/admin/orgs/unit/")
    tab.locator("#result_list").wait_for()
    tab.goto(f"{live_server.url}/admin/orgs/unit/add/")
    tab.locator("form").first.wait_for()
    seen["admin"] = _violations(tab)

    assert not {name: v for name, v in seen.items() if v}, seen
