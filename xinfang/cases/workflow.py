"""The states and transitions of a matter, as one table. Pure: no database here.

Each action names the states it may start from, the state it leads to (None: unchanged),
who may take it, and the clock that runs afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang.cases.models import State

S = State


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None
    # Which side acts: "office" (the registering petition office), "handler" (the lead unit),
    # "head" (the lead unit's head), "reviewer" (the review organ), "citizen", "supervisor".
    actor: str
    event: str


def _a(name, label, sources, target, actor, event=None) -> Action:
    return Action(name, label, frozenset(sources), target, actor, event or f"case.{name}")


OPEN_AFTER_REPLY = {S.REPLIED, S.REVIEWING, S.REVIEWED, S.REREVIEWING, S.FINAL}

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        _a("route", "转送/交办", {S.REGISTERED}, S.ROUTED, "office", "case.routed"),
        _a("object", "异议退回", {S.ROUTED}, S.REGISTERED, "handler", "case.objected"),
        _a("accept", "受理", {S.ROUTED}, S.ACCEPTED, "handler", "case.accepted"),
        _a(
            "decline",
            "不予受理",
            {S.REGISTERED, S.ROUTED},
            S.DECLINED,
            "office_or_handler",
            "case.declined",
        ),
        _a(
            "not_accept_again",
            "不再受理",
            {S.REGISTERED, S.ROUTED},
            S.NOT_ACCEPTED_AGAIN,
            "office_or_handler",
            "case.not_accepted_again",
        ),
        _a("extend", "延期", {S.ACCEPTED}, None, "head", "case.extended"),
        _a("reply", "答复", {S.ACCEPTED}, S.REPLIED, "handler", "case.replied"),
        _a(
            "report",
            "报送办结报告",
            {S.ACCEPTED, S.REPLIED, S.REVIEWING, S.REVIEWED, S.FINAL},
            None,
            "handler",
            "case.report_submitted",
        ),
        _a("rate", "评价", OPEN_AFTER_REPLY, None, "citizen", "case.rated"),
        _a(
            "request_review",
            "申请复查",
            {S.REPLIED},
            S.REVIEWING,
            "citizen",
            "case.review_requested",
        ),
        _a(
            "decide_review",
            "复查决定",
            {S.REVIEWING},
            S.REVIEWED,
            "reviewer",
            "case.review_decided",
        ),
        _a(
            "request_rereview",
            "申请复核",
            {S.REVIEWED},
            S.REREVIEWING,
            "citizen",
            "case.rereview_requested",
        ),
        _a(
            "decide_rereview",
            "复核决定",
            {S.REREVIEWING},
            S.FINAL,
            "reviewer",
            "case.rereview_decided",
        ),
        _a(
            "pause",
            "中止计时",
            {S.ACCEPTED, S.REVIEWING, S.REREVIEWING},
            None,
            "clock_holder",
            "case.paused",
        ),
        _a(
            "resume",
            "恢复计时",
            {S.ACCEPTED, S.REVIEWING, S.REREVIEWING},
            None,
            "clock_holder",
            "case.resumed",
        ),
        _a("finalize", "期满终结", {S.REPLIED, S.REVIEWED}, S.FINAL, "system", "case.finalized"),
        _a(
            "urge",
            "催办",
            {S.REGISTERED, S.ROUTED, S.ACCEPTED, S.REVIEWING, S.REREVIEWING},
            None,
            "supervisor",
            "case.urged",
        ),
        # 并单: a duplicate closes as merged into the main matter (linked_to), which carries on.
        # Taken from the similar-matters panel (xinfang.routing), not from the generic action
        # forms: no side grants "office_merge", and case_merge checks the registering office.
        _a("merge", "并单", {S.REGISTERED, S.ROUTED}, S.FINAL, "office_merge", "case.merged"),
    ]
}

# The clock that runs in each state (None: no clock).
STATE_CLOCK: dict[str, str | None] = {
    S.REGISTERED: "route",
    S.ROUTED: "accept",
    S.ACCEPTED: "handle",
    S.REPLIED: "review_request",
    S.REVIEWING: "review_decide",
    S.REVIEWED: "rereview_request",
    S.REREVIEWING: "rereview_decide",
    S.DECLINED: None,
    S.NOT_ACCEPTED_AGAIN: None,
    S.FINAL: None,
}

# Clocks that the petitioner holds (a window to ask), not the office: they never show as overdue
# for a unit; when they run out the matter becomes final.
CITIZEN_WINDOWS = frozenset({"review_request", "rereview_request"})


def _report_refusal(case) -> str | None:
    if not case.report_required:
        return "该事项为转送事项，无需报送办结报告"
    if case.report_submitted_at:
        return "办结报告已报送"
    return None


# Refusals that hold whoever asks, beyond the state: the page hides these actions, the services
# refuse them with these words. One table, so the two can never disagree.
ONCE_ONLY = {
    "extend": lambda c: "该事项已延期一次，不能再次延期" if c.extension_days else None,
    "rate": lambda c: "该事项已评价，不能重复评价" if c.rating else None,
    "pause": lambda c: "计时已中止" if c.paused else None,
    "resume": lambda c: None if c.paused else "计时未中止",
    "report": _report_refusal,
    # 检举控告 must never reach the unit it accuses: until the accused units are recorded
    # nobody can tell which units those are, so the matter cannot be routed.
    "route": lambda c: (
        "被反映单位待确定：请先记录被反映单位，再转送交办" if c.accused_pending else None
    ),
}


def refusal(case, action_name: str) -> str | None:
    """Why `action_name` is refused on `case` whatever the user's role, or None."""
    rule = ONCE_ONLY.get(action_name)
    return rule(case) if rule else None


class TransitionNotAllowed(Exception):
    """An action that the matter's state or the user's role does not permit. Message in Chinese."""


def check_transition(action_name: str, state: str) -> Action:
    action = ACTIONS[action_name]
    if state not in action.sources:
        raise TransitionNotAllowed(
            f"当前状态为“{State(state).label}”，不能进行“{action.label}”操作"
        )
    return action
