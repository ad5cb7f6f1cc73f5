"""A supervisor flags a backlog case, names its owner, plans, meets, hears, and closes it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import PASSWORD, register
from xinfang.backlog.models import BacklogCase, Status
from xinfang.cases import services as case_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases/**")


def open_action(page, name):
    page.click(f"details[data-action={name}] summary")


def test_flag_plan_meet_hear_close(page, live_server, county, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    at = timezone.now() - dt.timedelta(days=200)
    case = register(county, people.clerk, at)
    case = case_services.case_route(
        case=case, by=people.clerk, unit=county.hr, at=at + dt.timedelta(days=1)
    )
    case_services.case_accept(case=case, by=people.officer, at=at + dt.timedelta(days=2))
    today = timezone.localdate().isoformat()

    login(page, live_server, "supervisor")
    page.goto(f"{live_server.url}/backlog/")
    page.fill("#id_case_number", case.number)
    page.fill("#id_reason", "久拖未决，多次信访")
    page.click("button[name=submit-flag]")
    page.wait_for_selector("text=已认定为积案")

    open_action(page, "owner")
    page.select_option("#id_owner-owner", str(people.head.pk))
    page.click("button[name=submit-owner]")
    page.wait_for_selector("text=已指定包案领导")
    assert "人社局张局长" in page.inner_text("[data-owner]")

    open_action(page, "plan")
    page.select_option("#id_plan-lead_unit", str(county.hr.pk))
    page.select_option("#id_plan-supporting_units", [str(county.town.pk)])
    page.fill("#id_plan-path", "核实欠薪数额，责令企业限期支付；企业无力支付的由应急周转金先行垫付")
    page.fill("#id_plan-funds_source", "区欠薪应急周转金")
    page.fill("#id_plan-funds_amount", "20000")
    page.fill("#id_plan-deadline_days", "60")
    page.click("button[name=submit-plan]")
    page.wait_for_selector("text=已保存化解方案第1版")

    open_action(page, "meeting")
    page.select_option("#id_meeting-kind", "coordination")
    page.select_option("#id_meeting-attendee_units", [str(county.hr.pk), str(county.town.pk)])
    page.fill("#id_meeting-decisions", "人社局三个工作日内核实欠薪数额")
    page.fill("#id_meeting-action1_description", "核实欠薪数额")
    page.select_option("#id_meeting-action1_owner", str(people.officer.pk))
    page.select_option("#id_meeting-action1_unit", str(county.hr.pk))
    page.fill("#id_meeting-action1_due_days", "3")
    page.click("button[name=submit-meeting]")
    page.wait_for_selector("text=已记录协调会")

    open_action(page, "hearing")
    page.fill("#id_hearing-place", "区信访局听证室")
    page.fill("#id_hearing-p_deputy", "李代表")
    page.fill("#id_hearing-p_committee", "陈委员")
    page.fill("#id_hearing-p_lawyer", "王律师")
    page.fill("#id_hearing-minutes", "各方陈述意见")
    page.fill("#id_hearing-findings", "诉求合理")
    page.fill("#id_hearing-decision", "支持补发工资")
    page.click("button[name=submit-hearing]")
    page.wait_for_selector("text=已记录听证评议")

    page.click("button[name=submit-close]")
    page.wait_for_selector("text=不能化解销号")

    open_action(page, "executed")
    page.fill("#id_executed-on", today)
    page.click("button[name=submit-executed]")
    page.wait_for_selector("text=已标记方案落实")
    open_action(page, "acceptance")
    page.select_option("#id_acceptance-kind", "signed_statement")
    page.fill("#id_acceptance-note", "信访人签字承诺息诉罢访")
    page.set_input_files(
        "#id_acceptance-evidence",
        files=[
            {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 signed"}
        ],
    )
    page.click("button[name=submit-acceptance]")
    page.wait_for_selector("text=已记录息诉罢访")
    page.click("button[name=submit-close]")
    page.wait_for_selector("text=已化解销号")
    page.screenshot(path="var/screenshot-backlog.png", full_page=True)

    backlog = BacklogCase.objects.get()
    assert backlog.status == Status.CLOSED and backlog.owner == people.head
    assert backlog.plans.get().funds_amount == 20000
    assert backlog.hearings.get().participants.count() == 3
    assert backlog.meetings.get().actions.count() == 1
