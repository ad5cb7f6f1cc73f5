"""A clerk builds a month's reception rota, leaves a gap, and sees the warning: in a real browser."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import PASSWORD, make_user
from xinfang.orgs.models import Role
from xinfang.reception import selectors
from xinfang.reception.models import RotaDay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_month_with_a_gap_and_see_the_warning(page, live_server, county, people):
    director = make_user("director", county.office, Role.HEAD, display_name="张局长")
    deputy = make_user("deputy", county.office, Role.HEAD, display_name="李副局长")
    today = selectors.today()
    ahead = selectors.next_working_days(today, 10)
    gap = ahead[2]

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")

    page.goto(f"{live_server.url}/reception/")
    page.fill("#id_start", today.isoformat())
    page.fill("#id_end", (today + dt.timedelta(days=40)).isoformat())
    page.check(f"input[name=leaders][value='{director.pk}']")
    page.check(f"input[name=leaders][value='{deputy.pk}']")
    page.click("button[name=fill]")
    page.wait_for_selector("text=已排班")
    assert "均已安排接访领导" in page.inner_text("#rota-warnings")
    assert RotaDay.objects.filter(date__gte=today).count() == len(
        selectors.working_days(today, today + dt.timedelta(days=40))
    )

    # Clear one working day: a gap three working days ahead.
    page.goto(f"{live_server.url}/reception/day/{county.office.code}/{gap.isoformat()}/")
    page.check("#id_clear")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=已保存")
    warning = page.locator(f"#rota-warnings li[data-date='{gap.isoformat()}']")
    assert "未安排接访领导" in warning.inner_text()
    assert "待安排" in page.inner_text(f"td[data-date='{gap.isoformat()}']")
    page.screenshot(path="var/screenshot-reception-rota.png", full_page=True)
