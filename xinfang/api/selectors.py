"""Reads for the JSON API: the same queue, the same access rule and masks as the staff pages."""

from __future__ import annotations

import datetime as dt

from django.db.models import prefetch_related_objects
from django.utils import timezone

from xinfang.cases import access, deadlines, selectors
from xinfang.cases.events import label as event_label
from xinfang.cases.models import Case
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.orgs.models import User
from xinfang.supervision.selectors import open_order_counts


def case_for_user(user: User, pk: int) -> Case | None:
    """The matter `pk` if `user` may see it, else None (the caller answers 404 either way)."""
    return access.case_for_user(user, pk)


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Times leave in Beijing time with their offset (stored in UTC)."""
    return timezone.localtime(moment) if moment else None


def _last_day(due: dt.datetime | None) -> dt.date | None:
    """The last day of a deadline (due_at is 24:00 of it, the next day's 00:00)."""
    return deadlines.last_day(due) if due else None


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def case_row(row: dict) -> dict:
    """One queue line as data, from `cases.selectors.queue_row`: what the page's row shows."""
    case = row["case"]
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": case.get_state_display(),
        "kind": case.kind,
        "kind_label": case.get_kind_display(),
        "channel": case.channel,
        "channel_label": case.get_channel_display(),
        "registered_at": _local(case.registered_at),
        "due_at": _local(case.due_at),
        "due_last_day": _last_day(case.due_at),
        "due_state": str(row["due_state"]),
        "paused": case.paused,
        "lead_unit": _ref(case.lead_unit),
        "place": _ref(case.place),
        "category": _ref(case.category),
        "petitioner": row["petitioner"],
        "phone": row["phone"],
        "version": case.version,
        "urge_count": row["urges"],
    }


def queue(user: User, data: dict, *, size: int = selectors.PAGE_SIZE) -> dict:
    """One page of a queue: exactly what `cases.views.queue` lists for the same filters."""
    scope, rows, next_cursor = selectors.user_queue(user, data, size=size)
    # a category names its parent ("劳动社保/拖欠工资"): fetch the parents once for the page
    prefetch_related_objects([row["case"] for row in rows], "category__parent")
    orders = open_order_counts(user, [row["case"].pk for row in rows]) if rows else {}
    items = [{**case_row(row), "open_orders": orders.get(row["case"].pk, 0)} for row in rows]
    return {"scope": scope, "items": items, "next": next_cursor}


def _person(case: Case, *, reveal: bool) -> dict:
    """`reveal` only after `services.personal_data_reveal` recorded the view (a POST)."""
    revealed = reveal and bool(case.petitioner_id_number or case.petitioner_phone)
    return {
        "anonymous": case.anonymous,
        "name": "" if case.anonymous else case.petitioner_name,
        "id_number": case.petitioner_id_number
        if revealed
        else mask_id_number(case.petitioner_id_number),
        "phone": case.petitioner_phone if revealed else mask_phone(case.petitioner_phone),
        "address": case.petitioner_address,
        "revealed": revealed,
        "representatives": [r.name for r in case.representatives.all()],
    }


def _event(event) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "label": event_label(event.kind),
        "at": _local(event.at),
        "public": event.public,
        "actor": str(event.actor) if event.actor_id else "",
        "unit": event.unit.name if event.unit_id else "",
        "details": event.details or {},
    }


def case_detail(user: User, case: Case, *, reveal: bool = False) -> dict:
    """The case page as data. The petitioner is null exactly when the page says （保密）.

    Full resident ID and phone only with `reveal`, which the caller sets only after
    `services.personal_data_reveal` has logged the view.
    """
    show_person = access.can_see_petitioner(user, case, known_visible=True)  # from case_for_user
    accused = access.accused_units(case)
    rules = selectors.clock_rules()
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "content": case.content,
        "state": case.state,
        "state_label": case.get_state_display(),
        "kind": case.kind,
        "kind_label": case.get_kind_display(),
        "channel": case.channel,
        "channel_label": case.get_channel_display(),
        "urgency": case.urgency,
        "registered_at": _local(case.registered_at),
        "office": _ref(case.office),
        "lead_unit": _ref(case.lead_unit),
        "route_mode": case.route_mode,
        "co_units": [_ref(co.unit) for co in case.co_handlers.select_related("unit")],
        "review_unit": _ref(case.review_unit),
        "rereview_unit": _ref(case.rereview_unit),
        "place": _ref(case.place),
        "category": _ref(case.category),
        "clock": case.clock,
        "clock_label": rules[case.clock].label if case.clock in rules else "",
        "due_at": _local(case.due_at),
        "due_state": str(selectors.case_due_state(case)),
        "paused": case.paused,
        "assign_due_at": _local(case.assign_due_at),
        "extension_days": case.extension_days,
        "due_last_day": _last_day(case.due_at),
        "assign_due_last_day": _last_day(case.assign_due_at),
        "outcome": case.outcome,
        "rating": case.rating,
        "repeat_count": case.repeat_count,
        "linked_to": case.linked_to.number if case.linked_to else None,
        "accused": " ".join(x for x in [*(u.name for u in accused), case.accused_person] if x),
        "accused_units": [_ref(u) for u in accused],
        "accused_pending": case.accused_pending,
        "petitioner_visible": show_person,
        "petitioner": _person(case, reveal=reveal) if show_person else None,
        "attachments": [a.name for a in case.attachments.all()] if show_person else [],
        "timeline": [_event(e) for e in selectors.case_timeline(case)],
        "allowed_actions": access.allowed_actions(user, case),
        "version": case.version,
    }
