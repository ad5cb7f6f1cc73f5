"""The clerk sees three suggestions on a registered matter, takes one with a click, and routes it."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, bj, register
from tests.routing.helpers import trained_model
from xinfang.cases.models import Case, State
from xinfang.routing.models import RoutingSuggestion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_clerk_takes_a_suggestion_with_a_click(
    page, live_server, county, people, settings, tmp_path
):
    settings.XINFANG_ROUTING_MODEL = str(trained_model(tmp_path / "model.joblib"))
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 2, 9),
        category=None,
        title="反映拖欠工资问题",
        content="工地老板拖欠工资三个月，工人讨薪无门。",
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    rows = page.locator("#routing-suggestions .routing-suggestion")
    rows.first.wait_for()  # the panel is a fragment the page loads after it opens
    assert rows.count() == 3
    assert "劳动和社会保障" in rows.first.inner_text()
    assert "A1区人力资源和社会保障局" in rows.first.inner_text()

    page.click("details[data-action=route] summary")
    page.select_option("#id_route-unit", str(county.edu.pk))  # something else first
    rows.first.locator("button.routing-take").click()
    page.wait_for_function(f"document.getElementById('id_route-unit').value === '{county.hr.pk}'")
    assert "已采用" in page.inner_text("#routing-status")
    row = RoutingSuggestion.objects.get(case=case)
    assert (
        row.clicked_label == "劳动和社会保障" and row.taken_top1 and row.decided_by == people.clerk
    )

    page.click("button[name=submit-route]")
    page.wait_for_selector("text=已完成：转送/交办")
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.ROUTED and case.lead_unit == county.hr
    row.refresh_from_db()
    assert row.chosen_unit == county.hr and row.chosen_label == "劳动和社会保障"
