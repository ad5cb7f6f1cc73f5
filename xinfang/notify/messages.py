"""The words of each notification, in plain Chinese. Pure: reads the event and the matter only.

Citizen messages never carry the query code (except the one submission receipt, built by
`submission_text`); staff messages never carry the petitioner's identity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CaseEvent, Kind, Outcome, Rating, RouteMode
from xinfang.cases.selectors import cn_date, last_day
from xinfang.notify import conf


def due_text(due: dt.datetime | None) -> str:
    return cn_date(last_day(due)) if due else ""


def _parse(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _outcome(value: str) -> str:
    return Outcome(value).label if value in Outcome.values else ""


def _tail() -> str:
    return f"查询进度请访问{conf.portal_url()}（凭事项编号和查询码）。"


def submission_text(case: Case, code: str) -> str:
    """The one message that carries the query code: the receipt of an online submission."""
    return (
        f"您的信访事项已提交，事项编号{case.number}，查询码{code}（请妥善保管，勿告知他人）。"
        f"我们将在{due_text(case.due_at)}前转送有关单位办理。{_tail()}"
    )


def _registered(case: Case, event: CaseEvent) -> str:
    return f"您的信访事项{case.number}已登记，将于{due_text(case.due_at)}前转送有关单位办理。"


def _routed(case: Case, event: CaseEvent) -> str:
    verb = "交办" if event.details.get("mode") == RouteMode.ASSIGN else "转送"
    unit = event.details.get("unit", "")
    what = "办理" if case.is_hotline else "受理"
    return f"您的信访事项{case.number}已{verb}{unit}，{what}期限至{due_text(case.due_at)}。"


def _accepted(case: Case, event: CaseEvent) -> str:
    unit = event.details.get("unit") or (case.lead_unit.name if case.lead_unit else "")
    return f"您的信访事项{case.number}已由{unit}受理，办理期限至{due_text(case.due_at)}。"


def _declined(case: Case, event: CaseEvent) -> str:
    reason = str(event.details.get("reason", "")).rstrip("。")
    channel = str(event.details.get("proper_channel", "")).rstrip("。")
    return f"您的信访事项{case.number}不予受理，理由：{reason}。请通过以下途径依法解决：{channel}。"


def _not_again(case: Case, event: CaseEvent) -> str:
    prior = event.details.get("prior", "")
    return f"您的信访事项{case.number}与已终结的信访事项{prior}系同一事实和理由，依法不再受理。"


def _extended(case: Case, event: CaseEvent) -> str:
    days = event.details.get("days", "")
    reason = str(event.details.get("reason", "")).rstrip("。")
    new_due = _parse(event.details.get("new_due"))
    return (
        f"您的信访事项{case.number}办理期限延长{days}日，理由：{reason}；"
        f"新的办理期限至{due_text(new_due)}。"
    )


def _replied(case: Case, event: CaseEvent) -> str:
    outcome = _outcome(event.details.get("outcome", ""))
    return (
        f"您的信访事项{case.number}已答复，处理结果：{outcome}。如不服，可于{due_text(case.due_at)}前"
        "向上一级机关申请复查。"
    )


def _review_requested(case: Case, event: CaseEvent) -> str:
    unit = event.details.get("review_unit", "")
    return f"您对信访事项{case.number}的复查申请已收到，复查机关：{unit}，复查期限至{due_text(case.due_at)}。"


def _review_decided(case: Case, event: CaseEvent) -> str:
    outcome = _outcome(event.details.get("outcome", ""))
    return (
        f"您的信访事项{case.number}复查意见已作出：{outcome}。如不服，可于{due_text(case.due_at)}前"
        "申请复核。"
    )


def _rereview_requested(case: Case, event: CaseEvent) -> str:
    unit = event.details.get("rereview_unit", "")
    return f"您对信访事项{case.number}的复核申请已收到，复核机关：{unit}，复核期限至{due_text(case.due_at)}。"


def _rereview_decided(case: Case, event: CaseEvent) -> str:
    outcome = _outcome(event.details.get("outcome", ""))
    return f"您的信访事项{case.number}复核意见已作出：{outcome}。该事项已办结（三级终结）。"


def _finalized(case: Case, event: CaseEvent) -> str:
    return f"您的信访事项{case.number}申请期限已届满，处理意见已生效，该事项已办结。"


def _repeat(case: Case, event: CaseEvent) -> str:
    if event.details.get("notice") == "not_accepted_again":
        return f"您再次提交的诉求与已办结的信访事项{case.number}相同，依法不再受理。"
    return f"您再次提交的诉求已收到，已并入正在办理的信访事项{case.number}，请耐心等待答复。"


CITIZEN_TEXTS: dict[str, Callable[[Case, CaseEvent], str]] = {
    EventKind.REGISTERED: _registered,
    EventKind.ROUTED: _routed,
    EventKind.ACCEPTED: _accepted,
    EventKind.DECLINED: _declined,
    EventKind.NOT_ACCEPTED_AGAIN: _not_again,
    EventKind.EXTENDED: _extended,
    EventKind.REPLIED: _replied,
    EventKind.REVIEW_REQUESTED: _review_requested,
    EventKind.REVIEW_DECIDED: _review_decided,
    EventKind.REREVIEW_REQUESTED: _rereview_requested,
    EventKind.REREVIEW_DECIDED: _rereview_decided,
    EventKind.FINALIZED: _finalized,
    EventKind.REPEAT_RECEIVED: _repeat,
}


def citizen_text(event: CaseEvent, case: Case) -> str | None:
    """What the citizen is told about a public event; None for events that need no message."""
    build = CITIZEN_TEXTS.get(event.kind)
    if build is None:
        return None
    return build(case, event) + _tail()


def citizen_subject(case: Case) -> str:
    return f"信访事项{case.number}办理进度"


def kind_label(case: Case) -> str:
    return Kind(case.kind).label if case.kind in Kind.values else case.kind


def rating_label(value: str) -> str:
    return Rating(value).label if value in Rating.values else ""
