"""Reactions: what follows a timeline entry is one declared, ordered list (settings), run in the
transaction that records the event; the caller says what it does itself (the portal's receipt)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from tests.factories import VALID_PHONE, bj, register
from xinfang.cases import reactions
from xinfang.cases.models import Case, CaseEvent, Channel
from xinfang.cases.reactions import Reaction, ReactionContext
from xinfang.notify.models import Outbox
from xinfang.reception.models import GroupVisitReception

AT = bj(2026, 10, 8, 9)
HEARD: list[tuple[str, str]] = []


def _listener(name: str) -> Reaction:
    return Reaction(
        name=name,
        one=lambda event, case, context: HEARD.append((name, event.kind)),
        batch=lambda events, context: HEARD.extend((name, e.kind) for e in events),
    )


FIRST, SECOND = _listener("first"), _listener("second")


class Refused(Exception):
    pass


def _refuse(event, case, context):
    raise Refused


REFUSING = Reaction(name="refusing", one=_refuse, batch=lambda events, context: None)


@pytest.fixture
def heard():
    HEARD.clear()
    yield HEARD
    HEARD.clear()


def _outbox() -> list[tuple[str, str, str, int]]:
    return sorted(Outbox.objects.values_list("channel", "recipient", "kind", "case_id"))


def test_the_declared_list_is_notify_backlog_reception_routing():
    assert [r.name for r in reactions.declared()] == [
        "notify",
        "backlog",
        "reception",
        "routing",
        "auto_route",
        "answers",
    ]


def test_reactions_run_in_the_declared_order(county, people, settings, heard):
    settings.CASE_EVENT_REACTIONS = [f"{__name__}.SECOND", f"{__name__}.FIRST"]
    register(county, people.clerk, AT)
    assert heard == [("second", "case.registered"), ("first", "case.registered")]


def test_a_failing_reaction_rolls_the_registration_back(county, people, settings):
    settings.CASE_EVENT_REACTIONS = [
        "xinfang.notify.reactions.REACTION",
        f"{__name__}.REFUSING",
    ]
    with pytest.raises(Refused):
        register(county, people.clerk, AT)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert not Outbox.objects.exists()


def test_a_registration_tells_the_petitioner_unless_the_caller_sends_the_receipt(county, people):
    told = register(county, people.clerk, AT)
    assert _outbox() == [("sms", VALID_PHONE, "case.registered", told.pk)]
    register(
        county,
        people.clerk,
        AT,
        title="另一件事",
        context=ReactionContext(receipt_by_caller=True),
    )
    assert _outbox() == [("sms", VALID_PHONE, "case.registered", told.pk)]


def test_the_batch_form_leaves_what_one_event_at_a_time_leaves(county, people, settings):
    """The bulk import's road: the same rows as a registration, from one call per batch."""
    one = register(county, people.clerk, AT, group_size=6)
    expected = [(c, r, k) for c, r, k, _ in _outbox()]
    settings.CASE_EVENT_REACTIONS = []  # registered quietly, then the batch reacts
    quiet = [register(county, people.clerk, AT, group_size=6) for _ in range(2)]
    settings.CASE_EVENT_REACTIONS = [
        "xinfang.notify.reactions.REACTION",
        "xinfang.backlog.reactions.REACTION",
        "xinfang.reception.reactions.REACTION",
        "xinfang.routing.reactions.REACTION",
    ]
    events = list(CaseEvent.objects.filter(case__in=quiet).select_related("case"))
    with transaction.atomic():
        reactions.run_batch(events)
    for case in quiet:
        assert [(c, r, k) for c, r, k, pk in _outbox() if pk == case.pk] == expected
    assert GroupVisitReception.objects.filter(case__in=[one, *quiet]).count() == 3


def test_the_batch_form_respects_the_callers_receipt(county, people, settings):
    settings.CASE_EVENT_REACTIONS = []
    case = register(county, people.clerk, AT)
    settings.CASE_EVENT_REACTIONS = ["xinfang.notify.reactions.REACTION"]
    events = list(CaseEvent.objects.filter(case=case).select_related("case"))
    reactions.run_batch(events, ReactionContext(receipt_by_caller=True))
    assert not Outbox.objects.exists()
    reactions.run_batch(events)
    assert _outbox() == [("sms", VALID_PHONE, "case.registered", case.pk)]


def test_history_tells_no_one_and_starts_no_clock_but_the_others_still_hear(
    county, people, settings, heard
):
    """A group visit typed in 40 days late is history: no SMS to the petitioner, no 2-hour
    reception clock; the same visit registered as news gets both. Reactions that are not
    timely (backlog, routing) hear both."""
    settings.XINFANG_HISTORY_DAYS = 30
    settings.CASE_EVENT_REACTIONS = [
        "xinfang.notify.reactions.REACTION",
        "xinfang.reception.reactions.REACTION",
        f"{__name__}.FIRST",
    ]
    with time_machine.travel(AT + dt.timedelta(days=40), tick=False):
        register(county, people.clerk, AT, channel=Channel.VISIT, group_size=6)  # history
        new = register(
            county, people.clerk, AT + dt.timedelta(days=39), channel=Channel.VISIT, group_size=6
        )
    assert [pk for *_, pk in _outbox()] == [new.pk]
    assert list(GroupVisitReception.objects.values_list("case_id", flat=True)) == [new.pk]
    assert heard == [("first", "case.registered")] * 2


def test_history_is_cut_in_the_batch_form_too(county, people, settings, heard):
    settings.XINFANG_HISTORY_DAYS = 30
    settings.CASE_EVENT_REACTIONS = []
    with time_machine.travel(AT + dt.timedelta(days=40), tick=False):
        old = register(county, people.clerk, AT, channel=Channel.VISIT, group_size=6)
        new = register(
            county, people.clerk, AT + dt.timedelta(days=39), channel=Channel.VISIT, group_size=6
        )
        settings.CASE_EVENT_REACTIONS = [
            "xinfang.notify.reactions.REACTION",
            "xinfang.reception.reactions.REACTION",
            f"{__name__}.FIRST",
        ]
        events = CaseEvent.objects.filter(case__in=[old, new]).select_related("case")
        reactions.run_batch(list(events))
    assert [pk for *_, pk in _outbox()] == [new.pk]
    assert list(GroupVisitReception.objects.values_list("case_id", flat=True)) == [new.pk]
    assert heard == [("first", "case.registered")] * 2
