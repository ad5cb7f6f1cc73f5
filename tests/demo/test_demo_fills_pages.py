"""A fresh demo fills every page: a trained routing model, the backlog scan's 积案, a month of
leader reception on the rota, reception records with instructions, public bookings and a
screening round, all through the apps' services, dated from the demo's `now`, once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from tests.demo.conftest import demo_base_csv
from tests.factories import bj
from xinfang.backlog.models import BacklogCase, ScreeningEntry, ScreeningRound
from xinfang.cases.models import Case, State
from xinfang.demo.fill import fill_pages
from xinfang.demo.org import ensure_demo_org
from xinfang.demo.run import generate
from xinfang.orgs.models import User
from xinfang.reception.models import (
    AppointmentSlot,
    Booking,
    Instruction,
    ReceptionMatter,
    ReceptionRecord,
    RotaDay,
)
from xinfang.routing.models import AutoRoute
from xinfang.routing.views import TRAIN_HINT

NOW = bj(2026, 11, 20, 15, 30)  # a Friday
N = 80


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def _demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo for the module (as Django's setUpTestData): built in a transaction that is
    rolled back after the module's last test; each test runs in a savepoint inside it."""
    model = tmp_path_factory.mktemp("demo-fill") / "routing-model.joblib"
    with (
        django_db_blocker.unblock(),
        override_settings(
            XINFANG_ROUTING_MODEL=str(model),
            XINFANG_ROUTING_BASE_CSV=str(demo_base_csv(model.parent)),
        ),
        time_machine.travel(NOW, tick=False),
        pytest.raises(_Rollback),
        transaction.atomic(),
    ):
        org = ensure_demo_org()
        yield org, generate(cases=N, seed=7, now=NOW, org=org), str(model)
        raise _Rollback


@pytest.fixture
def demo(_demo_world, db, settings):
    org, result, model = _demo_world
    settings.XINFANG_ROUTING_MODEL = model
    with time_machine.travel(NOW, tick=False):
        yield org, result


def _client(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def test_the_backlog_scan_has_run_and_the_board_lists_its_matters(demo, client):
    _org, result = demo
    assert result.filled is not None and result.filled.backlog > 0
    flagged = BacklogCase.objects.count()
    assert flagged == result.filled.backlog
    board = _client(client, "supervisor").get(reverse("backlog:board") + "?format=json").json()
    assert board["total"] == flagged
    page = client.get(reverse("backlog:dashboard")).content.decode()
    assert "已实现清仓见底" not in page


def test_a_registered_matter_shows_suggestions_of_a_model_trained_on_the_demo(
    demo, client, settings
):
    _org, result = demo
    assert result.filled.model["n_train"] >= 10
    assert result.filled.model["model"] == settings.XINFANG_ROUTING_MODEL
    case = Case.objects.filter(state=State.REGISTERED).order_by("number").first()
    assert case is not None
    response = _client(client, "clerk").get(
        reverse("routing:case_panel", args=[case.pk]) + "?fragment=1"
    )
    assert response.status_code == 200
    suggestions = response.context["routing"]["suggestions"]
    assert suggestions is not None and len(suggestions.items) >= 1
    assert TRAIN_HINT not in response.content.decode()
    assert "尚未训练分派模型" not in response.content.decode()


def test_the_demo_shows_matters_the_model_routed_itself(demo, client):
    """智能派单: the demo registers a few matters at the end, through the registration service;
    the model routes those it is sure of, and the units have accepted some of them."""
    _org, result = demo
    auto = result.filled.auto
    routes = AutoRoute.objects.select_related("case").order_by("routed_at")
    assert auto["registered"] >= auto["routed"] == routes.count() >= 3
    assert all(NOW - dt.timedelta(hours=6) <= r.routed_at <= NOW for r in routes)
    first = routes.first()
    assert first is not None and first.case.state == State.ACCEPTED
    assert first.case.category is not None and first.case.lead_unit_id == first.unit_id
    page = _client(client, "clerk").get(reverse("cases:detail", args=[first.case.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and '<span class="badge">智能派单</span>' in html
    report = client.get(reverse("routing:report") + "?format=json&month=2026-11").json()["auto"]
    assert report["auto_routed"] == routes.count()
    assert report["right"] == auto["accepted"] >= 1 and report["precision"] == 1.0


def test_the_rota_has_a_month_of_duty_days_with_leaders_in_turn(demo, client):
    org, result = demo
    days = list(RotaDay.objects.filter(rota__office=org.office).order_by("date"))
    assert len(days) == result.filled.rota_days >= 20
    november = [d for d in days if d.date.month == 11]
    assert november[0].date.day <= 3 and november[-1].date.day == 30  # the whole month
    assert all(d.leader_id or d.leader_name for d in days)
    assert len({(d.leader_id, d.leader_name) for d in days}) == 4
    page = _client(client, "clerk").get(reverse("reception:rota") + "?month=2026-11")
    assert page.status_code == 200
    text = page.content.decode()
    assert "副县长刘建华" in text and org.users["supervisor"].display_name in text


def test_reception_records_link_matters_and_carry_instructions(demo, client):
    org, result = demo
    records = ReceptionRecord.objects.filter(office=org.office)
    assert records.count() == result.filled.records >= 5
    assert all(r.held_at < NOW for r in records)
    assert ReceptionMatter.objects.filter(record__in=records).count() >= result.filled.records
    instructions = Instruction.objects.filter(record__in=records)
    assert instructions.count() == result.filled.instructions
    assert instructions.filter(done_at__isnull=False).exists()
    assert instructions.filter(done_at__isnull=True, deadline__gt=NOW).exists()
    overdue = instructions.filter(done_at__isnull=True, deadline__lt=NOW)
    assert overdue.exists()
    assert not instructions.filter(case__kind="accusation").exists()
    clerk = _client(client, "clerk")
    listing = clerk.get(reverse("reception:records"))
    assert listing.status_code == 200 and len(listing.context["records"]) == records.count()
    first = records.order_by("held_at").first()
    assert clerk.get(reverse("reception:record", args=[first.pk])).status_code == 200
    for name in ("reception:instructions", "reception:instructions_done"):
        assert clerk.get(reverse(name)).status_code == 200
    late = clerk.get(reverse("reception:instructions_overdue")).content.decode()
    assert all(i.text in late for i in overdue)


def test_citizens_have_booked_the_coming_reception_slots(demo, client):
    org, result = demo
    slots = AppointmentSlot.objects.filter(office=org.office)
    assert slots.count() == result.filled.slots >= 3
    assert all(s.date > NOW.date() for s in slots)
    bookings = Booking.objects.filter(slot__in=slots)
    assert bookings.count() == result.filled.bookings
    live = bookings.filter(status=Booking.Status.BOOKED).count()
    assert live >= 1 and sum(s.booked for s in slots) == live
    page = _client(client, "clerk").get(reverse("reception:slots"))
    assert page.status_code == 200
    detail = client.get(reverse("reception:slot", args=[slots.order_by("date").first().pk]))
    assert detail.status_code == 200


def test_a_screening_round_lists_issues_never_people(demo, client):
    org, result = demo
    round_ = ScreeningRound.objects.get(office=org.office)
    assert round_.name == "2026年第四季度矛盾纠纷排查"
    entries = ScreeningEntry.objects.filter(round=round_)
    assert entries.count() == result.filled.screening_entries >= 5
    assert {e.status for e in entries} == {"pending", "in_progress", "resolved"}
    page = _client(client, "clerk").get(reverse("backlog:round", args=[round_.pk]))
    assert page.status_code == 200
    assert entries.first().issue[:10] in page.content.decode()
    assert client.get(reverse("backlog:rounds")).status_code == 200


def _fill_snapshot(org):
    return {
        "rota": list(
            RotaDay.objects.filter(rota__office=org.office)
            .order_by("date")
            .values_list("date", "leader_id", "leader_name")
        ),
        "records": list(
            ReceptionRecord.objects.order_by("held_at").values_list(
                "held_at", "kind", "leader_id", "leader_name", "visitors", "summary"
            )
        ),
        "matters": sorted(ReceptionMatter.objects.values_list("record__held_at", "case__number")),
        "instructions": sorted(
            Instruction.objects.values_list("case__number", "text", "deadline", "done_at")
        ),
        "bookings": sorted(Booking.objects.values_list("slot__date", "name", "phone", "status")),
        "entries": sorted(ScreeningEntry.objects.values_list("issue", "status", "deadline")),
    }


def test_filling_again_adds_nothing_and_the_seed_decides_what_is_filled(demo):
    org, _result = demo
    before = _fill_snapshot(org)
    backlog = BacklogCase.objects.count()
    with time_machine.travel(NOW, tick=False):
        again = fill_pages(org=org, seed=7, now=NOW)
    assert _fill_snapshot(org) == before
    assert BacklogCase.objects.count() == backlog
    assert (again.backlog, again.records, again.slots, again.screening_entries) == (0, 0, 0, 0)
    assert "n_train" in again.model  # the model is trained again on the matters there are
