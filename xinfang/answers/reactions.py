"""The knowledge base's reaction to a timeline entry: a reply (答复) enters the knowledge base
with its checks, in the transaction that records it, so the monthly report counts it at once.

Declared in `settings.CASE_EVENT_REACTIONS`. Not `timely`: a reply recorded as history (a ledger
of past years) is knowledge all the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext

REPLIED = EventKind.REPLIED


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    if event.kind == REPLIED:
        from xinfang.answers.services import entry_for_reply

        entry_for_reply(case=case, event=event)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: a bulk path (the ledger import) may carry replies; one row each."""
    for event in events:
        if event.kind == REPLIED:
            on_event(event, event.case, context)


REACTION = Reaction(name="answers", one=on_event, batch=on_events)
