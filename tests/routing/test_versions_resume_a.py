"""A new model in service ends the pause its predecessor's precision caused (issue 13's
leftover): promoting, rolling back or a retrain that promotes resumes 智能派单, counts the
precision anew from then, and says so among the versions' events; a rejected retrain does not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import bj
from tests.routing.helpers import synthetic_rows, write_csv
from tests.routing.test_versions import _scored
from xinfang.routing import auto, classifier, engine, versions
from xinfang.routing.models import AutoRouting

PAUSE = "近30天智能派单准确率 90%，低于目标 98%，已自动暂停"  # auto.check_precision's words


@pytest.fixture
def store(settings, tmp_path):
    """Model file and versions in a temporary folder; training in process, on a small base."""
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "model.joblib")
    settings.XINFANG_ROUTING_VERSIONS_DIR = ""
    settings.XINFANG_ROUTING_BASE_CSV = str(write_csv(tmp_path / "base.csv", synthetic_rows(20)))
    settings.XINFANG_ROUTING_BASE_BELOW = 3000
    settings.XINFANG_ROUTING_RETRAIN_SECONDS = 0
    return tmp_path


def _install(store, version: str, score: float) -> None:
    model = classifier.train(synthetic_rows(10))
    classifier.save(model, store / "model.joblib", {"version": version, "cv_macro_f1": score})


def _pause(reason: str = PAUSE) -> dt.datetime:
    at = timezone.now() - dt.timedelta(days=2)
    AutoRouting.objects.update_or_create(pk=1, defaults={"paused_at": at, "reason": reason})
    return at


def _served() -> str:
    return engine.model_version(engine.load_model())


@pytest.mark.django_db
def test_a_retrain_that_promotes_ends_the_pause_and_says_so(store, monkeypatch):
    _install(store, "old", 0.90)
    _pause()
    _scored(monkeypatch, 0.93)
    before = timezone.now()

    result = versions.retrain(bj(2026, 11, 1, 3))

    assert result.status == "promoted" and _served() == result.version
    assert auto.paused_reason() == ""
    row = AutoRouting.objects.get()
    assert row.resumed_at >= before and row.resumed_by is None  # the worker
    assert auto.recent_window().decided == 0  # counted anew from the resume
    assert result.summary().endswith("；智能派单已恢复")
    [event] = [e for e in versions.events() if e["action"] == "auto_resume"]
    assert event["version"] == result.version and event["action_label"] == "恢复智能派单"
    assert PAUSE in event["detail"] and "准确率自此重新计算" in event["detail"]


@pytest.mark.django_db
def test_a_rejected_retrain_leaves_the_pause(store, monkeypatch):
    _install(store, "old", 0.95)
    _pause()
    _scored(monkeypatch, 0.90)
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert result.status == "rejected" and _served() == "old"
    assert auto.paused_reason() == PAUSE
    assert not result.auto_resumed and "恢复" not in result.summary()
    assert all(e["action"] != "auto_resume" for e in versions.events())


@pytest.mark.django_db
def test_the_administrator_promoting_or_rolling_back_resumes_and_the_page_shows_it(
    store, people, monkeypatch
):
    _install(store, "strong", 0.95)
    _scored(monkeypatch, 0.90)
    weak = versions.retrain(bj(2026, 11, 1, 3))  # rejected: the pause below is strong's
    paused_at = _pause()
    client = Client()
    client.force_login(people.admin)

    client.post(reverse("routing:version_promote"), {"version": weak.version})

    assert _served() == weak.version and auto.paused_reason() == ""
    row = AutoRouting.objects.get()
    assert row.resumed_by == people.admin and row.resumed_at > paused_at
    page = client.get(reverse("routing:versions")).content.decode()
    assert "恢复智能派单" in page and PAUSE in page
    assert versions.events()[0]["by"] == "user:admin"

    # the new model is paused in its turn; the administrator rolls back: resumed again
    _pause("近30天智能派单准确率 80%，低于目标 98%，已自动暂停")
    back = versions.rollback(by=f"user:{people.admin.username}")
    assert back["version"] == "strong" and auto.paused_reason() == ""
    assert "准确率 80%" in back["auto_resumed"]
    assert [e["action"] for e in versions.events()[:2]] == ["auto_resume", "rollback"]


@pytest.mark.django_db
def test_nothing_to_resume_records_nothing(store, monkeypatch):
    _install(store, "strong", 0.95)
    _scored(monkeypatch, 0.95)
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert result.status == "promoted" and result.auto_resumed == ""
    assert not AutoRouting.objects.exists()  # no row written: it was running
    entry = versions.rollback(by="cli")
    assert entry["auto_resumed"] == ""
    assert all(e["action"] != "auto_resume" for e in versions.events())


@pytest.mark.django_db
def test_a_pause_for_another_reason_is_not_the_models_to_end(store, monkeypatch):
    _install(store, "strong", 0.90)
    _pause("管理员暂停：派单目录调整中")
    _scored(monkeypatch, 0.95)
    assert versions.retrain(bj(2026, 11, 1, 3)).status == "promoted"
    assert auto.paused_reason() == "管理员暂停：派单目录调整中"
