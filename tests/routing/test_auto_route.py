"""智能派单: a new matter the model is sure of is routed at registration by the route transition
itself; the office can undo it within the objection window; wrong routes are counted, and
automatic routing pauses itself when its precision in practice falls below the target."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services
from xinfang.cases.access import allowed_actions
from xinfang.cases.events import EventKind
from xinfang.cases.models import CaseEvent, State
from xinfang.cases.transitions import TransitionRefused
from xinfang.routing import auto, classifier, selectors
from xinfang.routing.models import AutoRoute, AutoRouting

WAGES = {"title": "反映拖欠工资问题", "content": "工地老板拖欠工资三个月，工人讨薪无门。"}
NOW = bj(2026, 11, 20, 10)


def model_says(monkeypatch, *, threshold: float | None, confidence: float | None = None) -> None:
    """The classifier's side of 智能派单 (`Model.auto_threshold`, `Model.auto_confidence`),
    fixed for a test: the trained test model still picks the label; its automatic-routing
    confidence is its top-1 probability unless `confidence` is given."""

    def auto_confidence(self, title, content):
        label, probability = self.predict_top(title, content, 1)[0]
        return label, probability if confidence is None else confidence

    monkeypatch.setattr(
        classifier.Model, "auto_threshold", property(lambda self: threshold), raising=False
    )
    monkeypatch.setattr(classifier.Model, "auto_confidence", auto_confidence, raising=False)


@pytest.fixture
def with_auto(settings, model_file, monkeypatch):
    settings.XINFANG_ROUTING_MODEL = str(model_file)
    settings.XINFANG_AUTO_ROUTE = True
    model_says(monkeypatch, threshold=0.9)
    return model_file


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def live(django_capture_on_commit_callbacks):
    """Register as a live road does: the automatic route runs once the registration commits."""

    def registered(county, by, at=None, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return register(county, by, at or NOW - dt.timedelta(minutes=5), **kw)

    return registered


def clerk_login(client, people):
    assert client.login(username=people.clerk.username, password=PASSWORD)
    return client


# ---------------------------------------------------------------- at registration


def test_a_sure_matter_is_routed_at_registration_by_the_catalogue(with_auto, county, people, live):
    case = live(county, people.clerk, category=None, **WAGES)
    assert case.state == State.ROUTED  # the caller's own object, updated in place
    assert case.lead_unit == county.hr  # 拖欠工资 → 人社局 in the dispatch catalogue
    assert case.category == county.wages  # 事项分类 set with the route
    assert case.object_due_at is not None  # the objection window runs as for any route
    event = CaseEvent.objects.get(case=case, kind=EventKind.ROUTED)
    assert event.actor is None  # the system, no user
    assert event.details["auto"] is True
    assert event.details["model_version"] == "test-model-1"
    assert event.details["confidence"] >= 0.9 and event.details["label"] == "劳动和社会保障"
    row = AutoRoute.objects.get(case=case)
    assert row.outcome == AutoRoute.Outcome.PENDING and row.unit == county.hr
    # the matter is now the unit's: the officer of 人社局 may accept it
    assert "accept" in allowed_actions(people.officer, case)


def test_the_timeline_marks_the_automatic_route(with_auto, county, people, live, client):
    case = live(county, people.clerk, category=None, **WAGES)
    html = clerk_login(client, people).get(reverse("cases:detail", args=[case.pk])).content
    html = html.decode()
    assert "智能派单" in html and "置信度" in html and "test-model-1" in html
    assert "撤回智能派单" in html  # the office's undo, offered from the table


def test_a_matter_below_the_threshold_waits_for_a_clerk(
    with_auto, county, people, live, monkeypatch
):
    model_says(monkeypatch, threshold=0.9, confidence=0.6)
    case = live(county, people.clerk, category=None, **WAGES)
    assert case.state == State.REGISTERED and case.lead_unit is None
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.ROUTED).exists()
    assert not AutoRoute.objects.exists()


def test_without_a_threshold_or_switched_off_nothing_is_routed(
    with_auto, settings, county, people, live, monkeypatch
):
    model_says(monkeypatch, threshold=None)  # a model file without one: automatic routing off
    assert live(county, people.clerk, category=None, **WAGES).state == State.REGISTERED
    model_says(monkeypatch, threshold=0.9)
    settings.XINFANG_AUTO_ROUTE = False  # the office switched it off
    assert live(county, people.clerk, category=None, **WAGES).state == State.REGISTERED


def test_the_clerks_own_other_category_wins(with_auto, county, people, live):
    case = live(county, people.clerk, category=county.schooling, **WAGES)
    assert case.state == State.REGISTERED and case.category == county.schooling


def test_history_is_not_routed_automatically(with_auto, settings, county, people, live):
    settings.XINFANG_HISTORY_DAYS = 30  # a letter typed in 60 days after it came
    case = live(county, people.clerk, at=NOW - dt.timedelta(days=60), category=None, **WAGES)
    assert case.state == State.REGISTERED


def test_an_imported_ledger_is_not_routed_automatically(with_auto, county, people):
    from tests.ledger.test_ledger import good_row, run, xlsx

    with time_machine.travel(bj(2026, 3, 20, 12), tick=False):
        result = run(xlsx([good_row(i) for i in range(3)]), county)
    assert result.created == 3
    assert not CaseEvent.objects.filter(kind=EventKind.ROUTED).exists()


# ---------------------------------------------------------------- 撤回智能派单


def test_undo_within_the_window_sends_the_matter_back_and_counts_it_wrong(
    with_auto, county, people, live, client
):
    case = live(county, people.clerk, category=None, **WAGES)
    clerk_login(client, people)
    response = client.post(
        reverse("cases:act", args=[case.pk, "undo_auto_route"]),
        {"undo_auto_route-reason": "应为住建局职责", "version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.REGISTERED and case.lead_unit is None
    assert case.category is None  # the model's guess is not kept as the office's decision
    event = CaseEvent.objects.get(case=case, kind=EventKind.AUTO_ROUTE_UNDONE)
    assert event.actor == people.clerk and event.details["reason"] == "应为住建局职责"
    row = AutoRoute.objects.get(case=case)
    assert row.outcome == AutoRoute.Outcome.WRONG
    assert row.outcome_event == EventKind.AUTO_ROUTE_UNDONE
    # the clerk routes it again: recorded as the route it should have had (改派)
    services.case_route(case=case, by=people.clerk, unit=county.housing)
    row.refresh_from_db()
    assert row.rerouted_unit == county.housing


def test_undo_is_refused_after_the_window(with_auto, county, people, live):
    case = live(county, people.clerk, category=None, **WAGES)
    late = case.object_due_at + dt.timedelta(seconds=1)
    with pytest.raises(TransitionRefused, match="撤回期限"):
        services.case_undo_auto_route(case=case, by=people.clerk, reason="错了", at=late)
    case.refresh_from_db()
    assert case.state == State.ROUTED


def test_undo_is_refused_once_the_unit_accepted(with_auto, county, people, live):
    case = live(county, people.clerk, category=None, **WAGES)
    services.case_accept(case=case, by=people.officer)
    with pytest.raises(TransitionRefused, match="办理中"):  # 已受理: no longer routed
        services.case_undo_auto_route(case=case, by=people.clerk, reason="错了")
    assert AutoRoute.objects.get(case=case).outcome == AutoRoute.Outcome.RIGHT


def test_a_clerks_route_cannot_be_undone_as_automatic(with_model, county, people):
    case = register(county, people.clerk, NOW - dt.timedelta(hours=1), **WAGES)
    services.case_route(case=case, by=people.clerk, unit=county.hr)
    assert "undo_auto_route" not in allowed_actions(people.clerk, case)
    with pytest.raises(TransitionRefused, match="只有智能派单可以撤回"):
        services.case_undo_auto_route(case=case, by=people.clerk, reason="错了")


def test_an_objection_to_an_automatic_route_counts_it_wrong(with_auto, county, people, live):
    case = live(county, people.clerk, category=None, **WAGES)
    services.case_object(case=case, by=people.officer, reason="非本单位职责")
    assert AutoRoute.objects.get(case=case).outcome == AutoRoute.Outcome.WRONG


# ---------------------------------------------------------------- measured precision, self-pause


def _routes(county, people, live, n):
    return [live(county, people.clerk, category=None, **WAGES) for _ in range(n)]


def test_automatic_routing_pauses_itself_when_measured_precision_drops(
    with_auto, settings, county, people, live, client
):
    settings.XINFANG_AUTO_ROUTE_MIN_SAMPLE = 10
    cases = _routes(county, people, live, 10)
    services.case_undo_auto_route(case=cases[0], by=people.clerk, reason="分类有误")
    for case in cases[1:9]:
        services.case_accept(case=case, by=people.officer)
    assert auto.paused_reason() == ""  # 8 of 9 right: below target, but too few to judge
    services.case_accept(case=cases[9], by=people.officer)  # 9 of 10: 90 % < 98 %
    reason = auto.paused_reason()
    assert reason == "近30天智能派单准确率 90%，低于目标 98%，已自动暂停"

    waiting = live(county, people.clerk, category=None, **WAGES)
    assert waiting.state == State.REGISTERED  # paused: a clerk routes it
    clerk_login(client, people)
    panel = client.get(reverse("routing:case_panel", args=[waiting.pk]) + "?fragment=1")
    assert reason in panel.content.decode()
    page = client.get(reverse("routing:report") + "?month=2026-11")
    assert reason in page.content.decode() and "恢复智能派单" not in page.content.decode()
    body = client.get(reverse("routing:report") + "?month=2026-11&format=json").json()
    assert body["auto_status"]["paused"] is True and body["auto_status"]["reason"] == reason
    # a clerk cannot resume it; an administrator can, and the count starts anew
    client.post(reverse("routing:report"), {"resume": "1"})
    assert auto.paused_reason() == reason
    client.logout()
    assert client.login(username=people.admin.username, password=PASSWORD)
    assert "恢复智能派单" in client.get(reverse("routing:report")).content.decode()
    client.post(reverse("routing:report"), {"resume": "1"})
    assert auto.paused_reason() == "" and AutoRouting.objects.get().resumed_by == people.admin
    assert auto.recent_window().decided == 0
    assert live(county, people.clerk, category=None, **WAGES).state == State.ROUTED


def test_enough_right_routes_do_not_pause(with_auto, settings, county, people, live):
    settings.XINFANG_AUTO_ROUTE_MIN_SAMPLE = 3
    for case in _routes(county, people, live, 3):
        services.case_accept(case=case, by=people.officer)
    assert auto.paused_reason() == "" and auto.recent_window().precision == 1.0


def test_the_monthly_report_shows_precision_in_practice_and_coverage(
    with_auto, county, people, live, monkeypatch
):
    routed = _routes(county, people, live, 4)
    services.case_accept(case=routed[0], by=people.officer)
    services.case_accept(case=routed[1], by=people.officer)
    services.case_undo_auto_route(case=routed[2], by=people.clerk, reason="单位有误")
    services.case_route(case=routed[2], by=people.clerk, unit=county.edu)
    services.case_object(case=routed[3], by=people.officer, reason="非本单位职责")
    model_says(monkeypatch, threshold=0.9, confidence=0.5)
    live(county, people.clerk, category=None, **WAGES)  # below the threshold: a clerk's
    report = selectors.auto_route_report("2026-11")
    assert report == {
        "month": "2026-11",
        "registered": 5,
        "auto_routed": 4,
        "decided": 4,
        "right": 2,
        "wrong": 2,
        "undone": 1,
        "objected": 1,
        "rerouted": 1,
        "pending": 0,
        "precision": 0.5,
        "coverage": 0.8,
    }
    assert selectors.auto_route_report("2026-10")["auto_routed"] == 0
    out = io.StringIO()
    call_command("routing", "report", "--month", "2026-11", stdout=out)
    assert json.loads(out.getvalue())["auto"]["precision"] == 0.5
