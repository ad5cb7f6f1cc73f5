"""Reads of the outbox for the staff page."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from xinfang.cases.validators import mask_phone
from xinfang.notify.models import Outbox


def mask_recipient(channel: str, recipient: str) -> str:
    """138****5678, or z***@example.com."""
    if channel == Outbox.Channel.EMAIL and "@" in recipient:
        name, domain = recipient.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return mask_phone(recipient)


def outbox_list(*, status: str = "", channel: str = "") -> QuerySet[Outbox]:
    qs = Outbox.objects.select_related("case").order_by("-created_at", "-id")
    if status in Outbox.Status.values:
        qs = qs.filter(status=status)
    if channel in Outbox.Channel.values:
        qs = qs.filter(channel=channel)
    return qs


def outbox_counts() -> dict[str, int]:
    counts = dict(Outbox.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {value: counts.get(value, 0) for value in Outbox.Status.values}
