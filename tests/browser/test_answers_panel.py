"""The officer answering a matter sees similar past replies on the case page and checks the draft
typed in the reply form with a click (the panel's script; no inline script under the CSP)."""

from __future__ import annotations

import pytest

from tests.answers.conftest import accepted, replied
from tests.factories import PASSWORD
from xinfang.answers import index

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = (
    "经查，某建筑公司拖欠您工资属实。区人社局已于2026年10月8日依据《保障农民工工资支付条例》"
    "第三十条责令其10个工作日内足额支付。"
)


@pytest.fixture(autouse=True)
def _fresh_index():
    """The knowledge base's in-memory index is per process: none left from another test."""
    index.reset()
    yield
    index.reset()


def test_the_officer_checks_a_draft_on_the_case_page(page, live_server, county, people):
    replied(county, people, text=GOOD)
    case = accepted(county, people, title="建筑公司拖欠农民工工资", content="公司拖欠工资半年。")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "officer")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    similar = page.locator("#answers-panel .answers-similar")
    similar.first.wait_for()  # the panel is a fragment the page loads after it opens
    assert "拖欠" in similar.first.inner_text()
    assert page.locator("#answers-draft").is_hidden()  # the reply form's own text is checked

    page.click("details[data-action=reply] summary")
    page.fill("details[data-action=reply] textarea[name$=text]", "您反映的问题已收悉。")
    page.click("#answers-check")
    page.locator("#answers-result li.missing").first.wait_for()
    assert "政策依据" in page.inner_text("#answers-result")
