"""Reception's reaction to a timeline entry: a group visit (集体访) registered on channel 来访
starts the leader-reception clock.

Declared in `settings.CASE_EVENT_REACTIONS`; runs inside the registering transaction, so the
two commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext
from xinfang.reception.services import group_visit_open

REGISTERED = EventKind.REGISTERED


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    if event.kind == REGISTERED:
        group_visit_open(case=case)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: `group_visit_open` returns before any query unless the matter is a group
    visit on channel 来访 (a few rows of a ledger), so one call per event stays cheap."""
    for event in events:
        if event.kind == REGISTERED:
            group_visit_open(case=event.case)


REACTION = Reaction(name="reception", one=on_event, batch=on_events, timely=True)
