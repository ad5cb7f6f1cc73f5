"""Reads of the outbox for the staff page, scoped to the viewer.

A viewer sees the messages about matters they may see (`access.visible_cases`) and the staff
messages (reminders, digests) of units in their scope (`access.scope_unit_ids`); admins see every
row. A message to the petitioner of a matter whose petitioner the viewer may not see
(`access.can_see_petitioner`: a report's accused, or a report whose accused are pending) shows
"信访人（保密）" for its recipient, its body and its last error.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value

from xinfang.cases import access
from xinfang.cases.models import Case, State
from xinfang.cases.validators import mask_phone
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.notify.models import Outbox, Reminder, ReminderRead
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
        .select_related("case__accused_unit")  # read by can_see_petitioner, row by row
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


# ---------------------------------------------------------------- my reminders (the bell)

BELL_CAP = 99  # the bell shows 99+ beyond this; counting stops there


def current_reminders() -> QuerySet[Reminder]:
    """Reminders whose clock run is still the matter's running clock (not paused, not moved on)."""
    return Reminder.objects.filter(
        case__clock=F("clock"),
        case__clock_started_at=F("clock_started_at"),
        case__due_at__isnull=False,
        case__paused=False,
    )


def my_reminders(user: User) -> QuerySet[Reminder]:
    """The running reminders addressed to `user`'s unit, each marked `is_read` for `user`."""
    if not user.is_authenticated or not user.is_active or user.unit_id is None:
        return Reminder.objects.annotate(is_read=Value(True)).none()
    read = ReminderRead.objects.filter(reminder=OuterRef("pk"), user_id=user.pk)
    return current_reminders().filter(unit_id=user.unit_id).annotate(is_read=Exists(read))


def unread_count(user: User) -> int:
    """The bell's figure: one indexed query, counting up to BELL_CAP + 1."""
    rows = my_reminders(user).filter(is_read=False).order_by().values("id")[: BELL_CAP + 1]
    return rows.count()


def my_due_cases(user: User, now: dt.datetime) -> QuerySet[Case]:
    """The due-soon and overdue matters of `user`'s queue whose running clock the office side owes."""
    queue = access.queue_cases(user, access.default_queue_scope(user))
    return (
        queue.filter(
            due_at__isnull=False,
            paused=False,
            state__in=[
                State.REGISTERED,
                State.ROUTED,
                State.ACCEPTED,
                State.REVIEWING,
                State.REREVIEWING,
            ],
        )
        .exclude(clock__in=CITIZEN_WINDOWS)
        .exclude(clock="")
        .filter(Q(due_at__lte=now) | Q(warn_at__lte=now))
        .order_by("due_at", "id")
    )
