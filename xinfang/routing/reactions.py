"""Routing's reactions to timeline entries, declared in `settings.CASE_EVENT_REACTIONS`.

`REACTION` (every event, history too): when a matter is routed (交办), settle its suggestion
record with the unit chosen, so the take-rate report counts it; and keep the record of each
automatic route (智能派单) up to date: created on its 转送/交办, wrong on 撤回智能派单 or
异议退回, right when the unit moves on (`auto.record_outcome`).

`AUTO` (timely: news only, never history): a newly registered matter is routed automatically
once its registration commits (`auto.schedule`; the module `routing.auto` says why there).
Its batch form does nothing: the ledger import registers what the office routes itself.

Both run in the transaction that records the event.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext

ROUTED = EventKind.ROUTED
# the kinds that settle an automatic route (routing.auto.RIGHT_KINDS | WRONG_KINDS), here
# without importing routing.auto, which loads the classifier
SETTLING = frozenset(
    {
        EventKind.ACCEPTED,
        EventKind.DECLINED,
        EventKind.NOT_ACCEPTED_AGAIN,
        EventKind.MERGED,
        EventKind.AUTO_ROUTE_UNDONE,
        EventKind.OBJECTED,
    }
)


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    if event.kind == ROUTED:
        _settle(case, event)
    elif event.kind in SETTLING:
        _outcome(case, event)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: a bulk path registers (never routes), so the batch passes over every
    event without a query."""
    for event in events:
        on_event(event, event.case, context)


def _settle(case: Case, event: CaseEvent) -> None:
    # imported here: routing's services load the classifier and SciPy (a second per process),
    # which a process that only registers (a ledger import) must not wait for
    from xinfang.routing import auto
    from xinfang.routing.services import suggestion_settle_route

    suggestion_settle_route(case=case, event=event)
    auto.record_route(case, event)


def _outcome(case: Case, event: CaseEvent) -> None:
    from xinfang.routing import auto

    auto.record_outcome(case, event)


def on_registered(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    if event.kind == EventKind.REGISTERED and settings.XINFANG_AUTO_ROUTE:
        from xinfang.routing import auto

        auto.schedule(case)


def on_registered_batch(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """Imports are never routed automatically (see the module's text)."""


REACTION = Reaction(name="routing", one=on_event, batch=on_events)
AUTO = Reaction(name="auto_route", one=on_registered, batch=on_registered_batch, timely=True)
