"""The event vocabulary (事件类型): every kind of timeline event, and what each audience reads of it.

`EventKind` names each kind; `EVENTS` says, per kind, in one row:

- `label`: what staff read on the case timeline, in the API and in reports (办理过程);
- `citizen`: what the portal shows the petitioner, a headline and its lines (None: not shown);
- `open311`: the Open311 `status_notes` when the event is a request's latest step (None: never);
- `public`: whether the event is recorded as 对信访人公开 (the portal, Open311 and the citizen's
  messages only ever read public events).

Texts are templates over the event's details, filled by `render`: `{unit}` a field, `{unit|办理单位}`
a field with a default when it is empty, `[，请通过{proper_channel}反映]` a part left out when a
field in it is empty. `event_fields` turns details into fields (choice labels, dates, scrubbed
free text). A StrEnum member is its string, so stored values and queries stay as they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from xinfang.cases.deadlines import cn_last_day
from xinfang.cases.models import Case, CaseEvent, Channel, Outcome, Rating, RouteMode


class EventKind(StrEnum):
    """事件类型. `case.*` and the supervision kinds go on a matter's timeline (CaseEvent),
    `backlog.*` on a backlog case's own timeline (BacklogEvent)."""

    REGISTERED = "case.registered"
    ROUTED = "case.routed"
    OBJECTED = "case.objected"
    ACCEPTED = "case.accepted"
    DECLINED = "case.declined"
    NOT_ACCEPTED_AGAIN = "case.not_accepted_again"
    EXTENDED = "case.extended"
    REPLIED = "case.replied"
    RATED = "case.rated"
    REPORT_SUBMITTED = "case.report_submitted"
    REVIEW_REQUESTED = "case.review_requested"
    REVIEW_DECIDED = "case.review_decided"
    REREVIEW_REQUESTED = "case.rereview_requested"
    REREVIEW_DECIDED = "case.rereview_decided"
    PAUSED = "case.paused"
    RESUMED = "case.resumed"
    FINALIZED = "case.finalized"
    URGED = "case.urged"
    REPEAT_RECEIVED = "case.repeat_received"
    MERGED = "case.merged"
    MERGE_RECEIVED = "case.merge_received"
    DEADLINE_CHANGED = "case.deadline_changed"
    ACCUSED_RECORDED = "case.accused_recorded"
    AUTO_ROUTE_UNDONE = "case.auto_route_undone"
    SUPERVISION_ISSUED = "supervision.issued"
    SUPERVISION_FEEDBACK = "supervision.feedback"
    SUPERVISION_ESCALATED = "supervision.escalated"
    SUPERVISION_CLOSED = "supervision.closed"
    SUPERVISION_REDO = "supervision.redo"
    # a staff message only (催办通知 to the urged unit); the timeline records case.urged
    SUPERVISION_URGED = "supervision.urged"
    COHANDLING_OPINION = "cohandling.opinion"
    BACKLOG_FLAGGED = "backlog.flagged"
    BACKLOG_OWNER_ASSIGNED = "backlog.owner_assigned"
    BACKLOG_OWNER_REMOVED = "backlog.owner_removed"
    BACKLOG_MEMBER_ADDED = "backlog.member_added"
    BACKLOG_MEMBER_REMOVED = "backlog.member_removed"
    BACKLOG_PLAN_SAVED = "backlog.plan_saved"
    BACKLOG_PLAN_EXECUTED = "backlog.plan_executed"
    BACKLOG_STEP_RECORDED = "backlog.step_recorded"
    BACKLOG_MEETING_RECORDED = "backlog.meeting_recorded"
    BACKLOG_ACTION_DONE = "backlog.action_done"
    BACKLOG_AID_RECORDED = "backlog.aid_recorded"
    BACKLOG_MEDIATION_RECORDED = "backlog.mediation_recorded"
    BACKLOG_MEDIATION_SESSION = "backlog.mediation_session"
    BACKLOG_HEARING_RECORDED = "backlog.hearing_recorded"
    BACKLOG_SUMMONS_RECORDED = "backlog.summons_recorded"
    BACKLOG_ACCEPTANCE_RECORDED = "backlog.acceptance_recorded"
    BACKLOG_CLOSED = "backlog.closed"
    BACKLOG_REOPENED = "backlog.reopened"


@dataclass(frozen=True)
class EventText:
    """事件说明: what each audience reads about one kind. Every field is stated, none defaulted,
    so a new kind cannot forget an audience."""

    label: str
    # the portal's headline, then its lines; a line that renders empty is left out
    citizen: tuple[str, ...] | None
    open311: str | None
    public: bool


def _internal(label: str) -> EventText:
    """A kind the petitioner never sees: staff work, supervision, the backlog timeline."""
    return EventText(label, citizen=None, open311=None, public=False)


_REPLY_LINES = ("处理结果：{outcome}", "{text}")

K = EventKind
EVENTS: dict[EventKind, EventText] = {
    K.REGISTERED: EventText(
        "登记", ("事项已登记", "来源：{channel}"), "已登记，等待转交责任单位办理", public=True
    ),
    K.ROUTED: EventText(
        "转送/交办",
        ("已{verb}{unit}办理", "办理单位：{unit}", "[协办单位：{co_units}]"),
        "已转交{unit|责任单位}办理",
        public=True,
    ),
    K.OBJECTED: _internal("异议退回"),
    K.ACCEPTED: EventText(
        "受理", ("{unit|办理单位}已受理",), "{unit|责任单位}已受理，正在办理", public=True
    ),
    K.DECLINED: EventText(
        "不予受理",
        ("不予受理", "理由：{reason}", "请通过以下法定途径解决：{proper_channel}"),
        "不予受理[，请通过{proper_channel}反映]",
        public=True,
    ),
    K.NOT_ACCEPTED_AGAIN: EventText(
        "不再受理",
        (
            "不再受理",
            "与已终结的信访事项{prior}系同一事实和理由，依法不再受理",
            "[说明：{reason}]",
        ),
        "同一事项已终结，不再受理",
        public=True,
    ),
    K.EXTENDED: EventText(
        "延期",
        ("办理期限延长{days}日", "延期理由：{reason}", "[新的办理期限：{new_due}]"),
        "办理期限延长{days}天",
        public=True,
    ),
    K.REPLIED: EventText(
        "答复",
        ("已作出处理意见（答复）", *_REPLY_LINES),
        "已答复（处理结果：{outcome}）",
        public=True,
    ),
    K.RATED: EventText("评价", ("您已评价：{rating}",), "已评价：{rating}", public=True),
    K.REPORT_SUBMITTED: _internal("报送办结报告"),
    K.REVIEW_REQUESTED: EventText(
        "申请复查",
        ("已申请复查", "复查机关：{review_unit}"),
        "已申请复查（{review_unit}）",
        public=True,
    ),
    K.REVIEW_DECIDED: EventText(
        "复查决定", ("已作出复查意见", *_REPLY_LINES), "复查决定：{outcome}", public=True
    ),
    K.REREVIEW_REQUESTED: EventText(
        "申请复核",
        ("已申请复核", "复核机关：{rereview_unit}"),
        "已申请复核（{rereview_unit}）",
        public=True,
    ),
    K.REREVIEW_DECIDED: EventText(
        "复核决定",
        ("已作出复核意见（三级终结）", *_REPLY_LINES),
        "复核决定：{outcome}，事项终结",
        public=True,
    ),
    K.PAUSED: EventText(
        "中止计时",
        ("办理期限中止计时", "事由：{reason}"),
        "办理计时中止（听证、鉴定等）",
        public=True,
    ),
    K.RESUMED: EventText(
        "恢复计时", ("恢复计时", "[新的期限：{new_due}]"), "办理计时恢复", public=True
    ),
    K.FINALIZED: EventText(
        "期满终结",
        ("申请期限届满，处理意见已生效，事项办结",),
        "答复已生效，事项终结",
        public=True,
    ),
    K.URGED: _internal("催办"),
    K.REPEAT_RECEIVED: EventText(
        "重复信访",
        ("收到重复提交的诉求", "{repeat_notice}"),
        "收到同一事项的再次反映，已并入办理",
        public=True,
    ),
    # the main matter's number stays out of the citizen's text: it may be someone else's petition
    K.MERGED: EventText(
        "并单（并入主事项）",
        ("已并入同一诉求的事项一并办理",),
        "并单（并入主事项）",
        public=True,
    ),
    K.MERGE_RECEIVED: _internal("并入事项"),
    # public, except on the objection clock, which is the unit's (cases.holidays records it so)
    K.DEADLINE_CHANGED: EventText(
        "节假日调整，期限重算",
        ("因节假日调整，期限顺延", "[新的期限：{new_due}]"),
        "节假日调整，期限重算",
        public=True,
    ),
    K.ACCUSED_RECORDED: _internal("记录/更正被反映单位"),
    # the office takes back a 智能派单 (like 异议退回, staff work the petitioner does not see)
    K.AUTO_ROUTE_UNDONE: _internal("撤回智能派单"),
    K.SUPERVISION_ISSUED: _internal("下达督办单"),
    K.SUPERVISION_FEEDBACK: _internal("督办反馈"),
    K.SUPERVISION_ESCALATED: _internal("督办逾期未反馈"),
    K.SUPERVISION_CLOSED: _internal("督办办结"),
    K.SUPERVISION_REDO: _internal("督办退回重办"),
    K.SUPERVISION_URGED: _internal("催办通知"),
    K.COHANDLING_OPINION: _internal("协办意见"),
    K.BACKLOG_FLAGGED: _internal("认定为积案"),
    K.BACKLOG_OWNER_ASSIGNED: _internal("指定包案领导"),
    K.BACKLOG_OWNER_REMOVED: _internal("包案领导回避"),
    K.BACKLOG_MEMBER_ADDED: _internal("加入工作专班"),
    K.BACKLOG_MEMBER_REMOVED: _internal("退出工作专班"),
    K.BACKLOG_PLAN_SAVED: _internal("保存化解方案"),
    K.BACKLOG_PLAN_EXECUTED: _internal("化解方案落实"),
    K.BACKLOG_STEP_RECORDED: _internal("听议明定考记录"),
    K.BACKLOG_MEETING_RECORDED: _internal("召开协调会议"),
    K.BACKLOG_ACTION_DONE: _internal("会议落实事项办结"),
    K.BACKLOG_AID_RECORDED: _internal("帮扶救助"),
    K.BACKLOG_MEDIATION_RECORDED: _internal("律师引导调解"),
    K.BACKLOG_MEDIATION_SESSION: _internal("调解"),
    K.BACKLOG_HEARING_RECORDED: _internal("听证评议"),
    K.BACKLOG_SUMMONS_RECORDED: _internal("约谈"),
    K.BACKLOG_ACCEPTANCE_RECORDED: _internal("息诉罢访"),
    K.BACKLOG_CLOSED: _internal("化解销号"),
    K.BACKLOG_REOPENED: _internal("重新化解（同一事项再次信访）"),
}

# What the citizen reads under 收到重复提交的诉求, by the notice the repeat was answered with.
REPEAT_NOTICES = {
    "not_accepted_again": "该事项已办结，同一事实和理由依法不再受理",
    "in_progress": "已并入本事项一并办理",
}

# details that hold free text: they may name people, so every reader gets them scrubbed
FREE_TEXT = ("reason", "proper_channel", "text", "note")


def text_of(kind: str) -> EventText | None:
    """The row of a stored kind; None for a kind this vocabulary does not know."""
    try:
        return EVENTS[EventKind(kind)]
    except ValueError:
        return None


def label(kind: str) -> str:
    """The staff label; an unknown kind (an old row) shows as it is stored."""
    row = text_of(kind)
    return row.label if row is not None else kind


def is_public(kind: str) -> bool:
    row = text_of(kind)
    return row is not None and row.public


# ---------------------------------------------------------------- filling the templates

_FIELD = re.compile(r"\{(\w+)(?:\|([^{}]*))?\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def render(template: str, fields: Mapping[str, str]) -> str:
    """Fill `{name}`, `{name|default}` and drop `[...]` parts whose fields are empty."""

    def optional(match: re.Match) -> str:
        inner = match.group(1)
        return inner if all(fields.get(name) for name, _ in _FIELD.findall(inner)) else ""

    def field(match: re.Match) -> str:
        return fields.get(match.group(1)) or match.group(2) or ""

    return _FIELD.sub(field, _OPTIONAL.sub(optional, template))


def _choice(choices, value) -> str:
    return choices(value).label if value in choices.values else ""


def _due(value) -> str:
    try:
        due = dt.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return ""
    return cn_last_day(due)


def event_fields(
    event: CaseEvent, *, scrub: Callable[[str], str], case: Case | None = None
) -> dict[str, str]:
    """The fields the templates read, from an event's details: choice values as their labels,
    dates as 2026年12月18日, free text through `scrub` (the reader's own scrubber). `case`
    gives the channel of a registration recorded without one."""
    d = event.details or {}
    fields = {k: str(v) for k, v in d.items() if isinstance(v, str | int)}
    fields.update({name: scrub(str(d.get(name) or "")) for name in FREE_TEXT})
    fields.update(
        channel=_choice(Channel, d.get("channel", case.channel if case else "")),
        outcome=_choice(Outcome, d.get("outcome", "")),
        rating=_choice(Rating, d.get("rating", "")),
        verb="交办" if d.get("mode") == RouteMode.ASSIGN else "转送",
        co_units="、".join(str(u) for u in d.get("co_units") or []),
        new_due=_due(d.get("new_due")),
        repeat_notice=REPEAT_NOTICES.get(d.get("notice") or "", REPEAT_NOTICES["in_progress"]),
    )
    return fields


def citizen_lines(text: EventText, fields: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """The portal's headline and lines; a free text of several lines gives several lines."""
    if text.citizen is None:
        return None
    title, *templates = text.citizen
    lines = [line for t in templates for line in render(t, fields).splitlines() if line.strip()]
    return render(title, fields), lines
