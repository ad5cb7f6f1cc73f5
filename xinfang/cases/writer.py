"""The one writer of a matter's transitions (办理操作的唯一写入口), and the plumbing it shares.

`case_transition` takes a row of `workflow.ACTIONS` and does, in one transaction: lock the
matter (and check the version the user saw) → authorize (state, once-only rule, the user's
side) → `apply` (the pure function that returns the change as data) → write the change and
move the clocks → save → reindex → the row's effect → record the event, whose declared
reactions (`cases.reactions`) run in the same transaction. Both happen or neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from xinfang.cases import access, clocks, reactions, search
from xinfang.cases.events import EventKind, is_public
from xinfang.cases.models import HOTLINE_KINDS, Case, CaseEvent, ClockPause, CoHandler
from xinfang.cases.reactions import PLAIN, ReactionContext
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.cases.transitions import Change, Due, TransitionForbidden, TransitionRefused
from xinfang.cases.workflow import ACTIONS, STATE_CLOCK, Transition, check_transition, refusal
from xinfang.orgs.models import User


class ConcurrentChange(Exception):
    """Someone else changed the matter since this user loaded it."""

    def __init__(self) -> None:
        super().__init__("该事项已被他人修改，请刷新页面查看最新情况后再操作")


# ---------------------------------------------------------------- the clocks on a matter


def clock_plan(case: Case, state: str, at: dt.datetime) -> tuple[str | None, dt.datetime | None]:
    """Which clock runs in `state`, and from when. 12345 requests run one clock from dispatch."""
    name = STATE_CLOCK[state]
    if name is None:
        return None, None
    if case.kind in HOTLINE_KINDS and name in {"accept", "handle"}:
        clock = f"hotline_{case.urgency}" if case.urgency else case.kind
        return clock, case.routed_at or at
    starts = {"route": case.registered_at, "accept": case.routed_at, "handle": case.accepted_at}
    return name, starts.get(name) or at


def set_due(case: Case) -> None:
    """Recompute `due_at`/`warn_at` from the clock, its start, extension and recorded pauses."""
    if not case.clock or case.clock_started_at is None or case.paused:
        case.due_at = case.warn_at = None
        return
    rule = clock_rules()[case.clock]
    extendable = case.clock == "handle" or case.clock in HOTLINE_KINDS
    length = rule.length + (case.extension_days if extendable else 0)
    pauses = (
        [
            clocks.Pause(p.started_at, p.ended_at, p.reason)
            for p in case.pauses.filter(clock=case.clock, started_at__gte=case.clock_started_at)
        ]
        if case.pk
        else []
    )
    case.due_at = clocks.due_at(
        case.clock_started_at, length, rule.kind, work_calendar(), clocks.paused_days(pauses)
    )
    case.warn_at = clocks.warn_at(case.due_at, settings.XINFANG_DUE_SOON_DAYS)


def enter_state(case: Case, state: str, at: dt.datetime) -> None:
    case.state = state
    name, start = clock_plan(case, state, at)
    case.clock, case.clock_started_at = name or "", start
    set_due(case)


# ---------------------------------------------------------------- shared plumbing


def iso_time(moment: dt.datetime | None) -> str | None:
    """A time for an event's details, always in Beijing time."""
    return timezone.localtime(moment, clocks.LOCAL).isoformat() if moment else None


def aware_now(at: dt.datetime | None) -> dt.datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("时间必须带时区")
    return at


def lock_case(case: Case, expected_version: int | None) -> Case:
    """Re-read the matter under a row lock and check nobody changed it meanwhile."""
    fresh = (
        Case.objects.select_for_update(of=("self",))
        .select_related("accused_unit", "lead_unit")
        .get(pk=case.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise ConcurrentChange()
    return fresh


def check_action_state(case: Case, action: str) -> None:
    """Raise TransitionRefused if the matter's state (or a once-only rule) forbids `action`,
    whoever asks. The API uses it to tell a state refusal (400) from a permission one (403)."""
    _authorize(None, case, action)


def _authorize(by: User | None, case: Case, action: str) -> None:
    check_transition(action, case.state)
    message = refusal(case, action)
    if message:
        raise TransitionRefused(message)
    if by is not None and not access.may(by, case, action):
        raise TransitionForbidden(f"您无权对该事项进行“{ACTIONS[action].label}”操作")


def record_event(
    case: Case,
    kind: EventKind,
    at: dt.datetime,
    by: User | None,
    *,
    public: bool | None = None,
    context: ReactionContext = PLAIN,
    **details,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        at=at,
        actor=by,
        unit=by.unit if by is not None and by.unit_id else None,
        public=is_public(kind) if public is None else public,
        details=details,
    )
    reactions.run(event, case, context)  # the declared list: settings.CASE_EVENT_REACTIONS
    return event


def save_case(case: Case) -> None:
    """Save a matter read by `lock_case` in this transaction: the row lock makes the version read
    the stored one, so the next is known without reading it back."""
    case.version += 1
    case.save()


# ---------------------------------------------------------------- the writer


def case_transition(
    *,
    case: Case,
    name: str,
    by: User | None,
    params: Mapping[str, Any],
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Take the transition `name` (a key of `workflow.ACTIONS`) on `case` as `by` (None: the
    system), with `params` (its form's cleaned data, or a wrapper's keyword arguments).

    Raises ValidationError (bad input, field → Chinese messages), TransitionRefused (the state or
    a rule), TransitionForbidden (this user may not), ConcurrentChange (`expected_version` is
    stale). Nothing is written then. Returns the saved matter.
    """
    spec = ACTIONS[name]
    params = {key: list(v) if isinstance(v, QuerySet) else v for key, v in params.items()}
    if spec.check is not None:
        spec.check(params, by)  # input first: a bad form is said plainly, before any lock
    at = aware_now(at)
    with transaction.atomic():
        case = lock_case(case, expected_version)
        _authorize(by, case, name)
        on_time = case.due_at is None or at <= case.due_at
        units = search.unit_tokens(case)
        details = write_change(case, spec, spec.apply(case, params, at), at)
        save_case(case)
        search.reindex_units(case, units)
        if spec.effect:
            import_string(spec.effect)(case=case, at=at, **params)
        record_event(case, spec.event, at, by, on_time=on_time, **details)
    return case


def write_change(case: Case, spec: Transition, change: Change, at: dt.datetime) -> dict:
    """Apply `change` to the locked `case` (not saved yet): its fields, co-handlers, pauses, and
    the clocks. Returns the event's details."""
    _refuse(case, change)
    if change.co_units is not None:
        CoHandler.objects.filter(case=case).delete()
        CoHandler.objects.bulk_create(CoHandler(case=case, unit=u) for u in change.co_units)
    if change.pause:
        ClockPause.objects.create(case=case, clock=case.clock, reason=change.pause, started_at=at)
    if change.resume:
        case.pauses.filter(ended_at__isnull=True).update(ended_at=at)
    return change_row(case, spec, change, at)


def change_row(
    case: Any,
    spec: Transition,
    change: Change,
    at: dt.datetime,
    deadline: Callable[[Due, dt.datetime], dt.datetime] | None = None,
) -> dict:
    """The part of a change that lives on the matter's own row: its fields, the pause flag, the
    deadlines, the extension, the state and its clock. Returns the event's details.

    `write_change` calls it after the other tables; the demo calls it on matters it builds in
    memory (`case` then is a row with the attributes of Case), with a memoised `deadline`."""
    old_due = case.due_at
    for name, value in change.fields.items():
        setattr(case, name, value)
    if change.pause or change.resume:
        case.paused = bool(change.pause)
    _move_clocks(case, spec, change, at, deadline or _deadline)
    moved = {"old_due": iso_time(old_due), "new_due": iso_time(case.due_at)}
    return {**change.details, **{key: moved[key] for key in change.due_details}}


def _refuse(case: Case, change: Change) -> None:
    """What no transition may do, whatever its table row says."""
    handlers = [change.fields.get("lead_unit"), *(change.co_units or ())]
    for unit in filter(None, handlers):
        if access.unit_is_accused(unit, case):  # 回避: never to a unit the report accuses
            raise ValidationError(
                {"unit": f"不能将检举控告转给被反映单位“{unit.name}”办理（回避）"}
            )
    if change.extension_days and clock_rules()[case.clock].kind == clocks.DayKind.HOURS:
        raise TransitionRefused("紧急诉求按小时计时，不能延期")


def _move_clocks(
    case: Any,
    spec: Transition,
    change: Change,
    at: dt.datetime,
    deadline: Callable[[Due, dt.datetime], dt.datetime],
) -> None:
    for name, due in change.deadlines.items():
        setattr(case, name, None if due is None else deadline(due, at))
    if change.extension_days:
        case.extension_days = change.extension_days
    if spec.target is not None:
        enter_state(case, spec.target, at)
    elif change.extension_days or change.pause or change.resume:
        set_due(case)


def _deadline(due: Due, at: dt.datetime) -> dt.datetime:
    """A deadline from `at` by the clock rule or the calendar days `due` names."""
    if due.rule:
        return clocks.rule_due_at(clock_rules()[due.rule], at, work_calendar())
    return clocks.due_at(at, due.days, clocks.DayKind.CALENDAR, work_calendar())
