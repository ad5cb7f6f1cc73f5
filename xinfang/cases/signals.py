"""Signals of the cases app.

`event_recorded` is sent for every timeline entry, inside the transaction that writes it, so a
receiver that writes (the notification outbox, the backlog rules) commits or rolls back with it.
Receivers get `event` (a CaseEvent) and `case`.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from xinfang.cases.models import HolidayOverride

event_recorded = Signal()


@receiver([post_save, post_delete], sender=HolidayOverride)
def _holiday_changed(**kwargs) -> None:
    from xinfang.orgs import rulecache

    rulecache.bump(rulecache.CALENDAR)  # every process's work_calendar() follows
