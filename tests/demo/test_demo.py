"""The demo generator: both paths give the same realistic matters, in every state, with clocks
and timelines exactly as the services produce them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from stdnum.cn import ric

from tests.demo.conftest import demo_base_csv
from tests.factories import bj
from xinfang.cases import clocks, search
from xinfang.cases.models import (
    CLOSED_STATES,
    HOTLINE_KINDS,
    Case,
    CaseEvent,
    CoHandler,
    Representative,
    State,
)
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.cases.workflow import ACTIONS, STATE_CLOCK
from xinfang.demo import words
from xinfang.demo.org import DEMO_PASSWORD, MAIN_USERS, ensure_demo_org
from xinfang.demo.plans import Planner
from xinfang.demo.run import _first_pass, generate
from xinfang.orgs.models import Category, DispatchRule, Place, Unit, User

NOW = bj(2026, 11, 20, 15, 30)
N = 60

CASE_FIELDS = [
    f.attname for f in Case._meta.concrete_fields if f.attname not in {"id", "linked_to_id"}
]


def snapshot() -> dict[str, dict]:
    """Everything about every matter that a user could see, keyed by case number."""
    out = {}
    for case in Case.objects.select_related("linked_to").order_by("number"):
        row = {name: getattr(case, name) for name in CASE_FIELDS}
        row["linked_to"] = case.linked_to.number if case.linked_to else None
        row["events"] = [
            (e.kind, e.at, e.actor_id, e.unit_id, e.public, e.details)
            for e in CaseEvent.objects.filter(case=case).order_by("at", "id")
        ]
        row["co"] = sorted(CoHandler.objects.filter(case=case).values_list("unit_id", flat=True))
        row["reps"] = sorted(
            Representative.objects.filter(case=case).values_list("name", "id_number", "phone")
        )
        out[case.number] = row
    return out


class _Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    return ensure_demo_org()


SEARCH_WORDS = ("欠薪", "物业", "噪音")


@pytest.fixture(scope="module")
def _bulk_world(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """One bulk run for the module's read-only tests: what they read (the matters, the units'
    paths, the search's answers) is taken inside a transaction that is then rolled back."""
    world: dict = {}
    folder = tmp_path_factory.mktemp("demo-bulk")  # its model: never the developer's var/
    with (
        django_db_blocker.unblock(),
        override_settings(
            XINFANG_ROUTING_MODEL=str(folder / "routing-model.joblib"),
            XINFANG_ROUTING_BASE_CSV=str(demo_base_csv(folder)),
        ),
        pytest.raises(_Rollback),
        transaction.atomic(),
    ):
        org = ensure_demo_org()
        generate(cases=N, seed=7, now=NOW, use_bulk=True, org=org, batch_size=17)
        world["matters"] = snapshot()
        world["paths"] = dict(Unit.objects.values_list("id", "path"))
        world["hits"] = {
            word: set(
                search.filter_cases(Case.objects.all(), word).values_list("number", flat=True)
            )
            for word in SEARCH_WORDS
        }
        raise _Rollback
    return world


@pytest.fixture
def bulk_run(_bulk_world) -> dict:
    return _bulk_world["matters"]


def test_bulk_and_service_paths_give_identical_matters_and_timelines(org):
    with pytest.raises(_Rollback), transaction.atomic():
        generate(cases=N, seed=7, now=NOW, use_bulk=True, org=org, batch_size=17)
        by_bulk = snapshot()
        raise _Rollback
    assert not Case.objects.exists()
    generate(cases=N, seed=7, now=NOW, use_bulk=False, org=org)
    by_services = snapshot()
    assert len(by_services) == N
    assert list(by_bulk) == list(by_services)
    for number, row in by_services.items():
        assert by_bulk[number] == row, number


def test_every_state_appears_with_overdue_and_due_soon_matters(bulk_run):
    states = Counter(row["state"] for row in bulk_run.values())
    assert set(states) == set(State.values)
    office_clocks = [
        r
        for r in bulk_run.values()
        if r["due_at"] and r["clock"] not in {"review_request", "rereview_request"}
    ]
    assert any(r["due_at"] <= NOW for r in office_clocks), "some matters are overdue"
    assert any(NOW < r["due_at"] <= NOW + dt.timedelta(days=3) for r in office_clocks), (
        "some due soon"
    )
    kinds = Counter(row["kind"] for row in bulk_run.values())
    assert kinds["appeal"] and any(kinds[k] for k in HOTLINE_KINDS)
    channels = {row["channel"] for row in bulk_run.values()}
    assert {"online", "visit", "phone"} <= channels


def test_times_lie_in_the_last_eighteen_months_and_never_in_the_future(bulk_run):
    for row in bulk_run.values():
        assert NOW - dt.timedelta(days=700) < row["registered_at"] <= NOW
        times = [e[1] for e in row["events"]]
        assert times == sorted(times) and times[-1] <= NOW
        assert times[0] == row["registered_at"]


def test_numbers_are_unique_and_follow_registration_order(bulk_run):
    rows = list(bulk_run.values())
    assert len({r["number"] for r in rows}) == len(rows)
    for year in {r["year"] for r in rows}:
        same_year = sorted((r for r in rows if r["year"] == year), key=lambda r: r["seq"])
        assert [r["seq"] for r in same_year] == list(range(1, len(same_year) + 1))
        assert [r["registered_at"] for r in same_year] == sorted(
            r["registered_at"] for r in same_year
        )


def test_id_numbers_and_phones_are_valid(bulk_run):
    ids = [r["petitioner_id_number"] for r in bulk_run.values() if r["petitioner_id_number"]]
    ids += [rep[1] for r in bulk_run.values() for rep in r["reps"]]
    phones = [r["petitioner_phone"] for r in bulk_run.values() if r["petitioner_phone"]]
    assert len(ids) > N // 3 and len(phones) > N // 2
    for number in ids:
        assert ric.is_valid(number), number
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN")), phone


def test_all_id_regions_and_phone_prefixes_are_valid():
    import random

    rng = random.Random(1)
    for region in words.ID_REGIONS:
        for born in (1950, 1975, 2004):
            body = f"{region}{born}0615123"
            assert ric.is_valid(body + ric.calc_check_digit(body + "0")), region
    for _ in range(300):
        assert ric.is_valid(words.id_number(rng))
    for prefix in words.MOBILE_PREFIXES:
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"{prefix}12345678", "CN")), prefix


def test_due_times_equal_the_clock_functions(bulk_run, db):
    rules, calendar = clock_rules(), work_calendar()
    for number, row in bulk_run.items():
        expected_clock = STATE_CLOCK[row["state"]]
        if expected_clock in {"accept", "handle"} and row["kind"] in HOTLINE_KINDS:
            expected_clock = row["kind"]
        assert row["clock"] == (expected_clock or ""), number
        if not expected_clock:
            assert row["due_at"] is None and row["state"] in CLOSED_STATES
            continue
        rule = rules[row["clock"]]
        length = rule.length + (row["extension_days"] if row["clock"] == "handle" else 0)
        due = clocks.due_at(row["clock_started_at"], length, rule.kind, calendar)
        assert row["due_at"] == due, number
        assert row["warn_at"] == due - dt.timedelta(days=3)


def test_timelines_are_valid_paths_through_the_workflow(bulk_run):
    by_event = {a.event: a for a in ACTIONS.values()}
    for number, row in bulk_run.items():
        kinds = [e[0] for e in row["events"]]
        assert kinds[0] == "case.registered"
        state = State.REGISTERED
        for kind in kinds[1:]:
            action = by_event[kind]
            assert state in action.sources, (number, kinds)
            state = action.target or state
        assert state == row["state"], number
        assert row["version"] == len(kinds)


def test_search_finds_two_character_words(bulk_run, _bulk_world):
    for word in SEARCH_WORDS:
        expected = {n for n, r in bulk_run.items() if word in r["title"] + r["content"]}
        assert expected, word
        assert _bulk_world["hits"][word] == expected


def test_accusations_never_go_to_the_accused_unit(bulk_run, _bulk_world):
    accused = [r for r in bulk_run.values() if r["accused_unit_id"]]
    assert accused
    paths = _bulk_world["paths"]
    for row in accused:
        if row["lead_unit_id"]:
            assert not paths[row["lead_unit_id"]].startswith(paths[row["accused_unit_id"]])


def test_same_seed_same_data_and_another_seed_other_data(org):
    plan = Planner(org, seed=3, now=NOW, total=20)
    again = Planner(org, seed=3, now=NOW, total=20)
    other = Planner(org, seed=4, now=NOW, total=20)
    for planner in (plan, again, other):
        _first_pass(planner, 20, 0)
    titles = [plan.plan(i).title for i in range(20)]
    assert titles == [again.plan(i).title for i in range(20)]
    assert titles != [other.plan(i).title for i in range(20)]


def test_organisation_is_idempotent_and_complete(org):
    counts = (
        Place.objects.count(),
        Unit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        User.objects.count(),
    )
    ensure_demo_org()
    assert counts == (
        Place.objects.count(),
        Unit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        User.objects.count(),
    )
    office = Unit.objects.get(kind=Unit.Kind.PETITION_OFFICE)
    assert office.name == "示范县信访局"
    assert Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).count() >= 10
    assert Unit.objects.filter(kind=Unit.Kind.SCHOOL, parent__name="示范县教育局").count() == 2
    assert DispatchRule.objects.filter(place__isnull=False, unit__kind=Unit.Kind.TOWN).exists()
    assert Category.objects.filter(parent__isnull=True).count() >= 8
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.parametrize("username", [u.username for u in MAIN_USERS])
def test_demo_users_log_in_with_the_demo_password(org, client, username):
    assert client.login(username=username, password=DEMO_PASSWORD)


def test_command_with_if_empty_generates_once_and_prints_the_logins(db):
    out = StringIO()
    call_command("demo", "--cases", "25", "--if-empty", "--seed", "5", stdout=out)
    text = out.getvalue()
    assert Case.objects.count() == 25
    assert "clerk" in text and DEMO_PASSWORD in text and "已终结" in text
    again = StringIO()
    call_command("demo", "--cases", "25", "--if-empty", stdout=again)
    assert Case.objects.count() == 25
    assert "跳过" in again.getvalue() and "supervisor" in again.getvalue()


def test_command_bulk_adds_matters_after_existing_ones(db):
    call_command("demo", "--cases", "12", "--no-bulk", stdout=StringIO())
    call_command("demo", "--cases", "30", "--bulk", "--seed", "9", stdout=StringIO())
    assert Case.objects.count() == 42
    assert Case.objects.values("number").distinct().count() == 42


def test_worker_processes_write_the_same_matters(org):
    with pytest.raises(_Rollback), transaction.atomic():
        generate(cases=N, seed=11, now=NOW, use_bulk=True, org=org, batch_size=13, workers=0)
        alone = snapshot()
        raise _Rollback
    generate(cases=N, seed=11, now=NOW, use_bulk=True, org=org, batch_size=13, workers=2)
    assert snapshot() == alone
