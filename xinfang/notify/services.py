"""Writing to the outbox, delivering it, and the staff reminders and digests.

- `outbox_queue` writes one message; call it inside the transaction of whatever causes it.
- `reactions.on_event` (declared in settings.CASE_EVENT_REACTIONS) tells the citizen about public
  events.
- `outbox_claim` / `outbox_deliver` / `deliver_due` are the worker's side.
- `queue_reminders` and `queue_digests` tell staff what is due soon, overdue and new.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from xinfang.cases.bulkinsert import insert_rows
from xinfang.cases.clocks import LOCAL
from xinfang.cases.models import Case, State
from xinfang.cases.selectors import clock_rules
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.notify import budget, conf, messages, selectors
from xinfang.notify.delivery import (  # noqa: F401 - the worker's side, kept importable from here
    REDACTED,
    backoff,
    deliver_due,
    drain,
    message_key,
    outbox_claim,
    outbox_deliver,
    worker_name,
)
from xinfang.notify.models import CitizenContact, Digest, Outbox, Reminder, ReminderRead
from xinfang.orgs.models import Role, Unit, User

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- writing


def outbox_queue(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    case: Case | None = None,
    sensitive: bool = False,
    at: dt.datetime | None = None,
    unit: Unit | None = None,
    unit_id: int | None = None,
    priority: int | None = None,
) -> Outbox:
    """Write one message to the outbox. Runs in the caller's transaction.

    `unit` (or `unit_id`) is the unit whose staff a staff message goes to; a message to a
    petitioner has none. The outbox page scopes rows by it and by `case`. `priority` defaults
    to the kind's (`priority_of`).
    """
    row = outbox_row(
        channel=channel,
        recipient=recipient,
        body=body,
        kind=kind,
        subject=subject,
        case=case,
        sensitive=sensitive,
        at=at,
        unit=unit,
        unit_id=unit_id,
        priority=priority,
    )
    if row.channel == Outbox.Channel.SMS:
        reason = budget.sms_skip_reason(recipient=row.recipient, kind=kind, at=row.created_at)
        if reason:
            _skip(row, reason)
    row.save(force_insert=True)
    return row


def _skip(row: Outbox, reason: str) -> None:
    """未发送: past the SMS budget the row is kept, with the reason, and never sent."""
    row.status = Outbox.Status.SKIPPED
    row.last_error = reason
    if row.sensitive:
        row.body = REDACTED


def outbox_row(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    case: Case | None = None,
    sensitive: bool = False,
    at: dt.datetime | None = None,
    unit: Unit | None = None,
    unit_id: int | None = None,
    priority: int | None = None,
) -> Outbox:
    """One outbox message, not saved yet: a batch writes many with one bulk_create."""
    at = at or timezone.now()
    unit_id = unit.pk if unit is not None else unit_id
    if priority is None:
        priority = priority_of(kind, staff=unit_id is not None)
    return Outbox(
        channel=channel,
        recipient=recipient.strip(),
        subject=subject[:200],
        body=body,
        kind=kind,
        case=case,
        sensitive=sensitive,
        next_attempt_at=at,
        created_at=at,
        unit_id=unit_id,
        priority=priority,
    )


def priority_of(kind: str, *, staff: bool = False) -> int:
    """The send order of a message of `kind`: the portal's receipt (the citizen waits for the
    query code) first, then staff reminders, digests and supervision notices, then the citizens'
    step messages. Bulk batches (`outbox_insert`) come last."""
    if kind == "submission":
        return Outbox.Priority.RECEIPT
    if staff or kind == "digest" or kind.startswith("reminder."):
        return Outbox.Priority.STAFF
    return Outbox.Priority.CITIZEN


# The columns a message to a petitioner sets itself in `outbox_insert`; the rest are the
# defaults of a new row (pending, no attempt yet, no unit).
_MESSAGE_COLUMNS = ("channel", "recipient", "subject", "body", "kind", "case_id")


def outbox_insert(messages: Sequence[tuple[str, str, str, str, str, int]]) -> int:
    """Many messages to petitioners in one multi-row insert: (channel, recipient, subject, body,
    kind, case id) each, due now. The same rows as `outbox_queue`, for a batch of thousands
    (the ledger import tells every petitioner), where the ORM's per-object work would cost more
    than the import's own writing. They go at bulk priority: behind receipts, staff reminders
    and single step messages. Runs in the caller's transaction; returns the count."""
    now = timezone.now()
    template = Outbox(next_attempt_at=now, created_at=now, priority=Outbox.Priority.BULK)
    fields = [f for f in Outbox._meta.concrete_fields if not f.primary_key]
    shared = [
        (f.column, f.get_db_prep_save(getattr(template, f.attname), connection))
        for f in fields
        if f.attname not in _MESSAGE_COLUMNS
    ]
    columns = [Outbox._meta.get_field(name).column for name in _MESSAGE_COLUMNS]
    rows = [
        (channel, recipient.strip(), subject[:200], body, kind, case_id)
        for channel, recipient, subject, body, kind, case_id in messages
    ]
    rows, skipped = _within_sms_budget(rows, now)
    insert_rows(Outbox._meta.db_table, columns, rows, shared)
    if skipped:
        reason = budget.over_budget_reason()
        kept = [Outbox(**dict(zip(_MESSAGE_COLUMNS, row, strict=True))) for row in skipped]
        for row in kept:
            row.next_attempt_at = row.created_at = now
            row.priority = Outbox.Priority.BULK
            _skip(row, reason)
        Outbox.objects.bulk_create(kept)
    return len(rows) + len(skipped)


def _within_sms_budget(rows: list[tuple], now: dt.datetime) -> tuple[list[tuple], list[tuple]]:
    """A batch's rows split into those within each number's SMS budget and those past it."""
    phones = [row[1] for row in rows if row[0] == Outbox.Channel.SMS]
    if not phones:
        return rows, []
    used, limit = budget.sms_used_today(phones, now), budget.daily_limit()
    kept: list[tuple] = []
    skipped: list[tuple] = []
    for row in rows:
        if row[0] == Outbox.Channel.SMS:
            if used[row[1]] >= limit:
                skipped.append(row)
                continue
            used[row[1]] += 1
        kept.append(row)
    return kept, skipped


def is_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone.isdigit() and phone.startswith("1")


def citizen_contacts(case: Case) -> list[tuple[str, str]]:
    """(channel, recipient) pairs the petitioner can be reached at: a mobile and/or an e-mail."""
    email = CitizenContact.objects.filter(case_id=case.pk).values_list("email", flat=True).first()
    return contacts_of(case.petitioner_phone, email or "")


def contacts_of(phone: str, email: str) -> list[tuple[str, str]]:
    """(channel, recipient) pairs for a phone and an e-mail address, either possibly empty."""
    found: list[tuple[str, str]] = []
    if is_mobile(phone):
        found.append((Outbox.Channel.SMS, phone))
    if email:
        found.append((Outbox.Channel.EMAIL, email))
    return found


def contact_save(*, case: Case, email: str) -> None:
    """Keep the e-mail address a citizen gave on the portal."""
    if email.strip():
        CitizenContact.objects.update_or_create(case=case, defaults={"email": email.strip()})


def queue_to_citizen(*, case: Case, body: str, kind: str, sensitive: bool = False) -> int:
    """Queue `body` to every contact of the petitioner; returns how many messages were written."""
    count = 0
    for channel, recipient in citizen_contacts(case):
        outbox_queue(
            channel=channel,
            recipient=recipient,
            body=body,
            kind=kind,
            case=case,
            subject=messages.citizen_subject(case),
            sensitive=sensitive,
        )
        count += 1
    return count


def queue_submission_receipt(*, case: Case, code: str) -> int:
    """The receipt of an online submission: number and query code. The only message with a code."""
    return queue_to_citizen(
        case=case, body=messages.submission_text(case, code), kind="submission", sensitive=True
    )


# ---------------------------------------------------------------- delivering
# Claiming and sending live in `delivery` (names kept here for the callers that import them).

# ---------------------------------------------------------------- staff reminders and digests

# Which unit holds the clock in each state (the one reminded).
HOLDER_FIELD = {
    State.REGISTERED: "office",
    State.ROUTED: "lead_unit",
    State.ACCEPTED: "lead_unit",
    State.REVIEWING: "review_unit",
    State.REREVIEWING: "rereview_unit",
}
STAFF_ROLES = (Role.CLERK, Role.OFFICER, Role.HEAD, Role.SUPERVISOR)


def _staff_emails(unit_ids) -> dict[int, list[str]]:
    """The staff e-mail addresses of each of `unit_ids`, in one query."""
    emails: dict[int, list[str]] = {}
    rows = (
        User.objects.filter(unit_id__in=unit_ids, is_active=True, role__in=STAFF_ROLES)
        .exclude(email="")
        .order_by("id")
        .values_list("unit_id", "email")
    )
    for unit_id, email in rows:
        emails.setdefault(unit_id, []).append(email)
    return emails


def _office_clocks():
    """Matters whose running clock the office side owes (not a citizen's window), not paused."""
    return (
        Case.objects.filter(due_at__isnull=False, paused=False, state__in=list(HOLDER_FIELD))
        .exclude(clock__in=CITIZEN_WINDOWS)
        .exclude(clock="")
    )


def _reminder_text(case: Case, kind: str) -> tuple[str, str]:
    rule = clock_rules().get(case.clock)
    clock = rule.label if rule else case.clock
    when = messages.due_text(case.due_at)
    if kind == Reminder.Kind.OVERDUE:
        subject = f"【已超期】信访事项{case.number}"
        body = f"信访事项{case.number}（{messages.kind_label(case)}）的“{clock}”时限已于{when}届满，请尽快办理。"
    else:
        subject = f"【即将到期】信访事项{case.number}"
        body = f"信访事项{case.number}（{messages.kind_label(case)}）的“{clock}”时限将于{when}届满，请抓紧办理。"
    return subject, body + "请登录信访事项办理系统查看。"


def queue_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue due-soon and overdue reminders to the unit holding each clock, once per clock.

    Every reminder is recorded for the unit (its staff see it in the app at once). Its e-mails
    go to the unit's staff addresses; when the unit has none yet the reminder waits
    (`emailed_at` empty) and goes out on a later pass once an address exists, as long as its
    clock is still running and, for a due-soon reminder, not yet past. Returns the e-mails queued.
    Staff messages name the matter by number and type only: never the petitioner.
    """
    now = now or timezone.now()
    queued = _send_waiting(now)
    for kind, rows in (
        (Reminder.Kind.OVERDUE, _office_clocks().filter(due_at__lte=now)),
        (Reminder.Kind.DUE_SOON, _office_clocks().filter(due_at__gt=now, warn_at__lte=now)),
    ):
        done = Reminder.objects.filter(
            case=OuterRef("pk"),
            clock=OuterRef("clock"),
            clock_started_at=OuterRef("clock_started_at"),
            kind=kind,
        )
        cases = list(rows.exclude(Exists(done)).order_by("due_at", "id")[:1000])
        if not cases:
            continue
        emails = _staff_emails({_holder_id(case) for case in cases})
        for case in cases:
            queued += _remind(case, kind, now, emails.get(_holder_id(case), []))
    return queued


def _has_staff_address():
    return Exists(
        User.objects.filter(unit=OuterRef("unit_id"), is_active=True, role__in=STAFF_ROLES).exclude(
            email=""
        )
    )


def _send_waiting(now: dt.datetime) -> int:
    """E-mail the reminders that waited for an address, now that their unit has one."""
    waiting = (
        selectors.current_reminders()
        .filter(emailed_at__isnull=True, unit__isnull=False)
        .filter(Q(kind=Reminder.Kind.OVERDUE) | Q(case__due_at__gt=now))
        .filter(_has_staff_address())
        .select_related("case")
        .order_by("id")[:1000]
    )
    rows = list(waiting)
    if not rows:
        return 0
    emails = _staff_emails({r.unit_id for r in rows})
    queued = 0
    for reminder in rows:
        addresses = emails.get(reminder.unit_id, [])
        if not addresses:
            continue
        subject, body = _reminder_text(reminder.case, reminder.kind)
        with transaction.atomic():
            # claimed with a conditional update: two workers never send one reminder twice
            if not Reminder.objects.filter(pk=reminder.pk, emailed_at__isnull=True).update(
                emailed_at=now
            ):
                continue
            for email in addresses:
                outbox_queue(
                    channel=Outbox.Channel.EMAIL,
                    recipient=email,
                    subject=subject,
                    body=body,
                    kind=f"reminder.{reminder.kind}",
                    case=reminder.case,
                    at=now,
                    unit_id=reminder.unit_id,
                )
        queued += len(addresses)
    return queued


def _holder_id(case: Case) -> int | None:
    return getattr(case, f"{HOLDER_FIELD[case.state]}_id")


def _remind(case: Case, kind: str, now: dt.datetime, emails: list[str]) -> int:
    subject, body = _reminder_text(case, kind)
    try:
        with transaction.atomic():
            Reminder.objects.create(
                case=case,
                clock=case.clock,
                clock_started_at=case.clock_started_at,
                kind=kind,
                created_at=now,
                unit_id=_holder_id(case),
                emailed_at=now if emails else None,
            )
            for email in emails:
                outbox_queue(
                    channel=Outbox.Channel.EMAIL,
                    recipient=email,
                    subject=subject,
                    body=body,
                    kind=f"reminder.{kind}",
                    case=case,
                    at=now,
                    unit_id=_holder_id(case),
                )
    except IntegrityError:  # another worker reminded this clock a moment ago
        return 0
    return len(emails)


def _unit_load(unit: Unit, now: dt.datetime) -> dict:
    """The digest's figures for one unit: new yesterday and today so far, due soon, overdue."""
    start = dt.datetime.combine(
        timezone.localtime(now, LOCAL).date() - dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL
    )
    new = Case.objects.filter(
        Q(office=unit, registered_at__gte=start, registered_at__lte=now)
        | Q(lead_unit=unit, routed_at__gte=start, routed_at__lte=now)
    ).count()
    held = Q()
    for state, field in HOLDER_FIELD.items():
        held |= Q(state=state, **{field: unit})
    # overdue: due_at <= now; due soon: due_at > now >= warn_at. By due_at, the overdue come first.
    pressing = _office_clocks().filter(held).filter(Q(due_at__lte=now) | Q(warn_at__lte=now))
    counts = pressing.aggregate(
        overdue=Count("id", filter=Q(due_at__lte=now)),
        due_soon=Count("id", filter=Q(due_at__gt=now)),
    )
    return {"new": new, **counts, "top": list(pressing.order_by("due_at", "id")[:5])}


def _digest_text(unit: Unit, day: dt.date, load: dict, now: dt.datetime) -> str:
    lines = [
        f"{unit.name}{messages.cn_date(day)}信访事项汇总：",
        f"新增{load['new']}件，即将到期{load['due_soon']}件，已超期{load['overdue']}件。",
    ]
    if load["top"]:
        lines.append("需优先办理：")
        for case in load["top"]:
            state = "已超期" if case.due_at <= now else "即将到期"
            lines.append(
                f"· {case.number}（{messages.kind_label(case)}）{state}，期限{messages.due_text(case.due_at)}"
            )
    lines.append("请登录信访事项办理系统查看。")
    return "\n".join(lines)


def queue_digests(*, now: dt.datetime | None = None) -> int:
    """Queue each unit's daily digest once per Beijing day, from XINFANG_DIGEST_HOUR on."""
    now = now or timezone.now()
    local = timezone.localtime(now, LOCAL)
    if local.hour < conf.digest_hour():
        return 0
    day = local.date()
    units = Unit.objects.filter(
        Exists(
            User.objects.filter(unit=OuterRef("pk"), is_active=True, role__in=STAFF_ROLES).exclude(
                email=""
            )
        )
    ).exclude(Exists(Digest.objects.filter(unit=OuterRef("pk"), day=day)))
    units = list(units.order_by("path"))
    emails = _staff_emails([unit.pk for unit in units]) if units else {}
    queued = 0
    for unit in units:
        load = _unit_load(unit, now)
        try:
            with transaction.atomic():
                Digest.objects.create(unit=unit, day=day, created_at=now)
                if not (load["new"] or load["due_soon"] or load["overdue"]):
                    continue
                body = _digest_text(unit, day, load, now)
                for email in emails.get(unit.pk, []):
                    outbox_queue(
                        channel=Outbox.Channel.EMAIL,
                        recipient=email,
                        body=body,
                        kind="digest",
                        subject=f"{unit.name}每日信访事项汇总（{messages.cn_date(day)}）",
                        at=now,
                        unit=unit,
                    )
                    queued += 1
        except IntegrityError:
            continue
    return queued


# ---------------------------------------------------------------- one pass of a worker


@dataclass(frozen=True)
class PassDone:
    """What one worker pass did; true when it did anything, and printed as the worker reports it."""

    reminders: int
    digests: int
    delivered: dict[str, int]

    def __bool__(self) -> bool:
        return bool(self.reminders or self.digests or self.delivered)

    def __str__(self) -> str:
        counts = self.delivered
        return (
            f"提醒 {self.reminders} 条，汇总 {self.digests} 条；已发送 {counts.get('sent', 0)} 条，"
            f"待重试 {counts.get('pending', 0)} 条，失败 {counts.get('failed', 0)} 条"
        )


def run_pass(worker: str, *, reminders: bool = True, seconds: float | None = None) -> PassDone:
    """One pass of `xinfang worker` / `xinfang notify_worker`: reminders and digests, then
    delivery batch after batch while messages are due (for at most `seconds`)."""
    reminded = queue_reminders() if reminders else 0
    digests = queue_digests() if reminders else 0
    return PassDone(reminded, digests, drain(worker=worker, seconds=seconds))


# ---------------------------------------------------------------- in-app reminders


def reminders_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """标为已读: the given reminders of `user`'s unit (all its running ones when `ids` is None).
    Reminders of other units are ignored. Returns how many were newly marked."""
    unread = selectors.my_reminders(user).filter(is_read=False)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    now = timezone.now()
    rows = [
        ReminderRead(reminder_id=pk, user=user, read_at=now)
        for pk in unread.values_list("id", flat=True)
    ]
    ReminderRead.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
