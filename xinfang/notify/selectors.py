"""Reads of the outbox for the staff page, scoped to the viewer.

A viewer sees the messages about matters they may see (`access.visible_cases`) and the staff
messages (reminders, digests) of units in their scope (`access.scope_unit_ids`); admins see every
row. A message to the petitioner of a matter whose petitioner the viewer may not see
(`access.can_see_petitioner`: a report's accused, or a report whose accused are pending) shows
"信访人（保密）" for its recipient, its body and its last error.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from xinfang.cases import access
from xinfang.cases.validators import mask_phone
from xinfang.notify.models import Outbox
from xinfang.orgs.models import User

SECRET = "信访人（保密）"  # noqa: S105 (the words shown, not a password)


def mask_recipient(channel: str, recipient: str) -> str:
    """138****5678, or z***@example.com."""
    if channel == Outbox.Channel.EMAIL and "@" in recipient:
        name, domain = recipient.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return mask_phone(recipient)


def visible_outbox(user: User) -> QuerySet[Outbox]:
    """Every message `user` may see listed."""
    ids = access.scope_unit_ids(user)
    if ids is None:
        return Outbox.objects.all()
    if not ids:
        return Outbox.objects.none()
    about_visible = Q(case_id__in=access.visible_cases(user).values("id"))
    return Outbox.objects.filter(about_visible | Q(case__isnull=True, unit_id__in=ids))


def outbox_list(user: User, *, status: str = "", channel: str = "") -> QuerySet[Outbox]:
    qs = (
        visible_outbox(user)
        .select_related("case")
        .prefetch_related("case__other_accused_units")
        .order_by("-created_at", "-id")
    )
    if status in Outbox.Status.values:
        qs = qs.filter(status=status)
    if channel in Outbox.Channel.values:
        qs = qs.filter(channel=channel)
    return qs


def outbox_rows(user: User, rows) -> list[dict]:
    """The page's rows: the message, and its recipient, body and error as `user` may read them."""
    out = []
    for row in rows:
        hidden = (
            row.case_id is not None
            and not row.to_staff
            and not access.can_see_petitioner(user, row.case, known_visible=True)
        )
        out.append(
            {
                "row": row,
                "hidden": hidden,
                "to": SECRET if hidden else mask_recipient(row.channel, row.recipient),
                "body": SECRET if hidden else row.body,
                "error": SECRET if hidden and row.last_error else row.last_error,
            }
        )
    return out


def outbox_counts(user: User) -> dict[str, int]:
    counts = dict(
        visible_outbox(user)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {value: counts.get(value, 0) for value in Outbox.Status.values}
