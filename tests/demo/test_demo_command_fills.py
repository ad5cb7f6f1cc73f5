"""`xinfang demo` fills the pages once: `--if-empty` leaves a filled demo alone, `--no-fill`
generates matters only."""

from __future__ import annotations

from io import StringIO

import time_machine
from django.core.management import call_command

from tests.factories import bj
from xinfang.backlog.models import ScreeningEntry, ScreeningRound
from xinfang.cases.models import Case
from xinfang.reception.models import Booking, ReceptionRecord, RotaDay

NOW = bj(2026, 11, 20, 15, 30)


def test_the_command_fills_once_and_if_empty_leaves_it_alone(db):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("demo", "--cases", "60", "--if-empty", "--seed", "3", stdout=out)
        text = out.getvalue()
        assert "分派模型已训练" in text and "积案扫描" in text and "领导接访" in text
        counts = (
            Case.objects.count(),
            ReceptionRecord.objects.count(),
            Booking.objects.count(),
            ScreeningEntry.objects.count(),
            RotaDay.objects.count(),
        )
        assert all(counts)
        call_command("demo", "--cases", "60", "--if-empty", stdout=StringIO())
    assert (
        Case.objects.count(),
        ReceptionRecord.objects.count(),
        Booking.objects.count(),
        ScreeningEntry.objects.count(),
        RotaDay.objects.count(),
    ) == counts


def test_no_fill_generates_matters_only(db):
    out = StringIO()
    call_command("demo", "--cases", "15", "--no-fill", stdout=out)
    assert Case.objects.count() == 15
    assert not ReceptionRecord.objects.exists() and not ScreeningRound.objects.exists()
    assert "分派模型" not in out.getvalue()
