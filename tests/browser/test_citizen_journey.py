"""A citizen on a phone: submit online, follow with number and code, rate, ask for review.

Also: a wrong code reveals nothing, and a review window that has closed offers no form.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import register
from xinfang.cases import services
from xinfang.cases.models import Case, Outcome, State
from xinfang.notify.models import Outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, settings, tmp_path):
    """A phone-sized browser page."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def follow(page, base, number, code):
    page.goto(f"{base}/portal/track/")
    page.fill("#id_number", number)
    page.fill("#id_code", code)
    page.click("form button[type=submit]")


def test_submit_follow_rate_and_ask_for_review(phone, live_server, county, people):
    page, base = phone, live_server.url
    page.goto(f"{base}/portal/")
    assert fits_the_screen(page)
    page.click("main a.btn:has-text('我要信访')")
    page.select_option("#id_kind", "appeal")
    page.fill("#id_title", "小区门口道路破损")
    page.fill("#id_content", "东湖街道某小区门口道路破损半年，雨天积水，请求尽快修复。")
    page.select_option("#id_place", str(county.town_place.pk))
    page.fill("#id_name", "李四")
    page.fill("#id_phone", "13812345678")
    # Without consent nothing is saved, and the page says why.
    page.click("button[type=submit]")
    page.wait_for_selector("text=请阅读并勾选同意个人信息使用说明后再提交")
    assert not Case.objects.exists()
    page.check("#id_consent")
    page.click("button[type=submit]")
    page.wait_for_selector("#query-code")
    assert fits_the_screen(page)
    number = page.inner_text("#case-number").strip()
    code = page.inner_text("#query-code").strip()
    case = Case.objects.get(number=number)
    assert Outbox.objects.filter(case=case, kind="submission", body__contains=code).exists()
    page.reload()
    page.wait_for_selector("text=回执已显示过")
    assert code not in page.content()

    # A wrong code reveals nothing.
    follow(page, base, number, "WRONGCODE2")
    page.wait_for_selector("text=事项编号或查询码不正确")

    follow(page, base, number, code)
    page.wait_for_url("**/portal/case/")
    page.wait_for_selector("text=事项已登记")
    assert "李四" not in page.content() and "13812345678" not in page.content()

    # The office does its work (through the services, as the staff pages would).
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    case = services.case_accept(case=case, by=people.officer)
    services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.EXPLAINED,
        text="该路段已列入年度维修计划，将于下月施工。",
    )
    page.reload()
    page.wait_for_selector("text=该路段已列入年度维修计划")
    assert page.is_visible("text=处理意见书")
    last_day = timezone.localtime(
        Case.objects.get(pk=case.pk).due_at - dt.timedelta(seconds=1)
    ).date()
    assert (
        f"申请复查的最后一日：{last_day.year}年{last_day.month}月{last_day.day}日" in page.content()
    )
    assert fits_the_screen(page)

    page.check("input[name=rating][value=unsatisfied]")
    page.click("#rate-form button[type=submit]")
    page.wait_for_selector("text=评价已提交")
    assert page.locator("#rate-form").count() == 0

    page.fill("#review-form textarea[name=reason]", "维修时间太晚，请求上级复查。")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("text=复查申请已提交")
    page.wait_for_selector("#case-state:has-text('复查中')")
    page.screenshot(path="var/screenshot-portal.png", full_page=True)
    case.refresh_from_db()
    assert case.state == State.REVIEWING and case.rating == "unsatisfied"


def test_a_closed_window_offers_no_form(phone, live_server, county, people):
    now = timezone.now()
    case = register(county, people.clerk, now - dt.timedelta(days=70))
    code = services.case_issue_query_code(case=case)
    case = services.case_route(
        case=case, by=people.clerk, unit=county.hr, at=now - dt.timedelta(days=69)
    )
    case = services.case_accept(case=case, by=people.officer, at=now - dt.timedelta(days=68))
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="已解决。",
        at=now - dt.timedelta(days=60),
    )
    last_day = timezone.localtime(case.due_at - dt.timedelta(seconds=1)).date()

    follow(phone, live_server.url, case.number, code)
    phone.wait_for_selector("#window-closed")
    assert phone.locator("#review-form").count() == 0
    assert (
        f"申请复查的期限已于{last_day.year}年{last_day.month}月{last_day.day}日届满"
        in phone.content()
    )
