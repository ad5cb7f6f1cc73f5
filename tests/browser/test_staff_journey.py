"""A clerk registers a matter, routes it; the officer accepts and replies: all in a real browser."""

import pytest

from tests.factories import PASSWORD
from xinfang.cases.models import Case, State

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")


def logout(page):
    page.click("header .who button")


def test_register_route_accept_reply(page, live_server, county, people):
    login(page, live_server, "clerk")
    page.click("text=登记")
    page.select_option("#id_channel", "visit")
    page.select_option("#id_kind", "appeal")
    page.fill("#id_title", "建筑公司拖欠农民工工资")
    page.fill("#id_content", "本人在某工地务工，公司欠薪三个月共计两万元，多次讨要无果。")
    page.select_option("#id_place", str(county.place.pk))
    page.select_option("#id_category", str(county.wages.pk))
    page.fill("#id_petitioner_name", "张三")
    page.fill("#id_petitioner_id_number", "11010519491231002X")
    page.fill("#id_petitioner_phone", "13812345678")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=已登记，事项编号")
    case = Case.objects.get()

    # The dispatch catalogue pre-selects the labour bureau for 拖欠工资.
    page.click("details[data-action=route] summary")
    assert page.input_value("#id_route-unit") == str(county.hr.pk)
    page.click("button[name=submit-route]")
    page.wait_for_selector("text=已完成：转送/交办")
    logout(page)

    login(page, live_server, "officer")
    page.goto(f"{live_server.url}/cases/")
    page.click(f"text={case.number}")
    page.click("details[data-action=accept] summary")
    page.click("button[name=submit-accept]")
    page.wait_for_selector("text=已完成：受理")
    page.click("details[data-action=reply] summary")
    page.check("input[name=reply-outcome][value=supported]")
    page.fill("#id_reply-text", "经调查，已责令该公司于十日内足额支付拖欠工资。")
    page.click("button[name=submit-reply]")
    page.wait_for_selector("text=已完成：答复")
    page.screenshot(path="var/screenshot-case.png", full_page=True)

    case.refresh_from_db()
    assert case.state == State.REPLIED and case.outcome == "supported"
    assert list(case.events.values_list("kind", flat=True)) == [
        "case.registered",
        "case.routed",
        "case.accepted",
        "case.replied",
    ]


def test_supervisor_opens_the_overdue_list_and_urges(page, live_server, county, people):
    from tests.factories import bj, register
    from xinfang.cases import services

    late = register(county, people.clerk, bj(2026, 9, 1, 9), title="拖欠工资迟迟未受理")
    services.case_route(case=late, by=people.clerk, unit=county.hr, at=bj(2026, 9, 2, 9))
    fresh = register(county, people.clerk, bj(2026, 11, 27, 9), title="新登记事项")
    login(page, live_server, "supervisor")
    page.click("text=超期事项")
    page.wait_for_selector("table.queue")
    body = page.inner_text("table.queue")
    assert late.number in body and fresh.number not in body and "已超期" in body
    page.click(f"text={late.number}")
    page.click("details[data-action=urge] summary")
    page.fill("#id_urge-note", "请于三日内受理并反馈")
    page.click("button[name=submit-urge]")
    page.wait_for_selector("text=已完成：催办")
    assert late.events.filter(kind="case.urged").count() == 1
