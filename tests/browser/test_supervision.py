"""督查督办 end to end in a real browser: a supervisor issues a 督办单, the unit's officer finds it
and answers in writing, the supervisor closes it (or sends it back to be redone); a late order is
escalated by the worker's step; 催办 marks the urged unit's queue."""

from __future__ import annotations

import pytest
import time_machine

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services
from xinfang.supervision import services as sup
from xinfang.supervision.models import SupervisionOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = SupervisionOrder.Status


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")


def logout(page):
    page.click("header .who button")


def accepted(county, people, title):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), title=title)
    services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    return services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 3, 9))


def open_order(page, live_server, tab: str, number: str):
    """From the navigation: 督查督办 → a tab → the order on matter `number`."""
    page.goto(f"{live_server.url}/cases/")
    page.click("nav >> text=督查督办")
    page.click(f".tabs >> text={tab}")
    row = page.locator("table.queue tr", has_text=number)
    row.locator("td:nth-child(2) a").click()
    page.wait_for_selector("h1:has-text('督办单')")


def test_issue_feedback_close_and_a_second_order_redone(page, live_server, county, people):
    first = accepted(county, people, "拖欠工资督办事项")

    # The supervisor issues the order from the matter's page.
    login(page, live_server, "supervisor")
    page.goto(f"{live_server.url}/cases/{first.pk}/")
    page.click("details[data-action=supervise] summary")
    assert page.input_value("#id_unit") == str(county.hr.pk)  # the lead unit by default
    page.fill("#id_requirements", "查明欠薪数额，书面反馈处理进展")
    page.fill("#id_deadline", "2030-01-07")
    page.click("details[data-action=supervise] button[type=submit]")
    page.wait_for_selector("text=已下达督办单")
    box = page.inner_text("#supervision-box")
    assert "A1区人力资源和社会保障局" in box and "待反馈" in box and "2030-01-07 24:00" in box
    logout(page)

    # The officer finds it in 督查督办 and answers in writing.
    login(page, live_server, "officer")
    page.click("nav >> text=督查督办")
    assert "待反馈的督办单" in page.inner_text("h1")
    assert first.number in page.inner_text("table.queue")
    open_order(page, live_server, "待反馈", first.number)
    assert "查明欠薪数额，书面反馈处理进展" in page.inner_text("main")
    page.fill("#id_feedback", "已核实欠薪两万元，已责令企业十日内支付")
    page.click("text=提交反馈")
    page.wait_for_selector("text=已反馈督办单")
    assert "已反馈" in page.inner_text("h1")
    assert "提交反馈" not in page.inner_text("main")  # answered once; the form is gone
    logout(page)

    # The supervisor reads the answer under 待审核 and closes the order.
    login(page, live_server, "supervisor")
    open_order(page, live_server, "待审核", first.number)
    assert "已核实欠薪两万元" in page.inner_text("main")
    page.select_option("#id_decision", "close")
    page.fill("#id_note", "反馈属实，同意办结")
    page.click("text=确认")
    page.wait_for_selector("text=督办单已办结")
    assert "已办结" in page.inner_text("h1")
    assert "反馈属实，同意办结" in page.inner_text("main")
    page.click("text=« 督办单列表")
    page.click(".tabs >> text=已办结")
    assert first.number in page.inner_text("table.queue")
    logout(page)
    assert SupervisionOrder.objects.get(case=first).status == S.CLOSED

    # A second order: the first answer is sent back (退回重办), answered again, then closed.
    second = accepted(county, people, "二次督办事项")
    sup.order_issue(
        case=second,
        by=people.supervisor,
        requirements="说明企业支付进度",
        deadline_date=bj(2030, 1, 7).date(),
    )
    login(page, live_server, "officer")
    open_order(page, live_server, "待反馈", second.number)
    page.fill("#id_feedback", "正在协调")
    page.click("text=提交反馈")
    page.wait_for_selector("text=已反馈督办单")
    logout(page)

    login(page, live_server, "supervisor")
    open_order(page, live_server, "待审核", second.number)
    page.select_option("#id_decision", "redo")
    page.fill("#id_note", "反馈过于简略，请写明已支付金额")
    page.fill("#id_deadline", "2030-01-14")
    page.click("text=确认")
    page.wait_for_selector("text=已退回重办")
    main = page.inner_text("main")
    assert "待反馈" in page.inner_text("h1")
    assert (
        "1 次" in main and "反馈过于简略，请写明已支付金额" in main and "2030-01-14 24:00" in main
    )
    logout(page)

    login(page, live_server, "officer")
    open_order(page, live_server, "待反馈", second.number)
    assert "反馈过于简略" in page.inner_text("main")  # the officer sees why it came back
    page.fill("#id_feedback", "企业已支付一万元，余款月底前付清")
    page.click("text=提交反馈")
    page.wait_for_selector("text=已反馈督办单")
    logout(page)

    login(page, live_server, "supervisor")
    open_order(page, live_server, "待审核", second.number)
    page.select_option("#id_decision", "close")
    page.fill("#id_note", "同意办结")
    page.click("text=确认")
    page.wait_for_selector("text=督办单已办结")
    order = SupervisionOrder.objects.get(case=second)
    assert order.status == S.CLOSED and order.redo_count == 1


def test_another_unit_never_sees_the_order(page, live_server, county, people):
    case = accepted(county, people, "他单位不可见")
    sup.order_issue(
        case=case, by=people.supervisor, requirements="核实", deadline_date=bj(2030, 1, 7).date()
    )
    for username in ("outsider", "accused"):
        login(page, live_server, username)
        page.click("nav >> text=督查督办")
        assert "没有督办单" in page.inner_text("table.queue")
        assert case.number not in page.content()
        logout(page)


def test_a_late_order_is_escalated_by_the_worker_step(page, live_server, county, people):
    case = accepted(county, people, "逾期督办事项")
    order = sup.order_issue(
        case=case,
        by=people.supervisor,
        requirements="三日内书面反馈",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    with time_machine.travel(bj(2026, 11, 9, 23, 59), tick=False):
        assert sup.escalate_overdue() == 0  # the last day runs to 24:00
    with time_machine.travel(bj(2026, 11, 10, 0, 5), tick=False):
        assert sup.escalate_overdue() == 1

    login(page, live_server, "supervisor")
    open_order(page, live_server, "逾期未反馈", case.number)
    heading, main = page.inner_text("h1"), page.inner_text("main")
    assert "待反馈" in heading and "逾期未反馈" in heading
    assert "逾期升级" in main and "2026-11-10 00:05" in main
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    box = page.inner_text("#supervision-box")
    assert "逾期" in box
    assert "已逾期升级" in page.inner_text("main")  # on the matter's timeline
    logout(page)

    # The late answer is still taken, and the order stays marked as once overdue.
    login(page, live_server, "officer")
    open_order(page, live_server, "逾期未反馈", case.number)
    page.fill("#id_feedback", "迟到的反馈：已督促企业支付")
    page.click("text=提交反馈")
    page.wait_for_selector("text=已反馈督办单")
    page.click("text=« 督办单列表")
    page.click(".tabs >> text=待审核")
    assert "曾逾期" in page.inner_text("table.queue")
    order.refresh_from_db()
    assert order.status == S.ANSWERED and order.escalated_at == bj(2026, 11, 10, 0, 5)


def test_urging_marks_the_urged_units_queue(page, live_server, county, people):
    case = accepted(county, people, "被催办事项")
    quiet = accepted(county, people, "未催办的事项")
    login(page, live_server, "supervisor")
    for note in ("请于本周内答复", "再次催办：请立即答复"):
        page.goto(f"{live_server.url}/cases/{case.pk}/")
        page.click("details[data-action=urge] summary")
        page.fill("#id_urge-note", note)
        page.click("button[name=submit-urge]")
        page.wait_for_selector("text=已完成：催办")
    logout(page)

    login(page, live_server, "officer")
    page.goto(f"{live_server.url}/cases/")
    urged = page.inner_text(f"table.queue tr:has-text('{case.number}')")
    assert "被催办 2次" in urged
    assert "被催办" not in page.inner_text(f"table.queue tr:has-text('{quiet.number}')")
