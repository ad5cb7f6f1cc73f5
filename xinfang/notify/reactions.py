"""Notify's reaction to a timeline entry: tell the petitioner about a public step.

Declared in `settings.CASE_EVENT_REACTIONS`; runs inside the transaction that records the event,
so the outbox rows survive a crash exactly when the event does.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.reactions import Reaction, ReactionContext
from xinfang.cases.selectors import petitioners_to_inform
from xinfang.notify import messages
from xinfang.notify.models import CitizenContact
from xinfang.notify.services import contacts_of, outbox_insert, queue_to_citizen

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
    """The batch form: the contacts in one query, the outbox rows in one multi-row insert.

    Only a matter that others were merged into (rare, never a fresh import) takes the
    one-event road for its merged petitioners.
    """
    told = [(e, case, body) for e in events if (body := _text(e, case := e.case, context))]
    if not told:
        return
    ids = {e.case_id for e, _c, _b in told}
    emails: dict[int, str] = dict(_where_in(CitizenContact.objects.all(), "case_id", ids, "email"))
    outbox_insert(
        [
            (channel, recipient, messages.citizen_subject(case), body, e.kind, e.case_id)
            for e, case, body in told
            for channel, recipient in contacts_of(case.petitioner_phone, emails.get(e.case_id, ""))
        ]
    )
    merged_into = {pk for (pk,) in _where_in(Case.objects.all(), "linked_to_id", ids)}
    for e, case, body in told:
        if e.case_id in merged_into:
            _tell_merged(case, body, e.kind)


def _where_in(rows: QuerySet, column: str, ids: set[int], *fields: str) -> list[tuple]:
    """(`column`, *`fields`) of the rows whose `column` is one of `ids`. A batch's matters are
    mostly consecutive (an import's): then one range, whose extra rows are dropped here, costs
    less than an IN list of thousands, whose parameters cost more than the insert."""
    low, high = min(ids), max(ids)
    if high - low >= 2 * len(ids):
        return list(rows.filter(**{f"{column}__in": ids}).values_list(column, *fields))
    near = rows.filter(**{f"{column}__gte": low, f"{column}__lte": high})
    return [row for row in near.values_list(column, *fields) if row[0] in ids]


def _tell_merged(case: Case, body: str, kind: str) -> None:
    """并单: everyone whose matter was merged into this one hears when it moves, too."""
    if not case.pk or not case.repeats.exists():
        return
    for merged in petitioners_to_inform(case)[1:]:
        note = f"您反映的事项{merged.number}已并入事项{case.number}一并办理。"
        queue_to_citizen(case=merged, body=note + body, kind=kind)


REACTION = Reaction(name="notify", one=on_event, batch=on_events, timely=True)
