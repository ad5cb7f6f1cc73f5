"""What follows a timeline entry: the reactions declared in `settings.CASE_EVENT_REACTIONS`.

`services.record_event` calls `run(event, case, context)` for every `CaseEvent` it writes, inside
the transaction that writes it, so a reaction's rows (an outbox message, a reopened backlog
case, a reception clock) commit or roll back with the event. The reactions run in the declared
order; each is a `Reaction` value exported by its app's `reactions` module.

A bulk path (the ledger import) writes many events at once and calls `run_batch(events,
context)`: every reaction then sees the whole batch once, each event carrying its `case`.

A `timely` reaction (a message to the citizen, the 2-hour reception clock of a group visit)
means something only when the event is news: an event recorded more than
`XINFANG_HISTORY_DAYS` after it happened (a ledger of past years, a letter typed in long after)
is history, and such reactions skip it, whichever road recorded it. The others (backlog,
routing) run for every event: history is what they are about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.dispatch import receiver
from django.test.signals import setting_changed
from django.utils import timezone
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from xinfang.cases.models import Case, CaseEvent


@dataclass(frozen=True)
class ReactionContext:
    """What the caller that records an event tells the reactions (反应上下文).

    `receipt_by_caller`: the caller queues the petitioner's registration message itself (the
    portal's receipt, which carries the query code), so notify must not send 已登记 a second time.
    """

    receipt_by_caller: bool = False


PLAIN = ReactionContext()

OneEvent = Callable[["CaseEvent", "Case", ReactionContext], None]
ManyEvents = Callable[[Sequence["CaseEvent"], ReactionContext], None]


@dataclass(frozen=True)
class Reaction:
    """One declared reaction (事件后续处理): its name, the form for one event, the batch form."""

    name: str
    one: OneEvent
    batch: ManyEvents
    timely: bool = False  # 时效性: not for events recorded as history (see the module's text)


@cache
def declared() -> tuple[Reaction, ...]:
    """The reactions of `CASE_EVENT_REACTIONS`, imported once per process, in order."""
    return tuple(import_string(path) for path in settings.CASE_EVENT_REACTIONS)


def is_history(event: CaseEvent, now: dt.datetime | None = None) -> bool:
    """Recorded more than XINFANG_HISTORY_DAYS after it happened (历史记录补录)."""
    now = now or timezone.now()
    return now - event.at > dt.timedelta(days=settings.XINFANG_HISTORY_DAYS)


def run(event: CaseEvent, case: Case, context: ReactionContext = PLAIN) -> None:
    """Every declared reaction to one event, in order, in the caller's transaction."""
    history = is_history(event)
    for reaction in declared():
        if not (reaction.timely and history):
            reaction.one(event, case, context)


def run_batch(events: Sequence[CaseEvent], context: ReactionContext = PLAIN) -> None:
    """Every declared reaction to a batch of events (each with its `case` set), in order."""
    now = timezone.now()
    news = [e for e in events if not is_history(e, now)]
    for reaction in declared():
        chosen = news if reaction.timely else events
        if chosen:
            reaction.batch(chosen, context)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs) -> None:
    # a test that overrides the list must see its own reactions, not the cached ones
    if setting == "CASE_EVENT_REACTIONS":
        declared.cache_clear()
