"""Listens to the cases app: a group visit (集体访) registered on channel 来访 starts a clock."""

from __future__ import annotations

from django.dispatch import receiver

from xinfang.cases.signals import event_recorded


@receiver(event_recorded, dispatch_uid="reception.group_visit")
def open_group_visit(*, event, case, **kwargs) -> None:
    """Runs inside the registering transaction, so the two commit or roll back together."""
    if event.kind != "case.registered":
        return
    from xinfang.reception.services import group_visit_open

    group_visit_open(case=case)
