"""Every change to a matter, by name: `services.case_accept(...)` and friends.

A transition is declared once, as a row of `workflow.ACTIONS` (its input form, its pure
`apply` in `transitions.py`); the one writer `writer.case_transition` applies any row in one
transaction (lock, authorize, apply, clocks, save, reindex, event and its reactions). The
functions here are thin, greppable wrappers that name the transition and its arguments; the
pages and the API dispatch through the table to the same writer.

Registration lives in `registration.py`, the writer and its plumbing in `writer.py`; both are
re-exported here so that `from xinfang.cases import services` reaches every write.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from xinfang.cases import access, querycode
from xinfang.cases.events import EventKind
from xinfang.cases.models import CLOSED_STATES, Case, RouteMode, State
from xinfang.cases.registration import (  # noqa: F401 - re-exported: services is the entry point
    CLOCK_SKEW,
    MAX_REPRESENTATIVES,
    Petitioner,
    RegisterResult,
    Registration,
    _link_repeat,
    _validate_registration,
    case_number,
    case_record_accused,
    case_register,
    reserve_numbers,
)
from xinfang.cases.transitions import TransitionNotAllowed, TransitionRefused
from xinfang.cases.workflow import ACTIONS, check_transition
from xinfang.cases.writer import (  # noqa: F401 - re-exported: other apps share the plumbing
    ConcurrentChange,
    aware_now,
    case_transition,
    check_action_state,
    clock_plan,
    enter_state,
    iso_time,
    lock_case,
    record_event,
    save_case,
    set_due,
    write_change,
)
from xinfang.orgs.models import PersonalDataView, Unit, User

# ---------------------------------------------------------------- the transitions, by name


def case_route(
    *,
    case: Case,
    by: User | None,
    unit: Unit,
    mode: str = RouteMode.TRANSFER,
    co_units: list[Unit] | None = None,
    assign_days: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """转送 / 交办: send the matter to the unit in charge, with optional co-handlers."""
    return case_transition(
        case=case,
        name="route",
        by=by,
        params={
            "unit": unit,
            "mode": mode,
            "co_units": co_units or [],
            "assign_days": assign_days,
            "note": note,
        },
        at=at,
        expected_version=expected_version,
    )


def case_undo_auto_route(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """撤回智能派单: the office takes back an automatic route (routing.auto) before the unit
    accepts it, within the objection window; the matter waits for a clerk again."""
    return case_transition(
        case=case,
        name="undo_auto_route",
        by=by,
        params={"reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_object(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """异议退回: the unit says the matter is not its own, within 5 working days, with reasons."""
    return case_transition(
        case=case,
        name="object",
        by=by,
        params={"reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_accept(
    *,
    case: Case,
    by: User | None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """受理: the unit accepts the matter; the 60-day handling clock starts."""
    return case_transition(
        case=case,
        name="accept",
        by=by,
        params={},
        at=at,
        expected_version=expected_version,
    )


def case_decline(
    *,
    case: Case,
    by: User | None,
    reason: str,
    proper_channel: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """不予受理: the matter belongs elsewhere (court, arbitration, review); the notice names where."""
    return case_transition(
        case=case,
        name="decline",
        by=by,
        params={"reason": reason, "proper_channel": proper_channel},
        at=at,
        expected_version=expected_version,
    )


def case_not_accept_again(
    *,
    case: Case,
    by: User | None,
    prior: Case,
    reason: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """不再受理: same facts and reasons as a matter that has already become final.

    `prior` must be a matter `by` may see; any other number gets the same neutral answer.
    """
    return case_transition(
        case=case,
        name="not_accept_again",
        by=by,
        params={"prior": prior, "reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_extend(
    *,
    case: Case,
    by: User | None,
    days: int,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """延期: once, at most 30 days, approved by the unit head.

    For a 12345 request the days are added to its own clock, in working days; a request on an
    hours clock (emergency, outage) cannot be extended.
    """
    return case_transition(
        case=case,
        name="extend",
        by=by,
        params={"days": days, "reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_reply(
    *,
    case: Case,
    by: User | None,
    outcome: str,
    text: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """答复: the written decision (处理意见书) with one of three outcomes."""
    return case_transition(
        case=case,
        name="reply",
        by=by,
        params={"outcome": outcome, "text": text},
        at=at,
        expected_version=expected_version,
    )


def case_report(
    *,
    case: Case,
    by: User | None,
    text: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """报送办结报告: the unit reports back on an assigned (交办) matter, once."""
    return case_transition(
        case=case,
        name="report",
        by=by,
        params={"text": text},
        at=at,
        expected_version=expected_version,
    )


def case_rate(
    *,
    case: Case,
    by: User | None,
    rating: str,
    comment: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """评价: the petitioner rates the reply, once."""
    return case_transition(
        case=case,
        name="rate",
        by=by,
        params={"rating": rating, "comment": comment},
        at=at,
        expected_version=expected_version,
    )


def case_request_review(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """申请复查: within 30 days of the reply, to the organ one level above."""
    return case_transition(
        case=case,
        name="request_review",
        by=by,
        params={"reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_decide_review(
    *,
    case: Case,
    by: User | None,
    outcome: str,
    text: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """复查决定: the review organ decides within 30 days (复查意见书)."""
    return case_transition(
        case=case,
        name="decide_review",
        by=by,
        params={"outcome": outcome, "text": text},
        at=at,
        expected_version=expected_version,
    )


def case_request_rereview(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """申请复核: within 30 days of the review decision, to the organ above the reviewer."""
    return case_transition(
        case=case,
        name="request_rereview",
        by=by,
        params={"reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_decide_rereview(
    *,
    case: Case,
    by: User | None,
    outcome: str,
    text: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """复核决定: final (三级终结)."""
    return case_transition(
        case=case,
        name="decide_rereview",
        by=by,
        params={"outcome": outcome, "text": text},
        at=at,
        expected_version=expected_version,
    )


def case_pause(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """中止计时: only with a recorded reason (听证、鉴定)."""
    return case_transition(
        case=case,
        name="pause",
        by=by,
        params={"reason": reason},
        at=at,
        expected_version=expected_version,
    )


def case_resume(
    *,
    case: Case,
    by: User | None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """恢复计时: the pause ends; the deadline moves out by the paused days."""
    return case_transition(
        case=case,
        name="resume",
        by=by,
        params={},
        at=at,
        expected_version=expected_version,
    )


def case_finalize(
    *,
    case: Case,
    at: dt.datetime | None = None,
) -> Case:
    """期满终结: the petitioner's window to ask for review closed unused."""
    return case_transition(
        case=case,
        name="finalize",
        by=None,
        params={},
        at=at,
        expected_version=None,
    )


def case_urge(
    *,
    case: Case,
    by: User | None,
    note: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """催办: a supervisor urges the unit holding the clock, whose staff are told in the same
    transaction (the queue counts the urges, `selectors.urge_counts`)."""
    return case_transition(
        case=case,
        name="urge",
        by=by,
        params={"note": note},
        at=at,
        expected_version=expected_version,
    )


def finalize_expired(*, now: dt.datetime | None = None) -> int:
    """Make final every matter whose review window closed unused. Returns how many."""
    now = aware_now(now)
    count = 0
    ids = Case.objects.filter(
        state__in=[State.REPLIED, State.REVIEWED], due_at__lte=now, paused=False
    ).values_list("id", flat=True)
    for case_id in list(ids):
        try:
            case_finalize(case=Case(pk=case_id), at=now)
            count += 1
        except TransitionNotAllowed:
            continue
    return count


# ---------------------------------------------------------------- 并单 (merging duplicates)
# Two matters in one transaction: its own writer, applying the table's `merge` row.


def case_merge(
    *,
    case: Case,
    into: Case,
    by: User | None,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """并单: close a duplicate as merged into the main matter, which carries on.

    The duplicate becomes final with `linked_to = into` and a `case.merged` event; the main
    matter gets a `case.merge_received` event naming the duplicate. Everyone who raised a
    merged matter stays informed through the main one (xinfang.routing.selectors.
    petitioners_to_inform). Only the registering office (clerk or head) may merge, and only
    into an open matter it may see.
    """
    at = aware_now(at)
    if into.pk == case.pk:
        raise ValidationError({"into": "不能将事项并入其本身"})
    with transaction.atomic():
        case = lock_case(case, expected_version)
        check_transition("merge", case.state)
        main = lock_case(into, None)
        refused = access.merge_refusal(by, case, main)
        if refused:
            raise TransitionNotAllowed(refused)
        if main.state in CLOSED_STATES:
            raise TransitionRefused(f"主事项 {main.number} 已办结，不能并入")
        if main.linked_to_id == case.pk:
            raise TransitionRefused(f"事项 {main.number} 已并入本事项，不能反向并单")
        on_time = case.due_at is None or at <= case.due_at
        spec = ACTIONS["merge"]
        details = write_change(case, spec, spec.apply(case, {"into": main, "note": note}, at), at)
        save_case(case)
        record_event(
            main,
            EventKind.MERGE_RECEIVED,
            at,
            by,
            merged=case.number,
            merged_id=case.pk,
            note=note,
        )
        record_event(case, spec.event, at, by, on_time=on_time, **details)
    return case


# ---------------------------------------------------------------- 查询码, personal data


def case_issue_query_code(*, case: Case) -> str:
    """查询码: a new unguessable code for the citizen; only its keyed digest is stored (see
    `cases.querycode`). Shown once."""
    return querycode.issue(case)


def case_check_query_code(*, case: Case, code: str) -> bool:
    return querycode.check(case, code)


def personal_data_reveal(*, case: Case, by: User, reason: str, purpose: str = "detail") -> bool:
    """查看完整身份信息: record that `by` sees the full ID number and phone, and why.

    False (and no record) when `by` may not see the petitioner at all. The one writer of
    `PersonalDataView`: pages and the API call it from a POST, never from a GET.
    """
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise ValidationError({"reason": "请说明查看完整身份信息的理由"})
    if not access.can_see_petitioner(by, case):
        return False
    PersonalDataView.objects.create(
        user=by, case=case, fields="id_number,phone", purpose=purpose, reason=reason
    )
    return True
