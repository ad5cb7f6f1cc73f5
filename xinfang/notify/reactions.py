"""Notify's reaction to a timeline entry: tell the petitioner about a public step.

Declared in `settings.CASE_EVENT_REACTIONS`; runs inside the transaction that records the event,
so the outbox rows survive a crash exactly when the event does.
"""

from __future__ import annotations

from collections.abc import Sequence

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext
from xinfang.cases.selectors import petitioners_to_inform
from xinfang.notify import messages
from xinfang.notify.models import CitizenContact, Outbox
from xinfang.notify.services import contacts_of, outbox_row, queue_to_citizen

REGISTERED = EventKind.REGISTERED


def _text(event: CaseEvent, case: Case, context: ReactionContext) -> str | None:
    if not event.public:
        return None
    if event.kind == REGISTERED and context.receipt_by_caller:
        return None  # the caller's receipt (portal: with the query code) is the 已登记 message
    return messages.citizen_text(event, case)


def on_event(event: CaseEvent, case: Case, context: ReactionContext) -> None:
    """Tell the petitioner (and those whose matters were merged into this one)."""
    body = _text(event, case, context)
    if body:
        queue_to_citizen(case=case, body=body, kind=event.kind)
        _tell_merged(case, body, event.kind)


def on_events(events: Sequence[CaseEvent], context: ReactionContext) -> None:
    """The batch form: the contacts in one query, the outbox rows in one insert.

    Only a matter that others were merged into (rare, never a fresh import) takes the
    one-event road for its merged petitioners.
    """
    told = [(e, body) for e in events if (body := _text(e, e.case, context))]
    if not told:
        return
    ids = {e.case_id for e, _ in told}
    emails = dict(CitizenContact.objects.filter(case_id__in=ids).values_list("case_id", "email"))
    rows = [
        outbox_row(
            channel=channel,
            recipient=recipient,
            body=body,
            kind=e.kind,
            case=e.case,
            subject=messages.citizen_subject(e.case),
        )
        for e, body in told
        for channel, recipient in contacts_of(e.case.petitioner_phone, emails.get(e.case_id, ""))
    ]
    Outbox.objects.bulk_create(rows)
    merged_into = set(
        Case.objects.filter(linked_to_id__in=ids).values_list("linked_to_id", flat=True)
    )
    for e, body in told:
        if e.case_id in merged_into:
            _tell_merged(e.case, body, e.kind)


def _tell_merged(case: Case, body: str, kind: str) -> None:
    """并单: everyone whose matter was merged into this one hears when it moves, too."""
    if not case.pk or not case.repeats.exists():
        return
    for merged in petitioners_to_inform(case)[1:]:
        note = f"您反映的事项{merged.number}已并入事项{case.number}一并办理。"
        queue_to_citizen(case=merged, body=note + body, kind=kind)


REACTION = Reaction(name="notify", one=on_event, batch=on_events)
