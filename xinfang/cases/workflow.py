"""The states and transitions of a matter, as one table. Pure: no database here.

Each transition names the states it may start from, the state it leads to (None: unchanged),
who may take it, the event it records, the input it takes (a form) and the pure function that
says what it changes (`xinfang.cases.transitions`). The one writer that applies a row is
`xinfang.cases.writer.case_transition`; docs/adding-a-transition.md says how to add one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xinfang.cases import forms
from xinfang.cases import transitions as t
from xinfang.cases.events import EventKind, is_public
from xinfang.cases.models import Case, State
from xinfang.cases.transitions import (  # noqa: F401 - re-exported: the errors' first home
    Change,
    TransitionForbidden,
    TransitionNotAllowed,
    TransitionRefused,
)

if TYPE_CHECKING:
    from xinfang.cases.forms import UserForm
    from xinfang.orgs.models import User

S = State


Params = Mapping[str, Any]


@dataclass(frozen=True)
class Transition:
    """办理操作: one transition of a matter, declared once.

    `form` is the input a person gives (the staff page uses it, the JSON API derives its body
    schema from it); None when nobody types it (the worker's 期满终结, the routing panel's 并单).
    `check(params, by)` refuses bad input before anything is locked; `apply(case, params, at)`
    returns the change as data (`transitions.Change`); `refusal(case)` is a once-only rule that
    holds whoever asks (the page hides the action, the writer refuses it with these words).
    `effect` is a dotted path to a function run in the same transaction after the change
    (催办 tells the urged unit), imported when used so that cases does not import that app.
    """

    name: str
    label: str
    sources: frozenset[str]
    target: str | None
    # Which side acts: "office" (the registering petition office), "handler" (the lead unit),
    # "head" (the lead unit's head), "reviewer" (the review organ), "citizen", "supervisor".
    actor: str
    event: EventKind
    form: type[UserForm] | None
    apply: Callable[[Case, Params, dt.datetime], Change]
    check: Callable[[Params, User | None], None] | None = None
    refusal: Callable[[Case], str | None] | None = None
    effect: str = ""

    @property
    def public(self) -> bool:
        """Whether its event reaches the citizen: said once, in `events.EVENTS`."""
        return is_public(self.event)


Action = Transition  # the name the readers of this table used first


OPEN_AFTER_REPLY = {S.REPLIED, S.REVIEWING, S.REVIEWED, S.REREVIEWING, S.FINAL}
CLOCK_STATES = {S.ACCEPTED, S.REVIEWING, S.REREVIEWING}  # where 中止/恢复计时 apply

ACTIONS: dict[str, Transition] = {
    a.name: a
    for a in [
        Transition(
            name="route",
            label="转送/交办",
            sources=frozenset({S.REGISTERED}),
            target=S.ROUTED,
            actor="office",
            event=EventKind.ROUTED,
            form=forms.RouteForm,
            apply=t.route,
            check=t.check_route,
            refusal=t.route_refusal,
        ),
        Transition(
            name="object",
            label="异议退回",
            sources=frozenset({S.ROUTED}),
            target=S.REGISTERED,
            actor="handler",
            event=EventKind.OBJECTED,
            form=forms.ReasonForm,
            apply=t.object_,
            check=t.check_reason,
        ),
        # 撤回智能派单: only a route the system made (routing.auto), before the unit accepts,
        # within the objection window; counted as a wrong automatic route (routing.selectors).
        Transition(
            name="undo_auto_route",
            label="撤回智能派单",
            sources=frozenset({S.ROUTED}),
            target=S.REGISTERED,
            actor="office",
            event=EventKind.AUTO_ROUTE_UNDONE,
            form=forms.ReasonForm,
            apply=t.undo_auto_route,
            check=t.check_undo_auto_route,
            refusal=t.undo_auto_route_refusal,
        ),
        Transition(
            name="accept",
            label="受理",
            sources=frozenset({S.ROUTED}),
            target=S.ACCEPTED,
            actor="handler",
            event=EventKind.ACCEPTED,
            form=forms.EmptyForm,
            apply=t.accept,
        ),
        Transition(
            name="decline",
            label="不予受理",
            sources=frozenset({S.REGISTERED, S.ROUTED}),
            target=S.DECLINED,
            actor="office_or_handler",
            event=EventKind.DECLINED,
            form=forms.DeclineForm,
            apply=t.decline,
            check=t.check_decline,
        ),
        Transition(
            name="not_accept_again",
            label="不再受理",
            sources=frozenset({S.REGISTERED, S.ROUTED}),
            target=S.NOT_ACCEPTED_AGAIN,
            actor="office_or_handler",
            event=EventKind.NOT_ACCEPTED_AGAIN,
            form=forms.NotAcceptAgainForm,
            apply=t.not_accept_again,
            check=t.check_not_accept_again,
        ),
        Transition(
            name="extend",
            label="延期",
            sources=frozenset({S.ACCEPTED}),
            target=None,
            actor="head",
            event=EventKind.EXTENDED,
            form=forms.ExtendForm,
            apply=t.extend,
            check=t.check_extend,
            refusal=t.extend_refusal,
        ),
        Transition(
            name="reply",
            label="答复",
            sources=frozenset({S.ACCEPTED}),
            target=S.REPLIED,
            actor="handler",
            event=EventKind.REPLIED,
            form=forms.ReplyForm,
            apply=t.reply,
            check=t.check_reply,
        ),
        Transition(
            name="report",
            label="报送办结报告",
            sources=frozenset({S.ACCEPTED, S.REPLIED, S.REVIEWING, S.REVIEWED, S.FINAL}),
            target=None,
            actor="handler",
            event=EventKind.REPORT_SUBMITTED,
            form=forms.ReportForm,
            apply=t.report,
            check=t.check_report,
            refusal=t.report_refusal,
        ),
        Transition(
            name="rate",
            label="评价",
            sources=frozenset(OPEN_AFTER_REPLY),
            target=None,
            actor="citizen",
            event=EventKind.RATED,
            form=forms.RateForm,
            apply=t.rate,
            check=t.check_rate,
            refusal=t.rate_refusal,
        ),
        Transition(
            name="request_review",
            label="申请复查",
            sources=frozenset({S.REPLIED}),
            target=S.REVIEWING,
            actor="citizen",
            event=EventKind.REVIEW_REQUESTED,
            form=forms.ReasonForm,
            apply=t.request_review,
            check=t.check_request_review,
        ),
        Transition(
            name="decide_review",
            label="复查决定",
            sources=frozenset({S.REVIEWING}),
            target=S.REVIEWED,
            actor="reviewer",
            event=EventKind.REVIEW_DECIDED,
            form=forms.ReplyForm,
            apply=t.decide_review,
            check=t.check_decide_review,
        ),
        Transition(
            name="request_rereview",
            label="申请复核",
            sources=frozenset({S.REVIEWED}),
            target=S.REREVIEWING,
            actor="citizen",
            event=EventKind.REREVIEW_REQUESTED,
            form=forms.ReasonForm,
            apply=t.request_rereview,
            check=t.check_request_rereview,
        ),
        Transition(
            name="decide_rereview",
            label="复核决定",
            sources=frozenset({S.REREVIEWING}),
            target=S.FINAL,
            actor="reviewer",
            event=EventKind.REREVIEW_DECIDED,
            form=forms.ReplyForm,
            apply=t.decide_rereview,
            check=t.check_decide_rereview,
        ),
        Transition(
            name="pause",
            label="中止计时",
            sources=frozenset(CLOCK_STATES),
            target=None,
            actor="clock_holder",
            event=EventKind.PAUSED,
            form=forms.ReasonForm,
            apply=t.pause,
            check=t.check_pause,
            refusal=t.pause_refusal,
        ),
        Transition(
            name="resume",
            label="恢复计时",
            sources=frozenset(CLOCK_STATES),
            target=None,
            actor="clock_holder",
            event=EventKind.RESUMED,
            form=forms.EmptyForm,
            apply=t.resume,
            refusal=t.resume_refusal,
        ),
        # The worker's (finalize_expired): nobody types it, no side grants "system".
        Transition(
            name="finalize",
            label="期满终结",
            sources=frozenset({S.REPLIED, S.REVIEWED}),
            target=S.FINAL,
            actor="system",
            event=EventKind.FINALIZED,
            form=None,
            apply=t.finalize,
        ),
        # The urged unit's staff are told in the same transaction (`effect`).
        Transition(
            name="urge",
            label="催办",
            sources=frozenset({S.REGISTERED, S.ROUTED, S.ACCEPTED, S.REVIEWING, S.REREVIEWING}),
            target=None,
            actor="supervisor",
            event=EventKind.URGED,
            form=forms.NoteForm,
            apply=t.urge,
            check=t.check_urge,
            effect="xinfang.supervision.services.urge_notify",
        ),
        # 并单: a duplicate closes as merged into the main matter (linked_to), which carries on.
        # Taken from the similar-matters panel (xinfang.routing), not from the generic action
        # forms: no side grants "office_merge"; services.case_merge locks both matters, checks
        # the registering office and applies `t.merge`.
        Transition(
            name="merge",
            label="并单",
            sources=frozenset({S.REGISTERED, S.ROUTED}),
            target=S.FINAL,
            actor="office_merge",
            event=EventKind.MERGED,
            form=None,
            apply=t.merge,
        ),
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


def refusal(case, action_name: str) -> str | None:
    """Why `action_name` is refused on `case` whatever the user's role, or None."""
    rule = ACTIONS[action_name].refusal
    return rule(case) if rule else None


def check_transition(action_name: str, state: str) -> Transition:
    action = ACTIONS[action_name]
    if state not in action.sources:
        raise TransitionRefused(f"当前状态为“{State(state).label}”，不能进行“{action.label}”操作")
    return action


# The transitions a person takes on the case page and through the JSON API (one form each);
# the others run elsewhere: 期满终结 in the worker, 并单 from the routing panel.
FORM_ACTIONS: dict[str, Transition] = {n: a for n, a in ACTIONS.items() if a.form is not None}
