"""Backlog's reaction to a timeline entry: keep units in step; reopen or flag on a repeat.

Declared in `settings.CASE_EVENT_REACTIONS`; runs inside the transaction that records the event,
so a reopen (反弹) commits or rolls back together with the repeat submission that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinfang.backlog.flagging import WATCHED_EVENTS, on_case_event
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    on_case_event(event=event, case=case)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: a registration (the import's only kind) concerns no backlog case, so the
    batch costs nothing; the few watched kinds take the one-event road, in order."""
    for event in events:
        if event.kind in WATCHED_EVENTS:
            on_case_event(event=event, case=event.case)


REACTION = Reaction(name="backlog", one=on_event, batch=on_events)
