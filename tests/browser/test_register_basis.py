"""On the registration form, 建议分类 says where each suggested sub-category and unit come from
(依据): the office's own similar confirmed matters, or the dispatch catalogue."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, bj, register
from tests.routing.helpers import trained_model
from xinfang.cases import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAGES = ("工地老板拖欠工资三个月", "东湖工地老板拖欠工资三个月，工人多次讨要未果，请求帮助追讨。")


def test_the_registration_panel_shows_the_basis_of_each_suggestion(
    page, live_server, county, people, settings, tmp_path
):
    settings.XINFANG_ROUTING_MODEL = str(trained_model(tmp_path / "model.joblib"))
    for day in (1, 2):  # two confirmed routes of the same matter: history speaks for 劳动和社会保障
        past = register(
            county,
            people.clerk,
            bj(2026, 10, day, 9),
            title=WAGES[0],
            content=WAGES[1],
            place=county.town_place,
            category=county.wages,
        )
        services.case_route(case=past, by=people.clerk, unit=county.hr, at=bj(2026, 10, day, 10))
        services.case_accept(case=past, by=None, at=bj(2026, 10, day, 11))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/cases/**")
    page.goto(f"{live_server.url}/cases/new/")
    page.fill("#id_title", WAGES[0])
    page.fill("#id_content", WAGES[1])
    page.select_option("#id_place", str(county.town_place.pk))
    page.click("#routing-suggest-button")

    rows = page.locator("#routing-register-result .routing-suggestion")
    rows.first.wait_for()
    assert rows.count() == 3
    first = rows.first.inner_text()
    assert "劳动和社会保障" in first and "A1区人力资源和社会保障局" in first
    assert "依据：相似事项 2 件" in first
    others = [rows.nth(i).inner_text() for i in (1, 2)]
    assert all("依据：派单目录" in text for text in others), others
