"""智能派单 in the demo: the plans decide every route of the demo's history, even when a trained
model is already there; only the demo's last registrations are routed by the model.

Transactional: automatic routing runs once a registration has committed (`routing.auto`)."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from tests.factories import bj
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.routing import engine
from xinfang.routing.models import AutoRoute

pytestmark = pytest.mark.django_db(transaction=True)

NOW = bj(2026, 11, 20, 15, 30)


def test_a_second_demo_run_with_a_model_in_place_replays_its_plans(settings):
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("demo", "--cases", "60", "--seed", "3", stdout=out)
        assert engine.load_model() is not None
        live = AutoRoute.objects.count()
        assert live >= 1 and "智能派单" in out.getvalue()
        # more matters of the last weeks, on the service path, with the model in place
        call_command("demo", "--cases", "60", "--seed", "4", "--no-fill", stdout=StringIO())
    assert Case.objects.count() == 120
    assert AutoRoute.objects.count() == live  # the second run's matters: routed by their plans
    auto_events = CaseEvent.objects.filter(kind=EventKind.ROUTED, details__has_key="auto")
    assert auto_events.count() == live
