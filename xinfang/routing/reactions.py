"""Routing's reaction to a timeline entry: when a matter is routed (交办), settle its suggestion
record with the unit chosen, so the take-rate report counts it.

Declared in `settings.CASE_EVENT_REACTIONS`; runs in the transaction that records the event.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext

ROUTED = EventKind.ROUTED


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    if event.kind == ROUTED:
        _settle(case, event)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: only 交办 concerns routing, and a bulk path registers (never routes), so
    the batch passes over every event without a query."""
    for event in events:
        if event.kind == ROUTED:
            _settle(event.case, event)


def _settle(case: Case, event: CaseEvent) -> None:
    # imported here: routing's services load the classifier and SciPy (a second per process),
    # which a process that only registers (a ledger import) must not wait for
    from xinfang.routing.services import suggestion_settle_route

    suggestion_settle_route(case=case, event=event)


REACTION = Reaction(name="routing", one=on_event, batch=on_events)
