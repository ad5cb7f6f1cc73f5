"""The similar-reply index without a ten-second first search: a new process loads the index a
former one saved (and appends what changed since); a web process warms it in the background;
a search that arrives while it is being built answers at once (no suggestions), never an error."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection
from django.urls import reverse

from tests.answers.conftest import accepted, replied
from tests.answers.test_knowledge import WAGES_REPLY
from tests.worker import live
from xinfang.answers import index, selectors, services
from xinfang.answers.models import ReplyEntry, Source


@pytest.fixture
def saved_to(tmp_path, monkeypatch):
    """The index's file in a folder of the test's own (the suite's in-memory SQLite has none)."""
    path = tmp_path / "answers-index" / "index.npz"
    monkeypatch.setattr(index, "_file", lambda: path)
    return path


def _no_build(monkeypatch) -> list[int]:
    """Make a full build fail the test; returns the calls (none expected)."""
    calls: list[int] = []

    def refuse(stamp):
        calls.append(1)
        raise AssertionError("the index was built again instead of loaded")

    monkeypatch.setattr(index, "_build", refuse)
    return calls


def _ids(found) -> list[int]:
    return [s.entry.pk for s in found]


def test_a_new_process_loads_the_saved_index_instead_of_building_it(
    county, people, starter_csv, saved_to, monkeypatch
):
    services.starter_load(starter_csv)
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    first = selectors.similar_replies(smoke)
    assert saved_to.is_file() and first[0].entry.external_id == "1"
    index.reset()  # as a new process: nothing in memory
    _no_build(monkeypatch)
    again = selectors.similar_replies(smoke)
    assert _ids(again) == _ids(first)
    assert [round(s.score, 5) for s in again] == [round(s.score, 5) for s in first]


def test_what_changed_since_the_file_was_saved_is_appended_to_it(
    county, people, starter_csv, saved_to, monkeypatch
):
    services.starter_load(starter_csv)
    wages = accepted(county, people, title="建筑公司拖欠农民工工资", content="公司拖欠工资半年。")
    assert all(s.entry.case_id is None for s in selectors.similar_replies(wages))
    index.reset()
    replied(county, people, text=WAGES_REPLY)  # after the file: a new process must see it too
    _no_build(monkeypatch)
    found = selectors.similar_replies(wages)
    assert found[0].entry.case_id is not None and "拖欠" in found[0].entry.reply


def test_a_file_ahead_of_the_table_is_not_used(county, people, starter_csv, saved_to, monkeypatch):
    """A database restored from an older backup: the file knows rows the table lacks."""
    services.starter_load(starter_csv)
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    selectors.similar_replies(smoke)
    index.reset()
    ReplyEntry.objects.filter(external_id="3").delete()  # the newest entry: max(id) went back
    builds: list[tuple] = []
    real = index._build
    monkeypatch.setattr(index, "_build", lambda stamp: builds.append(stamp) or real(stamp))
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"
    assert len(builds) == 1


def test_an_unreadable_file_costs_a_build_not_an_error(
    county, people, starter_csv, saved_to, caplog
):
    services.starter_load(starter_csv)
    saved_to.parent.mkdir(parents=True)
    saved_to.write_bytes(b"not an index")
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"
    assert "无法读取" in caplog.text
    index.reset()
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"  # rewritten, readable


def test_the_file_is_per_database_and_none_for_one_in_memory(db, settings, tmp_path, monkeypatch):
    settings.XINFANG_ANSWERS_INDEX_DIR = str(tmp_path)
    if connection.vendor == "sqlite":  # the suite's database lives in this process's memory
        assert index._file() is None
        monkeypatch.setattr(index, "_in_memory", lambda: False)
    one = index._file()
    assert one is not None and one.parent == tmp_path
    monkeypatch.setitem(connection.settings_dict, "NAME", "/srv/other.sqlite3")
    assert index._file() not in (None, one)
    settings.XINFANG_ANSWERS_INDEX_DIR = ""
    assert index._file() is None


@pytest.mark.django_db(transaction=True)
def test_a_request_during_the_warm_up_gets_the_panel_at_once(
    client, county, people, starter_csv, monkeypatch
):
    """The web process's warm-up thread is building; the clerk's panel does not wait for it."""
    services.starter_load(starter_csv)
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    release, started = threading.Event(), threading.Event()
    real = index._build

    def slow(stamp):
        started.set()
        assert release.wait(20)
        return real(stamp)

    monkeypatch.setattr(index, "_build", slow)
    monkeypatch.setattr(index, "WAIT_SECONDS", 0.2)
    warming = index.warm_in_background()
    assert started.wait(10)
    client.force_login(people.officer)
    began = time.monotonic()
    response = client.get(reverse("answers:case_panel", args=[smoke.pk]), {"fragment": "1"})
    assert response.status_code == 200
    assert time.monotonic() - began < 5
    assert "知识库中暂无相似的既往答复" in response.content.decode()  # nothing yet, at once
    release.set()
    warming.join(20)
    assert not warming.is_alive()
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_builds_the_index_before_any_search(county, people, starter_csv):
    services.starter_load(starter_csv)
    index.warm_in_background().join(20)
    assert index._built is not None and len(index._built.ids) == 3
    assert index.warm_in_background() is not None  # again: a finished thread is replaced


@pytest.mark.django_db(transaction=True)
def test_a_web_process_warms_the_index_at_boot_and_the_next_one_loads_it(tmp_path):
    """Two fresh web processes, each serving one request (a login page): the first builds the
    index in the background and saves it; the second loads the file (no build)."""
    ReplyEntry.objects.bulk_create(
        ReplyEntry(
            source=Source.STARTER,
            external_id=f"s{i}",
            title=f"小区烧烤油烟{i}",
            message="油烟扰民",
            reply="已处理",
        )
        for i in range(5)
    )
    sqlite = connection.vendor == "sqlite"
    url = live.sqlite_copy(tmp_path / "db.sqlite3") if sqlite else live.postgres_url()
    folder = tmp_path / "answers-index"
    env = live.env_for(tmp_path, url, XINFANG_ANSWERS_INDEX_DIR=str(folder))
    probe = (
        "import io, xinfang.wsgi; from xinfang.answers import index; calls = []; "
        "real = index._build; index._build = lambda s: calls.append(1) or real(s); "
        "assert index._warming is None; "  # nothing at import (gunicorn --preload forks after)
        "environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/accounts/login/', 'SERVER_NAME': "
        "'127.0.0.1', 'SERVER_PORT': '80', 'HTTP_HOST': '127.0.0.1', 'wsgi.url_scheme': 'http',"
        " 'wsgi.input': io.BytesIO(), 'wsgi.errors': io.StringIO()}; "
        "b''.join(xinfang.wsgi.application(environ, lambda status, headers, *a: None)); "
        "index._warming.join(60); print(len(index._built.ids), len(calls))"
    )
    run = functools.partial(
        subprocess.run,
        [sys.executable, "-c", probe],
        env=env,
        cwd=live.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    assert list(folder.glob("index-*.npz"))
    second = run()
    assert second.returncode == 0, second.stderr[-2000:]
    assert first.stdout.split()[0] == second.stdout.split()[0] == "5"
    assert second.stdout.split()[1] == "0"  # loaded, not built


@pytest.mark.django_db(transaction=True)
def test_an_index_that_doubled_is_rebuilt_in_the_background(
    county, people, starter_csv, monkeypatch
):
    """Past twice the rows of its build the IDF is rebuilt, by a thread of its own: the search
    that notices it answers from the extended index at once."""
    services.starter_load(starter_csv)
    smoke = accepted(county, people, title="烧烤店油烟扰民", content="楼下烧烤油烟很大。")
    builds: list[str] = []
    real = index._build

    def counted(stamp):
        builds.append(threading.current_thread().name)
        return real(stamp)

    monkeypatch.setattr(index, "_build", counted)
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"
    ReplyEntry.objects.bulk_create(
        ReplyEntry(
            source=Source.STARTER,
            external_id=f"x{i}",
            title=f"道路{i}",
            message="修路",
            reply="已处理",
        )
        for i in range(250)
    )
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"  # extended, at once
    index._rebuilding.join(20)
    assert builds == [threading.current_thread().name, "answers-index-rebuild"]
    assert index._built is not None and index._built.built_rows == 253
    assert selectors.similar_replies(smoke)[0].entry.external_id == "1"
