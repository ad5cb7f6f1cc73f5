"""The case page's 答复参考 panel, the draft check endpoint and the monthly report, as users."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from tests.answers.conftest import accepted, replied
from tests.factories import bj, make_user, petitioner
from xinfang.answers import selectors, services
from xinfang.answers.models import ReplyEntry
from xinfang.cases.models import Outcome
from xinfang.orgs.models import Role

GOOD = (
    "经查，某建筑公司拖欠您工资属实。区人社局已于2026年10月8日依据《保障农民工工资支付条例》"
    "第三十条责令其10个工作日内足额支付。"
)


@pytest.fixture
def matter(county, people):
    """An accepted wage matter of 人社局, and an earlier reply of another person's matter."""
    replied(
        county,
        people,
        text=GOOD + "联系电话13800138000。",
        petitioner=petitioner(name="李秘密", phone="13800138000"),
        content="我是李秘密，电话13800138000，建筑公司拖欠工资三个月未发。",
    )
    return accepted(county, people, title="建筑公司拖欠农民工工资", content="公司拖欠工资半年。")


def test_the_case_page_offers_the_panel_to_who_may_reply(client, people, matter):
    client.force_login(people.officer)
    page = client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    assert reverse("answers:case_panel", args=[matter.pk]) in page
    assert "answers/panel.js" in page
    client.force_login(people.clerk)  # sees the matter, may not reply
    page = client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    assert reverse("answers:case_panel", args=[matter.pk]) not in page


def test_the_panel_lists_similar_replies_masked(client, people, matter):
    client.force_login(people.officer)
    count = ReplyEntry.objects.count()
    response = client.get(reverse("answers:case_panel", args=[matter.pk]), {"fragment": "1"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "拖欠工资" in text and "检查草稿" in text
    assert "李秘密" not in text and "13800138000" not in text
    assert "138****8000" in text
    assert ReplyEntry.objects.count() == count  # a GET writes nothing


@pytest.mark.parametrize("persona", ["clerk", "outsider", "supervisor", "accused_officer"])
def test_the_panel_is_hidden_from_who_may_not_reply(client, people, matter, persona):
    client.force_login(getattr(people, persona))
    fragment = client.get(reverse("answers:case_panel", args=[matter.pk]), {"fragment": "1"})
    assert fragment.status_code in {200, 404}
    assert "拖欠" not in fragment.content.decode()
    page = client.get(reverse("answers:case_panel", args=[matter.pk]))
    assert page.status_code in {403, 404}
    check = client.post(reverse("answers:check", args=[matter.pk]), {"text": GOOD})
    assert check.status_code in {403, 404}


def test_the_draft_check_flags_what_is_missing(client, people, matter):
    client.force_login(people.officer)
    traveller = time_machine.travel(bj(2026, 10, 9, 9), tick=False)
    traveller.start()
    url = reverse("answers:check", args=[matter.pk])
    good = client.post(url, {"text": GOOD}).json()
    assert good["passed"] and {c["name"] for c in good["checks"]} == {
        "relevance",
        "outcome_time",
        "policy",
        "deadline",
    }
    vague = client.post(url, {"text": "您反映的问题已收悉，我们会认真研究。"}).json()
    failed = {c["name"] for c in vague["checks"] if not c["passed"]}
    assert failed == {"relevance", "outcome_time", "policy"}
    assert client.post(url, {"text": "  "}).status_code == 400
    traveller.stop()


def test_the_draft_check_without_javascript_renders_the_panel(client, people, matter):
    client.force_login(people.officer)
    url = reverse("answers:check", args=[matter.pk])
    page = client.post(url, {"text": "我们会认真研究。", "format": "html"}).content.decode()
    assert "未写明政策依据" in page or "未写明所依据的政策" in page
    assert "我们会认真研究。" in page  # the draft comes back in the form


def test_the_draft_check_knows_the_deadline(matter):
    report = selectors.draft_check(matter, GOOD, at=matter.due_at + dt.timedelta(days=2))
    assert not report.deadline.passed and "超过答复期限 2 天" in report.deadline.note
    early = selectors.draft_check(matter, GOOD, at=matter.due_at - dt.timedelta(days=1))
    assert early.deadline.passed


def test_the_monthly_report_per_unit(client, county, people):
    replied(county, people, text=GOOD, at=bj(2026, 10, 9, 9))
    replied(county, people, text="已收悉。", at=bj(2026, 10, 20, 9), outcome=Outcome.EXPLAINED)
    replied(county, people, text=GOOD, at=bj(2026, 11, 3, 9))  # another month
    client.force_login(people.clerk)
    data = client.get(reverse("answers:report"), {"month": "2026-10", "format": "json"}).json()
    assert data["month"] == "2026-10"
    [unit] = data["units"]
    assert unit["unit"] == county.hr.name and unit["replies"] == 2
    assert unit["relevant_rate"] == 0.5 and unit["outcome_time_rate"] == 0.5
    assert unit["policy_rate"] == 0.5 and unit["on_time_rate"] == 1.0
    assert data["total"]["replies"] == 2
    page = client.get(reverse("answers:report"), {"month": "2026-10"}).content.decode()
    assert county.hr.name in page and "50%" in page
    workbook = client.get(reverse("answers:report"), {"month": "2026-10", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(workbook.content)).active.values)
    assert rows[1] == (county.hr.name, 2, 0.5, 0.5, 0.5, 1.0)
    assert rows[-1][:2] == ("合计", 2)


def test_the_monthly_report_is_for_office_staff(client, county, people):
    for persona in ("officer", "head", "outsider"):
        client.force_login(getattr(people, persona))
        assert client.get(reverse("answers:report")).status_code == 403
    for persona in ("clerk", "supervisor", "admin"):
        client.force_login(getattr(people, persona))
        assert client.get(reverse("answers:report"), {"month": "x"}).status_code == 200
    office_head = make_user("office_head", county.office, Role.HEAD)
    client.force_login(office_head)
    assert client.get(reverse("answers:report")).status_code == 200


def test_the_routing_report_links_the_answers_report(client, people):
    client.force_login(people.clerk)
    page = client.get(reverse("routing:report")).content.decode()
    assert reverse("answers:report") in page


def test_backfill_command(county, people, capsys):
    from django.core.management import call_command

    replied(county, people, text=GOOD)
    ReplyEntry.objects.all().delete()
    call_command("answers", "backfill")
    assert "已补录 1 件" in capsys.readouterr().out
    assert services.backfill() == 1
