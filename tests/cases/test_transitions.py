"""Every transition of a matter: allowed ones succeed and record one event, all others are refused.

The table test drives a matter into each state, then tries every action from `workflow.ACTIONS`
on it (each try rolled back), so no (state, action) pair goes unchecked.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from tests.factories import bj, register
from xinfang.cases import services
from xinfang.cases.events import EventKind
from xinfang.cases.models import (
    Case,
    CaseEvent,
    ClockPause,
    CoHandler,
    Kind,
    Outcome,
    Rating,
    RepeatSubmission,
    State,
)
from xinfang.cases.workflow import ACTIONS, STATE_CLOCK, TransitionNotAllowed, check_transition

S = State


# ---------------------------------------------------------------- the pure table


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_check_transition_table(state, action):
    spec = ACTIONS[action]
    if state in spec.sources:
        assert check_transition(action, state) is spec
    else:
        with pytest.raises(TransitionNotAllowed) as exc:
            check_transition(action, state)
        message = str(exc.value)
        assert State(state).label in message and spec.label in message
        assert message == f"当前状态为“{State(state).label}”，不能进行“{spec.label}”操作"


def test_every_state_has_a_clock_entry_and_closed_states_have_none():
    assert set(STATE_CLOCK) == set(State)
    for state in (S.DECLINED, S.NOT_ACCEPTED_AGAIN, S.FINAL):
        assert STATE_CLOCK[state] is None
        assert not [a for a in ACTIONS.values() if state in a.sources and a.target is not None]


# ---------------------------------------------------------------- driving a matter to a state

T0 = bj(2026, 9, 1, 9)  # a Tuesday


def _final(county, at: dt.datetime = T0) -> Case:
    """A matter taken through every stage to final (三级终结)."""
    case = _drive(county, S.FINAL, at)[0]
    assert case.state == S.FINAL
    return case


def _drive(county, state: str, t: dt.datetime = T0, **register_kw) -> tuple[Case, dt.datetime]:
    """Register a matter and move it to `state` as the system (no user). Returns it and the time."""
    case = register(county, None, t, **register_kw)
    if state == S.REGISTERED:
        return case, t
    if state == S.NOT_ACCEPTED_AGAIN:
        prior = _final(county, t)
        t += dt.timedelta(days=25)
        case = register(county, None, t, **register_kw)
        return services.case_not_accept_again(case=case, by=None, prior=prior, at=t), t
    t += dt.timedelta(days=1)
    # Assigned (交办), so that the completion report is owed and can be tried in every state.
    case = services.case_route(
        case=case, by=None, unit=county.hr, mode="assign", assign_days=20, at=t
    )
    if state == S.ROUTED:
        return case, t
    if state == S.DECLINED:
        return services.case_decline(
            case=case,
            by=None,
            reason="属于劳动仲裁受理范围",
            proper_channel="向劳动人事争议仲裁委员会申请仲裁",
            at=t,
        ), t
    steps = [
        (S.ACCEPTED, lambda c, t: services.case_accept(case=c, by=None, at=t)),
        (
            S.REPLIED,
            lambda c, t: services.case_reply(
                case=c, by=None, outcome=Outcome.SUPPORTED, text="支持", at=t
            ),
        ),
        (
            S.REVIEWING,
            lambda c, t: services.case_request_review(case=c, by=None, reason="不服", at=t),
        ),
        (
            S.REVIEWED,
            lambda c, t: services.case_decide_review(
                case=c, by=None, outcome=Outcome.SUPPORTED, text="维持", at=t
            ),
        ),
        (
            S.REREVIEWING,
            lambda c, t: services.case_request_rereview(case=c, by=None, reason="仍不服", at=t),
        ),
        (
            S.FINAL,
            lambda c, t: services.case_decide_rereview(
                case=c, by=None, outcome=Outcome.SUPPORTED, text="维持", at=t
            ),
        ),
    ]
    for target, step in steps:
        t += dt.timedelta(days=1)
        case = step(case, t)
        assert case.state == target
        if target == state:
            return case, t
    raise AssertionError(state)


def _as_automatic(case: Case) -> Case:
    """Mark the matter's route as a 智能派单, as routing.auto records it (details `auto`)."""
    for event in CaseEvent.objects.filter(case=case, kind=EventKind.ROUTED):
        event.details = {**event.details, "auto": True}
        event.save(update_fields=["details"])
    return case


def _try(action: str, case: Case, county, t: dt.datetime, prior: Case) -> Case:
    """Take `action` on `case` as the system, with arguments that make it valid when allowed."""
    at = t + dt.timedelta(hours=1)
    calls = {
        "route": lambda: services.case_route(case=case, by=None, unit=county.edu, at=at),
        "object": lambda: services.case_object(case=case, by=None, reason="非本单位职责", at=at),
        "undo_auto_route": lambda: services.case_undo_auto_route(
            case=_as_automatic(case), by=None, reason="分类有误", at=at
        ),
        "accept": lambda: services.case_accept(case=case, by=None, at=at),
        "decline": lambda: services.case_decline(
            case=case, by=None, reason="应当诉讼", proper_channel="向人民法院起诉", at=at
        ),
        "not_accept_again": lambda: services.case_not_accept_again(
            case=case, by=None, prior=prior, at=at
        ),
        "extend": lambda: services.case_extend(
            case=case, by=None, days=30, reason="情况复杂", at=at
        ),
        "reply": lambda: services.case_reply(
            case=case, by=None, outcome=Outcome.EXPLAINED, text="解释", at=at
        ),
        "report": lambda: services.case_report(case=case, by=None, text="已办结", at=at),
        "rate": lambda: services.case_rate(case=case, by=None, rating=Rating.SATISFIED, at=at),
        "request_review": lambda: services.case_request_review(
            case=case, by=None, reason="不服", at=at
        ),
        "decide_review": lambda: services.case_decide_review(
            case=case, by=None, outcome=Outcome.SUPPORTED, text="维持", at=at
        ),
        "request_rereview": lambda: services.case_request_rereview(
            case=case, by=None, reason="不服", at=at
        ),
        "decide_rereview": lambda: services.case_decide_rereview(
            case=case, by=None, outcome=Outcome.SUPPORTED, text="维持", at=at
        ),
        "pause": lambda: services.case_pause(case=case, by=None, reason="举行听证", at=at),
        "resume": lambda: services.case_resume(case=case, by=None, at=at + dt.timedelta(hours=1)),
        "finalize": lambda: services.case_finalize(case=case, at=case.due_at or at),
        "urge": lambda: services.case_urge(case=case, by=None, note="请加快办理", at=at),
        "merge": lambda: services.case_merge(
            case=case, into=register(county, None, at), by=None, at=at
        ),
    }
    return calls[action]()


class _Rollback(Exception):
    pass


def _snapshot(case: Case) -> tuple:
    row = model_to_dict(Case.objects.get(pk=case.pk))
    return (
        row,
        CaseEvent.objects.filter(case=case).count(),
        ClockPause.objects.count(),
        CoHandler.objects.count(),
        RepeatSubmission.objects.count(),
    )


@pytest.mark.parametrize("state", list(State))
def test_every_action_in_every_state(county, state):
    prior = _final(county)
    case, t = _drive(county, state, T0 + dt.timedelta(days=40))
    problems = []
    for name, spec in ACTIONS.items():
        with contextlib.suppress(_Rollback), transaction.atomic():
            if name == "resume" and state in spec.sources:
                services.case_pause(case=case, by=None, reason="鉴定", at=t + dt.timedelta(hours=1))
            before = _snapshot(case)
            version = Case.objects.get(pk=case.pk).version
            try:
                result = _try(name, case, county, t, prior)
            except TransitionNotAllowed as exc:
                if state in spec.sources:
                    problems.append(f"{name}: refused although allowed ({exc})")
                elif State(state).label not in str(exc) or spec.label not in str(exc):
                    problems.append(f"{name}: unclear message {exc}")
                if _snapshot(case) != before:
                    problems.append(f"{name}: a refused action changed something")
            else:
                if state not in spec.sources:
                    problems.append(f"{name}: allowed in {state}")
                events = list(CaseEvent.objects.filter(case=case).order_by("id"))
                if len(events) != before[1] + 1 or events[-1].kind != spec.event:
                    problems.append(f"{name}: expected one {spec.event} event")
                fresh = Case.objects.get(pk=case.pk)
                if fresh.version != version + 1 or result.version != version + 1:
                    problems.append(f"{name}: version not bumped once")
                if fresh.state != (spec.target or state):
                    problems.append(f"{name}: state {fresh.state}, expected {spec.target or state}")
            raise _Rollback
    assert problems == []


def test_system_transitions_record_the_event_with_its_details(county):
    case, t = _drive(county, S.ACCEPTED)
    case = services.case_extend(case=case, by=None, days=10, reason="需要调查", at=t)
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.kind == "case.extended"
    assert event.details["days"] == 10 and event.details["reason"] == "需要调查"
    assert event.details["on_time"] is True
    assert event.actor is None


# ---------------------------------------------------------------- roles


def _routed(county, **kw) -> Case:
    case = register(county, None, bj(2026, 9, 1, 9), **kw)
    return services.case_route(case=case, by=None, unit=county.hr, at=bj(2026, 9, 2, 9))


def _accepted(county, people) -> Case:
    return services.case_accept(case=_routed(county), by=people.officer, at=bj(2026, 9, 3, 9))


def _assert_refused(call, case: Case, message: str) -> None:
    before = _snapshot(case)
    with pytest.raises(TransitionNotAllowed, match=message):
        call()
    assert _snapshot(case) == before


def test_officer_of_another_unit_cannot_accept(county, people):
    case = _routed(county)
    _assert_refused(
        lambda: services.case_accept(case=case, by=people.outsider, at=bj(2026, 9, 3)),
        case,
        "您无权对该事项进行“受理”操作",
    )
    _assert_refused(
        lambda: services.case_accept(case=case, by=people.clerk, at=bj(2026, 9, 3)), case, "受理"
    )
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 9, 3))
    assert case.state == S.ACCEPTED


def test_only_the_head_may_extend(county, people):
    case = _accepted(county, people)
    for user in (people.officer, people.clerk, people.supervisor, people.outsider):
        _assert_refused(
            lambda u=user: services.case_extend(
                case=case, by=u, days=10, reason="复杂", at=bj(2026, 9, 10)
            ),
            case,
            "延期",
        )
    case = services.case_extend(
        case=case, by=people.head, days=10, reason="复杂", at=bj(2026, 9, 10)
    )
    assert case.extension_days == 10


def test_clerk_cannot_reply(county, people):
    case = _accepted(county, people)
    _assert_refused(
        lambda: services.case_reply(
            case=case, by=people.clerk, outcome=Outcome.SUPPORTED, text="支持", at=bj(2026, 9, 10)
        ),
        case,
        "答复",
    )
    case = services.case_reply(
        case=case, by=people.officer, outcome=Outcome.SUPPORTED, text="支持", at=bj(2026, 9, 10)
    )
    assert case.state == S.REPLIED


def test_reviewer_acts_only_while_the_review_is_open(county, people):
    case = _accepted(county, people)
    _assert_refused(
        lambda: services.case_reply(
            case=case, by=people.reviewer, outcome=Outcome.SUPPORTED, text="x", at=bj(2026, 9, 10)
        ),
        case,
        "答复",
    )
    case = services.case_reply(
        case=case, by=people.officer, outcome=Outcome.SUPPORTED, text="支持", at=bj(2026, 9, 10)
    )
    _assert_refused(
        lambda: services.case_decide_review(
            case=case,
            by=people.reviewer,
            outcome=Outcome.SUPPORTED,
            text="维持",
            at=bj(2026, 9, 11),
        ),
        case,
        "已答复",
    )
    case = services.case_request_review(
        case=case, by=people.clerk, reason="不服", at=bj(2026, 9, 12)
    )
    assert case.review_unit == county.county
    # The city's officer is not the review organ; the handling unit may not review itself.
    for user in (people.rereviewer, people.officer, people.head):
        _assert_refused(
            lambda u=user: services.case_decide_review(
                case=case, by=u, outcome=Outcome.SUPPORTED, text="维持", at=bj(2026, 9, 13)
            ),
            case,
            "复查决定",
        )
    case = services.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.NOT_SUPPORTED,
        text="维持原意见",
        at=bj(2026, 9, 13),
    )
    assert case.state == S.REVIEWED
    # Once decided, the reviewer cannot decide again, nor decide the re-review.
    case = services.case_request_rereview(
        case=case, by=people.clerk, reason="仍不服", at=bj(2026, 9, 14)
    )
    _assert_refused(
        lambda: services.case_decide_rereview(
            case=case,
            by=people.reviewer,
            outcome=Outcome.SUPPORTED,
            text="维持",
            at=bj(2026, 9, 15),
        ),
        case,
        "复核决定",
    )
    case = services.case_decide_rereview(
        case=case, by=people.rereviewer, outcome=Outcome.SUPPORTED, text="维持", at=bj(2026, 9, 15)
    )
    assert case.state == S.FINAL


def test_outsider_and_accused_unit_can_do_nothing(county, people):
    case = _routed(county)
    for user in (people.outsider, people.accused_officer):
        _assert_refused(
            lambda u=user: services.case_object(
                case=case, by=u, reason="不是我们的", at=bj(2026, 9, 3)
            ),
            case,
            "异议退回",
        )


def test_supervisor_may_urge_but_not_handle(county, people):
    case = _accepted(county, people)
    _assert_refused(
        lambda: services.case_reply(
            case=case, by=people.supervisor, outcome=Outcome.SUPPORTED, text="x", at=bj(2026, 9, 10)
        ),
        case,
        "答复",
    )
    case = services.case_urge(
        case=case, by=people.supervisor, note="请加快办理", at=bj(2026, 9, 10)
    )
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.public, event.unit) == ("case.urged", False, county.county)


# ---------------------------------------------------------------- extension


def test_extension_moves_due_to_acceptance_plus_60_plus_days(county, people):
    case = _accepted(county, people)  # accepted Thu 3 Sept 2026
    assert case.due_at == bj(2026, 11, 3)  # 2 Nov (60 days) at 24:00
    case = services.case_extend(
        case=case, by=people.head, days=30, reason="需要鉴定", at=bj(2026, 10, 20)
    )
    assert case.extension_days == 30
    assert case.due_at == bj(2026, 12, 3)  # 90 days: 2 Dec
    event = CaseEvent.objects.filter(case=case, kind="case.extended").get()
    assert dt.datetime.fromisoformat(event.details["old_due"]) == bj(2026, 11, 3)
    assert dt.datetime.fromisoformat(event.details["new_due"]) == bj(2026, 12, 3)


def test_extension_of_other_lengths(county, people):
    case = _accepted(county, people)
    case = services.case_extend(
        case=case, by=people.head, days=1, reason="补充材料", at=bj(2026, 10, 20)
    )
    # 61 days from 3 Sept is Tuesday 3 Nov.
    assert case.due_at == bj(2026, 11, 4)


def test_extension_only_once(county, people):
    case = _accepted(county, people)
    case = services.case_extend(
        case=case, by=people.head, days=5, reason="复杂", at=bj(2026, 10, 20)
    )
    for by in (people.head, None):
        _assert_refused(
            lambda b=by: services.case_extend(
                case=case, by=b, days=5, reason="再延", at=bj(2026, 10, 21)
            ),
            case,
            "已延期一次",
        )
    assert CaseEvent.objects.filter(case=case, kind="case.extended").count() == 1


@pytest.mark.parametrize("days", [31, 0, -1, 90])
def test_extension_out_of_range_is_a_validation_error(county, people, days):
    case = _accepted(county, people)
    before = _snapshot(case)
    with pytest.raises(ValidationError) as exc:
        services.case_extend(
            case=case, by=people.head, days=days, reason="复杂", at=bj(2026, 10, 20)
        )
    assert exc.value.message_dict["days"] == ["延期天数应在1至30天之间"]
    assert _snapshot(case) == before


def test_extension_needs_a_reason(county, people):
    case = _accepted(county, people)
    with pytest.raises(ValidationError) as exc:
        services.case_extend(case=case, by=people.head, days=5, reason="  ", at=bj(2026, 10, 20))
    assert "reason" in exc.value.message_dict


# ---------------------------------------------------------------- objection window


def test_object_within_five_working_days(county, people):
    case = _routed(county)  # routed Wed 2 Sept: window to 9 Sept 24:00
    assert case.object_due_at == bj(2026, 9, 10)
    case = services.case_object(
        case=case, by=people.officer, reason="属教育局职责", at=bj(2026, 9, 9, 23, 59)
    )
    assert case.state == S.REGISTERED
    assert case.lead_unit is None and case.object_due_at is None
    assert CaseEvent.objects.filter(case=case).latest("id").public is False


def test_object_over_the_national_day_holiday(county, people):
    case = register(county, None, bj(2026, 9, 29, 9))
    case = services.case_route(case=case, by=None, unit=county.hr, at=bj(2026, 9, 30, 10))
    assert case.object_due_at == bj(2026, 10, 14)
    case = services.case_object(
        case=case, by=people.officer, reason="非本单位", at=bj(2026, 10, 13, 17)
    )
    assert case.state == S.REGISTERED


def test_object_after_the_window_is_refused(county, people):
    case = _routed(county)
    _assert_refused(
        lambda: services.case_object(
            case=case, by=people.officer, reason="属教育局职责", at=bj(2026, 9, 10, 0, 1)
        ),
        case,
        "5个工作日",
    )


# ---------------------------------------------------------------- review windows


REPLIED_AT = bj(2026, 9, 10, 9)


def _replied(county, people, at: dt.datetime = REPLIED_AT) -> Case:
    case = _accepted(county, people)
    return services.case_reply(
        case=case, by=people.officer, outcome=Outcome.NOT_SUPPORTED, text="不予支持", at=at
    )


def test_review_request_inside_the_window(county, people):
    case = _replied(county, people)  # 10 Sept + 30 days = 10 Oct, a swapped working Saturday
    assert case.due_at == bj(2026, 10, 11)
    case = services.case_request_review(
        case=case, by=people.clerk, reason="不服", at=bj(2026, 10, 10, 23, 59)
    )
    assert case.state == S.REVIEWING and case.clock == "review_decide"
    assert case.due_at == bj(2026, 11, 10)  # 30 days from 10 Oct: 9 Nov


def test_review_request_after_the_window_is_refused(county, people):
    case = _replied(county, people)
    _assert_refused(
        lambda: services.case_request_review(
            case=case, by=people.clerk, reason="不服", at=bj(2026, 10, 11, 0, 1)
        ),
        case,
        "复查申请期限",
    )


def test_rereview_request_after_the_window_is_refused(county, people):
    case = _replied(county, people)
    case = services.case_request_review(
        case=case, by=people.clerk, reason="不服", at=bj(2026, 9, 11)
    )
    case = services.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.NOT_SUPPORTED,
        text="维持",
        at=bj(2026, 9, 14, 9),
    )
    assert case.due_at == bj(2026, 10, 15)  # 30 days from 14 Sept: 14 Oct
    _assert_refused(
        lambda: services.case_request_rereview(
            case=case, by=people.clerk, reason="不服", at=bj(2026, 10, 15, 8)
        ),
        case,
        "复核申请期限",
    )
    case = services.case_request_rereview(
        case=case, by=people.clerk, reason="不服", at=bj(2026, 10, 14, 8)
    )
    assert case.state == S.REREVIEWING and case.rereview_unit == county.city


# ---------------------------------------------------------------- pauses


def test_pause_and_resume_move_the_due_date(county, people):
    case = _accepted(county, people)
    assert case.due_at == bj(2026, 11, 3)
    case = services.case_pause(
        case=case, by=people.officer, reason="举行听证", at=bj(2026, 9, 20, 9)
    )
    assert case.paused and case.due_at is None and case.warn_at is None
    assert Case.objects.get(pk=case.pk).due_at is None
    for by in (people.officer, None):
        _assert_refused(
            lambda b=by: services.case_pause(case=case, by=b, reason="又一次", at=bj(2026, 9, 21)),
            case,
            "计时已中止",
        )
    case = services.case_resume(case=case, by=people.officer, at=bj(2026, 9, 23, 17))
    # 20..23 Sept: four days added; 6 Nov is a Friday.
    assert not case.paused and case.due_at == bj(2026, 11, 7)
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.kind == "case.resumed" and dt.datetime.fromisoformat(
        event.details["new_due"]
    ) == bj(2026, 11, 7)
    pause = ClockPause.objects.get(case=case)
    assert (pause.clock, pause.reason, pause.ended_at) == (
        "handle",
        "举行听证",
        bj(2026, 9, 23, 17),
    )


def test_resume_without_pause_is_refused(county, people):
    case = _accepted(county, people)
    for by in (people.officer, None):
        _assert_refused(
            lambda b=by: services.case_resume(case=case, by=b, at=bj(2026, 9, 20)),
            case,
            "计时未中止",
        )


def test_rating_only_once(county, people):
    case = services.case_rate(
        case=_replied(county, people), by=people.clerk, rating=Rating.BASICALLY, at=bj(2026, 9, 11)
    )
    assert case.rating == Rating.BASICALLY
    _assert_refused(
        lambda: services.case_rate(
            case=case, by=people.clerk, rating=Rating.SATISFIED, at=bj(2026, 9, 12)
        ),
        case,
        "已评价",
    )


def test_pause_needs_a_recorded_reason(county, people):
    case = _accepted(county, people)
    with pytest.raises(ValidationError) as exc:
        services.case_pause(case=case, by=people.officer, reason=" ", at=bj(2026, 9, 20))
    assert "reason" in exc.value.message_dict
    assert not Case.objects.get(pk=case.pk).paused


def test_extension_and_pause_add_up(county, people):
    case = _accepted(county, people)
    case = services.case_pause(case=case, by=people.officer, reason="鉴定", at=bj(2026, 9, 20, 9))
    case = services.case_resume(case=case, by=people.officer, at=bj(2026, 9, 21, 9))  # two days
    case = services.case_extend(
        case=case, by=people.head, days=10, reason="复杂", at=bj(2026, 10, 1)
    )
    # 3 Sept + 60 + 10 + 2 = 14 Nov, a Saturday: 16 Nov.
    assert case.due_at == bj(2026, 11, 17)


def test_reviewer_may_pause_the_review_clock(county, people):
    case = _replied(county, people)
    case = services.case_request_review(
        case=case, by=people.clerk, reason="不服", at=bj(2026, 9, 11)
    )
    _assert_refused(
        lambda: services.case_pause(
            case=case, by=people.officer, reason="听证", at=bj(2026, 9, 12)
        ),
        case,
        "中止计时",
    )
    case = services.case_pause(case=case, by=people.reviewer, reason="听证", at=bj(2026, 9, 12))
    assert case.due_at is None
    case = services.case_resume(case=case, by=people.reviewer, at=bj(2026, 9, 12, 18))
    assert case.due_at == bj(2026, 10, 13)  # 11 Sept + 30 + 1 = 12 Oct


# ---------------------------------------------------------------- finality


def test_finalize_expired_makes_final_only_closed_windows(county, people):
    expired = _replied(county, people, at=bj(2026, 9, 10, 9))  # window closes 11 Oct 00:00
    open_ = _replied(county, people, at=bj(2026, 9, 20, 9))  # window closes 21 Oct 00:00
    reviewing = services.case_request_review(
        case=_replied(county, people), by=people.clerk, reason="不服", at=bj(2026, 9, 11)
    )
    accepted = _accepted(county, people)
    assert services.finalize_expired(now=bj(2026, 10, 10, 23)) == 0
    assert services.finalize_expired(now=bj(2026, 10, 11)) == 1
    expired.refresh_from_db()
    assert expired.state == S.FINAL and expired.closed_at == bj(2026, 10, 11)
    assert expired.due_at is None and expired.clock == ""
    assert CaseEvent.objects.filter(case=expired, kind="case.finalized").count() == 1
    for other, state in ((open_, S.REPLIED), (reviewing, S.REVIEWING), (accepted, S.ACCEPTED)):
        other.refresh_from_db()
        assert other.state == state
    # Running it again finalizes nothing more until the next window closes.
    assert services.finalize_expired(now=bj(2026, 10, 12)) == 0
    assert services.finalize_expired(now=bj(2026, 10, 21)) == 1


def test_finalize_before_the_window_closes_is_refused(county, people):
    case = _replied(county, people)
    _assert_refused(
        lambda: services.case_finalize(case=case, at=bj(2026, 10, 10)), case, "尚未届满"
    )


# ---------------------------------------------------------------- 12345 hotline


@pytest.mark.parametrize(
    ("kind", "due"),
    [
        # Dispatched Wed 30 Sept 2026 at 10:00; working days skip 1-7 Oct, count Sat 10 Oct.
        (Kind.HOTLINE_ENQUIRY, bj(2026, 10, 10)),  # 8, 9 Oct
        (Kind.HOTLINE_HELP, bj(2026, 10, 21)),  # 8 9 10 12 13 14 15 16 19 20 Oct
        (Kind.HOTLINE_SUGGESTION, bj(2026, 10, 21)),
        (Kind.HOTLINE_COMPLAINT, bj(2026, 10, 28)),  # ... 21 22 23 26 27 Oct
        (Kind.HOTLINE_REPORT, bj(2026, 10, 28)),
    ],
)
def test_hotline_kinds_run_working_day_clocks_from_dispatch(county, kind, due):
    case = register(county, None, bj(2026, 9, 29, 15), kind=kind, channel="phone")
    assert case.clock == "route"
    case = services.case_route(case=case, by=None, unit=county.hr, at=bj(2026, 9, 30, 10))
    assert (case.clock, case.clock_started_at, case.due_at) == (kind, bj(2026, 9, 30, 10), due)
    # Acceptance does not restart the clock: it runs from dispatch.
    case = services.case_accept(case=case, by=None, at=bj(2026, 10, 9, 10))
    assert (case.clock, case.clock_started_at, case.due_at) == (kind, bj(2026, 9, 30, 10), due)


# ---------------------------------------------------------------- routing an accusation


def test_accusation_cannot_go_to_the_accused_unit_or_below(county, people):
    case = register(
        county,
        people.clerk,
        bj(2026, 9, 1, 9),
        kind=Kind.ACCUSATION,
        accused_unit=county.edu,
        accused_person="某副局长",
    )
    for unit in (county.edu, county.school):
        before = _snapshot(case)
        with pytest.raises(ValidationError) as exc:
            services.case_route(case=case, by=people.clerk, unit=unit, at=bj(2026, 9, 2))
        assert "回避" in exc.value.message_dict["unit"][0]
        assert unit.name in exc.value.message_dict["unit"][0]
        assert _snapshot(case) == before
    with pytest.raises(ValidationError):
        services.case_route(
            case=case, by=people.clerk, unit=county.hr, co_units=[county.school], at=bj(2026, 9, 2)
        )
    assert not CoHandler.objects.exists()
    case = services.case_route(
        case=case, by=people.clerk, unit=county.hr, co_units=[county.town], at=bj(2026, 9, 2)
    )
    assert case.lead_unit == county.hr
    assert list(case.co_handlers.values_list("unit", flat=True)) == [county.town.pk]


def test_appeal_naming_no_accused_may_go_anywhere(county, people):
    case = register(county, people.clerk, bj(2026, 9, 1, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.school, at=bj(2026, 9, 2))
    assert case.lead_unit == county.school


def test_assign_needs_a_deadline(county, people):
    case = register(county, people.clerk, bj(2026, 9, 1, 9))
    with pytest.raises(ValidationError) as exc:
        services.case_route(
            case=case, by=people.clerk, unit=county.hr, mode="assign", at=bj(2026, 9, 2)
        )
    assert "assign_days" in exc.value.message_dict
    case = services.case_route(
        case=case,
        by=people.clerk,
        unit=county.hr,
        mode="assign",
        assign_days=15,
        at=bj(2026, 9, 16, 10),
    )
    assert case.report_required and case.assign_due_at == bj(2026, 10, 9)


# ---------------------------------------------------------------- repeat submissions


def test_repeat_submission_to_an_open_matter_is_linked_not_opened(county, people):
    original = _accepted(county, people)
    count, version = Case.objects.count(), original.version
    result = services.case_register(
        services.Registration(
            office=county.office,
            channel="phone",
            kind=Kind.APPEAL,
            title="再次反映",
            content="工资还没发",
            place=county.place,
            petitioner=_petitioner(),
            repeat_of=original,
        ),
        by=people.clerk,
        at=bj(2026, 9, 20),
    )
    assert not result.created and result.notice == "in_progress"
    assert result.case.pk == original.pk
    assert Case.objects.count() == count
    original.refresh_from_db()
    assert original.repeat_count == 1 and original.version == version + 1
    event = CaseEvent.objects.filter(case=original).latest("id")
    assert event.kind == "case.repeat_received" and event.details["notice"] == "in_progress"
    assert RepeatSubmission.objects.get(case=original).content == "工资还没发"


def test_repeat_submission_to_a_final_matter_gets_not_accepted_again(county, people):
    original = _final(county)
    result = services.case_register(
        services.Registration(
            office=county.office,
            channel="visit",
            kind=Kind.APPEAL,
            title="再次反映",
            content="同一事实",
            place=county.place,
            petitioner=_petitioner(),
            repeat_of=original,
        ),
        by=people.clerk,
        at=bj(2026, 10, 20),
    )
    assert not result.created and result.notice == "not_accepted_again"
    original.refresh_from_db()
    assert original.state == S.FINAL and original.repeat_count == 1


def test_not_accept_again_requires_a_final_prior_matter(county, people):
    prior = _accepted(county, people)
    case = register(county, people.clerk, bj(2026, 9, 20))
    _assert_refused(
        lambda: services.case_not_accept_again(
            case=case, by=people.clerk, prior=prior, at=bj(2026, 9, 21)
        ),
        case,
        "尚未终结",
    )
    prior = _final(county)
    case = services.case_not_accept_again(
        case=case, by=people.clerk, prior=prior, at=bj(2026, 10, 21)
    )
    assert case.state == S.NOT_ACCEPTED_AGAIN and case.linked_to == prior and case.due_at is None


def _petitioner():
    from tests.factories import petitioner

    return petitioner()


def test_an_assigned_matter_owes_one_completion_report_and_records_whether_it_was_on_time(
    county, people
):
    from tests.factories import bj, register
    from xinfang.cases import access, services
    from xinfang.cases.workflow import TransitionNotAllowed

    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    case = services.case_route(
        case=case,
        by=people.clerk,
        unit=county.hr,
        mode="assign",
        assign_days=10,
        at=bj(2026, 11, 2, 10),
    )
    assert case.assign_due_at == bj(2026, 11, 13)
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 3, 9))
    assert "report" in access.allowed_actions(people.officer, case)
    case = services.case_report(
        case=case, by=people.officer, text="已办结。", at=bj(2026, 11, 14, 9)
    )
    assert case.report_submitted_at == bj(2026, 11, 14, 9)
    assert case.events.get(kind="case.report_submitted").details["report_on_time"] is False
    assert "report" not in access.allowed_actions(people.officer, case)
    with pytest.raises(TransitionNotAllowed):
        services.case_report(case=case, by=people.officer, text="再报一次")


def test_a_transferred_matter_needs_no_completion_report(county, people):
    from tests.factories import bj, register
    from xinfang.cases import access, services

    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 3, 9))
    assert "report" not in access.allowed_actions(people.officer, case)
