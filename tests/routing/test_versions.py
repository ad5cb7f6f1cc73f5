"""Learning from the office (issue 13): the scheduled retrain trains on the office's confirmed
matters, keeps every model as a version, promotes only one that is not worse, rolls back; the
administrator sees the versions and their scores."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.factories import bj, register
from tests.routing.helpers import synthetic_rows, write_csv
from xinfang.cases import services
from xinfang.orgs.models import Category
from xinfang.routing import classifier, engine, features, versions
from xinfang.worker import daily
from xinfang.worker.models import DailyRun

BASE_LABELS = ("劳动和社会保障", "城乡建设", "教育文体")  # the shipped base of these tests
ENVIRONMENT = (  # what only the office has confirmed: 环境保护
    ["工厂排污", "油烟扰民", "夜间噪音", "河道污染", "垃圾焚烧", "粉尘污染"],
    ["环保局", "居民", "河水", "气味", "烟囱", "排放"],
)


def _environment_rows(n: int) -> list[features.Row]:
    rng = random.Random(11)
    topics, words = ENVIRONMENT
    return [
        features.Row(
            f"反映{(topic := rng.choice(topics))}问题",
            f"{''.join(rng.sample(words, 3))}{topic}，{rng.choice(words)}请尽快处理。",
            "环境保护",
        )
        for _ in range(n)
    ]


@pytest.fixture
def store(settings, tmp_path):
    """Model file, versions and a small base CSV in a temporary folder; training in process."""
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "model.joblib")
    settings.XINFANG_ROUTING_VERSIONS_DIR = ""
    base = synthetic_rows(20)
    settings.XINFANG_ROUTING_BASE_CSV = str(write_csv(tmp_path / "base.csv", base))
    settings.XINFANG_ROUTING_BASE_BELOW = 3000
    settings.XINFANG_ROUTING_RETRAIN_SECONDS = 0
    settings.XINFANG_ROUTING_KEEP_VERSIONS = 10
    return tmp_path


def _scored(monkeypatch, score: float) -> None:
    """Training reports `score` as its cross-validated macro-F1 (the comparison under test)."""
    real = classifier.train

    def train(rows, config=None):
        model = real(rows, config)
        model.metadata["cv_macro_f1"] = score
        return model

    monkeypatch.setattr(classifier, "train", train)


def _install_current(store, version: str, score: float | None) -> bytes:
    """A model written straight to the configured file, as `xinfang routing train` does."""
    meta = {"version": version, "source": "test"}
    if score is not None:
        meta["cv_macro_f1"] = score
    path = store / "model.joblib"
    classifier.save(classifier.train(synthetic_rows(10)), path, meta)
    return path.read_bytes()


def _served() -> str:
    return engine.model_version(engine.load_model())


def _confirm(county, people, title: str, content: str, category: Category, day: int):
    """A matter registered with a category and routed: the office settled it."""
    case = register(
        county, people.clerk, bj(2026, 10, day, 9), title=title, content=content, category=category
    )
    return services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 10, day, 10))


# ---------------------------------------------------------------- what a retrain learns from


@pytest.mark.django_db
def test_a_retrain_learns_the_categories_the_office_confirmed(store, county, people):
    environment = Category.objects.create(code="HB", name="环境保护")
    noise = Category.objects.create(code="HB01", name="噪声污染", parent=environment)
    for i, row in enumerate(_environment_rows(12)):
        _confirm(county, people, row.title, row.content, noise, 1 + i)
    # registered with a category but never routed: no person settled it, it is not learnt
    register(
        county, people.clerk, bj(2026, 10, 21, 9), title="反映噪音", content="夜间施工噪音扰民"
    )

    result = versions.retrain(bj(2026, 11, 1, 3))

    assert result.status == "promoted" and result.reason == "此前没有可用模型"
    assert (result.n_office, result.n_base) == (12, 60)
    model = engine.load_model()
    assert model.labels == sorted(["环境保护", *BASE_LABELS])  # 噪声污染 counts as its top level
    assert model.metadata["label_counts"]["环境保护"] == 12
    assert model.metadata["source"] == "cases+base:base.csv"
    assert (
        model.predict_top("反映工厂排污问题", "居民反映烟囱排放有刺鼻气味。", 1)[0][0] == "环境保护"
    )


@pytest.mark.django_db
def test_once_the_office_has_enough_matters_the_base_is_left_out_and_the_newest_count(
    store, county, people, settings
):
    settings.XINFANG_ROUTING_BASE_BELOW = 5
    building = Category.objects.create(code="CX", name="城乡建设")
    category = {
        "劳动和社会保障": Category.objects.get(code="LD01"),
        "教育文体": Category.objects.get(code="JY01"),
        "城乡建设": Category.objects.create(code="CX01", name="物业管理", parent=building),
    }
    for i, row in enumerate(synthetic_rows(4, seed=5)):
        _confirm(county, people, row.title, row.content, category[row.label], 1 + i)
    settings.XINFANG_ROUTING_RETRAIN_MAX_ROWS = 10  # the newest ten of the twelve
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert (result.n_office, result.n_base) == (10, 0)
    assert engine.load_model().metadata["source"] == "cases"


@pytest.mark.django_db
def test_too_little_to_learn_from_trains_nothing(store, settings):
    settings.XINFANG_ROUTING_BASE_CSV = ""
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert result.status == "skipped" and "训练数据不足：0 条" in result.reason
    assert versions.list_versions() == []


# ---------------------------------------------------------------- promotion


@pytest.mark.django_db
def test_a_worse_model_is_kept_but_not_promoted(store, monkeypatch):
    before = _install_current(store, "strong", 0.95)
    _scored(monkeypatch, 0.90)

    result = versions.retrain(bj(2026, 11, 1, 3))

    assert result.status == "rejected"
    assert result.reason == "交叉验证 macro-F1 0.9000 低于当前 0.9500"
    assert (store / "model.joblib").read_bytes() == before and _served() == "strong"
    rows = {r["version"]: r for r in versions.list_versions()}
    assert rows["strong"]["status"] == "current" and rows["strong"]["cv_macro_f1"] == 0.95
    rejected = rows[result.version]
    assert rejected["status"] == "rejected" and rejected["reason"] == result.reason
    assert (versions.versions_dir() / rejected["file"]).is_file()  # kept: an admin may still use it
    assert (versions.versions_dir() / "strong.joblib").is_file()  # the adopted file, for rollback


@pytest.mark.django_db
def test_an_equal_score_is_not_worse_and_is_promoted(store, monkeypatch):
    _install_current(store, "strong", 0.95)
    _scored(monkeypatch, 0.95)
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert result.status == "promoted" and _served() == result.version


@pytest.mark.django_db
def test_a_model_without_a_cross_validated_score_does_not_replace_the_current_one(
    store, monkeypatch
):
    _install_current(store, "strong", 0.95)
    real = classifier.train

    def unscored(rows, config=None):
        model = real(rows, config)
        model.metadata.pop("cv_macro_f1", None)
        return model

    monkeypatch.setattr(classifier, "train", unscored)
    result = versions.retrain(bj(2026, 11, 1, 3))
    assert result.status == "rejected" and "没有交叉验证分数" in result.reason
    assert _served() == "strong"


# ---------------------------------------------------------------- rollback


@pytest.mark.django_db
def test_rollback_restores_the_previous_file_and_the_pages_serve_it(store, monkeypatch):
    before = _install_current(store, "strong", 0.90)
    assert _served() == "strong"
    _scored(monkeypatch, 0.93)
    new = versions.retrain(bj(2026, 11, 1, 3))
    assert new.status == "promoted" and _served() == new.version

    back = versions.rollback(by="test")

    assert back["version"] == "strong"
    assert (store / "model.joblib").read_bytes() == before
    assert _served() == "strong"  # engine.load_model sees the replaced file at once
    assert oct((store / "model.joblib").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(versions.VersionError, match="没有可回退的上一版本"):
        versions.rollback(by="test")  # the history was popped: no bouncing back
    versions.promote(new.version, by="test")
    assert _served() == new.version
    actions = [e["action"] for e in versions.events()]
    assert actions[:3] == ["promote", "rollback", "retrain"] and actions[-1] == "adopt"


@pytest.mark.django_db
def test_a_model_written_by_routing_train_is_shown_current_and_kept_when_rolled_back(
    store, monkeypatch
):
    _scored(monkeypatch, 0.93)
    retrained = versions.retrain(bj(2026, 11, 1, 3)).version
    manual = _install_current(store, "manual", None)  # `xinfang routing train` writes the file

    rows = versions.list_versions()
    assert [(r["version"], r["status"]) for r in rows] == [
        ("manual", "current"),
        (retrained, "previous"),
    ]
    assert rows[0]["status_label"] == "当前使用（未入版本库）"
    assert versions.rollback_target() == retrained
    assert versions.rollback(by="test")["version"] == retrained and _served() == retrained
    assert (versions.versions_dir() / "manual.joblib").read_bytes() == manual
    with pytest.raises(versions.VersionError, match="不在可回退的启用记录中"):
        versions.rollback("manual", by="test")  # rolled back from: it left the history
    versions.promote("manual", by="test")
    assert _served() == "manual"


@pytest.mark.django_db
def test_promote_and_rollback_refuse_unknown_versions_and_write_nothing(store):
    with pytest.raises(versions.VersionError, match="没有版本 nope"):
        versions.promote("nope", by="test")
    with pytest.raises(versions.VersionError, match="没有版本 nope"):
        versions.rollback("nope", by="test")
    assert not versions.versions_dir().exists()


@pytest.mark.django_db
def test_old_files_are_pruned_but_the_current_and_recent_stay(store, monkeypatch, settings):
    settings.XINFANG_ROUTING_KEEP_VERSIONS = 2
    _scored(monkeypatch, 0.5)
    made = [versions.retrain(bj(2026, 11, day, 3)).version for day in (1, 2, 3, 4)]
    files = {r["version"]: r["file"] for r in versions.list_versions()}
    assert files[made[0]] is None and files[made[1]] is None  # entries stay, files go
    assert files[made[2]] and files[made[3]] and _served() == made[3]


# ---------------------------------------------------------------- the schedule


@pytest.mark.django_db
def test_the_weekly_retrain_runs_once_on_its_day_when_enough_was_confirmed(
    store, county, people, settings
):
    settings.XINFANG_ROUTING_RETRAIN_WEEKDAY = 7  # Sunday
    settings.XINFANG_ROUTING_RETRAIN_MIN_NEW = 2
    job = tuple(j for j in daily.JOBS if j.name == "routing_retrain")  # in line: the worker
    # runs it in a thread (tests/worker/test_daily_background_a.py), `--once` like this
    labour = Category.objects.get(code="LD01")
    _confirm(county, people, "讨薪", "公司拖欠工资三个月", labour, 1)

    saturday = dt.datetime(2026, 10, 31, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert daily.run_due(now=saturday, jobs=job, background=False) == [
        "智能分派重训：每周日进行，今天不训练"
    ]
    sunday = saturday + dt.timedelta(days=1)
    assert daily.run_due(now=sunday, jobs=job, background=False) == [
        "智能分派重训：上次训练后新确认事项 1 件，不足 2 件，不训练"
    ]
    _confirm(county, people, "讨薪", "工地拖欠农民工工资", labour, 2)
    next_sunday = sunday + dt.timedelta(days=7)
    [said] = daily.run_due(now=next_sunday, jobs=job, background=False)
    assert said.startswith("智能分派重训：已启用 20261108-031000-retrain")
    assert (
        daily.run_due(now=next_sunday + dt.timedelta(hours=2), jobs=job, background=False) == []
    )  # once a day
    assert len(versions.list_versions()) == 1
    assert DailyRun.objects.get(job="routing_retrain", day=next_sunday.date()).result == said
    # the week after: nothing new confirmed since that version, nothing trained
    assert daily.run_due(now=next_sunday + dt.timedelta(days=7), jobs=job, background=False) == [
        "智能分派重训：上次训练后新确认事项 0 件，不足 2 件，不训练"
    ]


@pytest.mark.django_db
def test_a_bounded_retrain_trains_in_a_child_process_and_stops_it_when_out_of_time(store):
    slow = versions.retrain(bj(2026, 11, 1, 3), seconds=1)  # starting Python alone takes longer
    assert slow.status == "timeout" and "训练超过 1 秒" in slow.reason
    assert not any(versions.versions_dir().glob("*.joblib*"))
    assert not (store / "model.joblib").exists()
    done = versions.retrain(bj(2026, 11, 1, 4), seconds=300)
    assert done.status == "promoted" and _served() == done.version
    statuses = {r["version"]: r["status"] for r in versions.list_versions()}
    assert statuses == {slow.version: "rejected", done.version: "current"}


# ---------------------------------------------------------------- the command line


@pytest.mark.django_db
def test_the_commands_retrain_list_roll_back_and_promote(store, monkeypatch):
    _install_current(store, "strong", 0.90)
    _scored(monkeypatch, 0.92)
    out = io.StringIO()
    call_command("routing", "retrain", "--seconds", "0", stdout=out)
    new = json.loads(out.getvalue())
    assert new["status"] == "promoted" and new["cv_macro_f1"] == 0.92
    out = io.StringIO()
    call_command("routing", "versions", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{new['version']}\t当前使用\tcv_macro_f1=0.92")
    assert lines[1].startswith("strong\t曾经使用\tcv_macro_f1=0.9")
    call_command("routing", "rollback", stdout=io.StringIO())
    assert _served() == "strong"
    call_command("routing", "promote", new["version"], stdout=io.StringIO())
    assert _served() == new["version"]
    with pytest.raises(CommandError, match="没有版本 nope"):
        call_command("routing", "promote", "nope")


# ---------------------------------------------------------------- the administrator's page


@pytest.mark.django_db
def test_the_admin_sees_versions_with_scores_and_promotes_and_rolls_back(
    store, people, monkeypatch
):
    _install_current(store, "strong", 0.95)
    _scored(monkeypatch, 0.90)
    weak = versions.retrain(bj(2026, 11, 1, 3))
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)

    page = client.get(reverse("routing:versions"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "当前使用：<strong>strong</strong>（交叉验证 macro-F1 0.95" in body
    assert weak.version in body and "低于当前 0.9500" in body and "未采用" in body
    assert "2026-11-01 03:00" in body  # trained at, in Beijing time
    assert "回退到上一版本" not in body  # nothing was current before strong
    data = client.get(reverse("routing:versions"), {"format": "json"}).json()
    assert [v["version"] for v in data["versions"]] == [weak.version, "strong"]

    assert (
        client.post(reverse("routing:version_promote"), {"version": weak.version}).status_code
        == 403
    )
    assert _served() == "strong"  # no CSRF token, nothing done
    client = Client()
    client.force_login(people.admin)
    response = client.post(
        reverse("routing:version_promote"), {"version": weak.version}, follow=True
    )
    assert f"已启用模型版本 {weak.version}" in response.content.decode()
    assert "回退到上一版本（strong）" in response.content.decode()
    assert _served() == weak.version
    response = client.post(reverse("routing:version_rollback"), follow=True)
    assert "已回退到模型版本 strong" in response.content.decode() and _served() == "strong"
    response = client.post(reverse("routing:version_rollback"), {"version": "nope"}, follow=True)
    assert "没有版本 nope" in response.content.decode()
    assert versions.events()[0]["by"] == "user:admin"


@pytest.mark.django_db
def test_only_administrators_open_the_versions_page(store, people, client):
    _install_current(store, "strong", 0.95)
    url = reverse("routing:versions")
    assert client.get(url).status_code == 302  # to the login page
    for persona in ("clerk", "head", "supervisor", "officer"):
        client.force_login(getattr(people, persona))
        assert client.get(url).status_code == 403
        assert client.post(reverse("routing:version_rollback")).status_code == 403
        assert (
            client.post(reverse("routing:version_promote"), {"version": "strong"}).status_code
            == 403
        )
    assert _served() == "strong" and not versions.versions_dir().exists()


@pytest.mark.django_db
def test_the_routing_report_links_the_versions_page_for_administrators_only(store, people, client):
    link = f'href="{reverse("routing:versions")}"'
    client.force_login(people.admin)
    assert link in client.get(reverse("routing:report")).content.decode()
    client.force_login(people.clerk)
    assert link not in client.get(reverse("routing:report")).content.decode()


@pytest.mark.django_db
def test_an_office_with_two_categories_can_retrain(store, county, people, settings):
    settings.XINFANG_ROUTING_BASE_CSV = ""
    labour, education = Category.objects.get(code="LD01"), Category.objects.get(code="JY01")
    for i, row in enumerate(r for r in synthetic_rows(6, seed=5) if r.label != "城乡建设"):
        _confirm(
            county,
            people,
            row.title,
            row.content,
            labour if "劳动" in row.label else education,
            1 + i,
        )
    assert versions.retrain(bj(2026, 11, 1, 3)).status == "promoted"
