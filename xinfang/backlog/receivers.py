"""Receivers: the backlog follows its matters through `xinfang.cases.signals.event_recorded`.

The signal is sent inside the transaction that writes the event, so a reopen (反弹) commits or
rolls back together with the repeat submission that caused it.
"""

from __future__ import annotations

from django.dispatch import receiver

from xinfang.cases.signals import event_recorded


@receiver(event_recorded, dispatch_uid="backlog.on_case_event")
def _on_case_event(sender, event, case, **kwargs) -> None:
    from xinfang.backlog.services import on_case_event

    on_case_event(event=event, case=case)
