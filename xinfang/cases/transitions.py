"""What each transition does to a matter, as pure functions that return the change as data.

The table in `workflow.ACTIONS` names, for every transition, one `apply(case, params, at)` here
(and, where the input needs it, a `check(params, by)` and a once-only `refusal(case)`). `apply`
reads the locked matter and returns a `Change`; it writes nothing. The one writer,
`xinfang.cases.writer.case_transition`, applies the change, moves the clocks, saves, reindexes
and records the event in one transaction. So every path (a page, the API, the portal, the worker,
a wrapper such as `services.case_accept`) does exactly the same thing.

`params` are the keyword arguments of the transition: the cleaned data of its form, or what a
wrapper passes. Plain values only (units, matters, strings, numbers), never a query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, Outcome, Rating, RouteMode, State

if TYPE_CHECKING:
    from xinfang.orgs.models import Unit, User

Params = Mapping[str, Any]


class TransitionNotAllowed(Exception):
    """An action that the matter's state, a rule or the user's role does not permit.

    Message in Chinese. Catch this to handle both kinds below alike (the pages do)."""


class TransitionRefused(TransitionNotAllowed):
    """状态或规则不允许: refused whoever asks (state, once-only rule, a window). API: 400."""


class TransitionForbidden(TransitionNotAllowed):
    """无权操作: this user may not take the action on this matter. API: 403."""


@dataclass(frozen=True)
class Due:
    """A deadline counted from the transition's time: a clock rule by name, or calendar days."""

    rule: str = ""
    days: int = 0


@dataclass(frozen=True)
class Change:
    """变更: what a transition does to a matter, as data. `writer.case_transition` applies it."""

    fields: Mapping[str, Any] = field(default_factory=dict)  # attributes of the matter to set
    details: Mapping[str, Any] = field(default_factory=dict)  # the event's details
    co_units: tuple[Unit, ...] | None = None  # the co-handlers from now on (None: unchanged)
    deadlines: Mapping[str, Due | None] = field(default_factory=dict)  # from `at`; None: clear
    extension_days: int = 0  # 延期 of the running clock
    pause: str = ""  # 中止计时 with this reason
    resume: bool = False  # 恢复计时
    due_details: tuple[str, ...] = ()  # "old_due", "new_due": added to the details by the writer


def require(value: Any, name: str, message: str) -> None:
    """A required input: ValidationError({name: [message]}) when it is empty."""
    if value in (None, "", []):
        raise ValidationError({name: message})


def _text(params: Params, name: str) -> str:
    return params.get(name) or ""


# ---------------------------------------------------------------- 转送/交办, 异议, 受理


def check_route(params: Params, by: User | None) -> None:
    mode, days = params.get("mode", RouteMode.TRANSFER), params.get("assign_days")
    if mode not in RouteMode.values:
        raise ValidationError({"mode": "请选择转送或交办"})
    if mode == RouteMode.ASSIGN and not days:
        raise ValidationError({"assign_days": "交办须规定办理期限（天）"})
    if days is not None and not 1 <= days <= 90:
        raise ValidationError({"assign_days": "交办期限应在1至90天之间"})


def route(case: Case, params: Params, at: dt.datetime) -> Change:
    """转送/交办: the lead unit, co-handlers, and for 交办 a deadline and a report to come."""
    unit, mode = params["unit"], params.get("mode", RouteMode.TRANSFER)
    days = params.get("assign_days")
    co_units = tuple(u for u in params.get("co_units") or () if u.pk != unit.pk)
    fields = {
        "lead_unit": unit,
        "route_mode": mode,
        "routed_at": at,
        "report_required": mode == RouteMode.ASSIGN,
        "review_unit": None,
        "rereview_unit": None,
    }
    details = {
        "unit": unit.name,
        "unit_id": unit.pk,
        "mode": mode,
        "co_units": [u.name for u in co_units],
        "assign_days": days,
        "note": _text(params, "note"),
    }
    category = params.get("category")
    if category is not None:  # 事项分类 chosen with the route: what `routing train` learns from
        fields["category"] = category
        details.update(category=category.name, category_id=category.pk)
    auto = params.get("auto")
    if auto:  # 智能派单: only routing's automatic path passes it (no form field carries it)
        details.update(auto=True, **auto)
    return Change(
        fields=fields,
        deadlines={
            "assign_due_at": Due(days=days) if days else None,
            "object_due_at": Due(rule="object"),
        },
        co_units=co_units,
        details=details,
    )


def route_refusal(case: Case) -> str | None:
    # 检举控告 must never reach the unit it accuses: until the accused units are recorded
    # nobody can tell which units those are, so the matter cannot be routed.
    return "被反映单位待确定：请先记录被反映单位，再转送交办" if case.accused_pending else None


def check_reason(params: Params, by: User | None, message: str = "请说明异议理由") -> None:
    require(_text(params, "reason").strip(), "reason", message)


def object_(case: Case, params: Params, at: dt.datetime) -> Change:
    """异议退回: within 5 working days; the matter goes back to the office, without co-handlers."""
    if case.object_due_at and at > case.object_due_at:
        raise TransitionRefused("已超过5个工作日的异议期限，不能退回")
    unit = case.lead_unit
    return Change(
        fields=dict.fromkeys(("lead_unit", "routed_at", "object_due_at", "assign_due_at")),
        co_units=(),
        details={"unit": unit.name if unit else "", "reason": params["reason"]},
    )


def routed_automatically(case: Case) -> bool:
    """Whether the route in force is a 智能派单 (its latest 转送/交办 event is marked `auto`).

    The one read of this module: the matter's row does not say who routed it, its timeline
    does (one indexed row). An unsaved matter has no timeline."""
    from xinfang.cases.events import EventKind  # events imports the models this module reads

    if case.pk is None:
        return False
    details = (
        CaseEvent.objects.filter(case_id=case.pk, kind=EventKind.ROUTED)
        .order_by("-at", "-id")
        .values_list("details", flat=True)
        .first()
    )
    return bool(details and details.get("auto"))


def undo_auto_route_refusal(case: Case) -> str | None:
    if not routed_automatically(case):
        return "只有智能派单可以撤回；人工转送的事项由办理单位异议退回"
    return None


def check_undo_auto_route(params: Params, by: User | None) -> None:
    check_reason(params, by, "请说明撤回理由（如分类或单位有误）")


def undo_auto_route(case: Case, params: Params, at: dt.datetime) -> Change:
    """撤回智能派单: the office takes back an automatic route before the unit accepts it, while
    the objection window is open; the matter waits for a clerk again. The category was the
    model's and is cleared, so a wrong guess never becomes training data."""
    if case.object_due_at and at > case.object_due_at:
        raise TransitionRefused("已超过撤回期限（异议期限已届满），不能撤回智能派单")
    unit = case.lead_unit
    return Change(
        fields=dict.fromkeys(
            ("lead_unit", "routed_at", "object_due_at", "assign_due_at", "category")
        ),
        co_units=(),
        details={"unit": unit.name if unit else "", "reason": params["reason"]},
    )


def accept(case: Case, params: Params, at: dt.datetime) -> Change:
    """受理: the handling clock starts (entering 已受理)."""
    unit = case.lead_unit
    return Change(fields={"accepted_at": at}, details={"unit": unit.name if unit else ""})


# ---------------------------------------------------------------- 不予受理, 不再受理


def check_decline(params: Params, by: User | None) -> None:
    require(_text(params, "reason").strip(), "reason", "请说明不予受理的理由")
    require(
        _text(params, "proper_channel").strip(),
        "proper_channel",
        "请写明应当通过的法定途径（如向人民法院起诉）",
    )


def decline(case: Case, params: Params, at: dt.datetime) -> Change:
    """不予受理: the notice names the proper channel."""
    return Change(
        fields={"closed_at": at},
        details={"reason": params["reason"], "proper_channel": params["proper_channel"]},
    )


def check_not_accept_again(params: Params, by: User | None) -> None:
    # access imports the table (workflow), which imports this module: read it at call time
    from xinfang.cases import access

    prior = params["prior"]
    if by is not None and not access.can_view(by, prior):
        raise ValidationError({"prior": access.NOT_FOUND})  # the same answer for any number
    if prior.state not in {State.FINAL, State.NOT_ACCEPTED_AGAIN}:
        raise TransitionRefused(f"原事项 {prior.number} 尚未终结，不能作出不再受理决定")


def not_accept_again(case: Case, params: Params, at: dt.datetime) -> Change:
    """不再受理: linked to the final matter with the same facts and reasons."""
    prior = params["prior"]
    return Change(
        fields={"closed_at": at, "linked_to": prior},
        details={"prior": prior.number, "reason": _text(params, "reason")},
    )


# ---------------------------------------------------------------- 延期, 中止/恢复计时


def check_extend(params: Params, by: User | None) -> None:
    from xinfang.cases.selectors import clock_rules  # selectors import access: see above

    limit = clock_rules()["extension_max"].length
    if not 1 <= params["days"] <= limit:
        raise ValidationError({"days": f"延期天数应在1至{limit}天之间"})
    require(_text(params, "reason").strip(), "reason", "请说明延期理由")


def extend(case: Case, params: Params, at: dt.datetime) -> Change:
    """延期: the running clock gets the days (the writer refuses it on an hours clock)."""
    return Change(
        extension_days=params["days"],
        details={"days": params["days"], "reason": params["reason"]},
        due_details=("old_due", "new_due"),
    )


def extend_refusal(case: Case) -> str | None:
    return "该事项已延期一次，不能再次延期" if case.extension_days else None


def check_pause(params: Params, by: User | None) -> None:
    check_reason(params, by, "中止计时必须写明事由（如听证、鉴定）")


def pause(case: Case, params: Params, at: dt.datetime) -> Change:
    """中止计时: a recorded reason (听证、鉴定); the clock has no due time while paused."""
    return Change(pause=params["reason"], details={"reason": params["reason"], "clock": case.clock})


def pause_refusal(case: Case) -> str | None:
    return "计时已中止" if case.paused else None


def resume(case: Case, params: Params, at: dt.datetime) -> Change:
    """恢复计时: the due time moves out by the paused days."""
    return Change(resume=True, details={"clock": case.clock}, due_details=("new_due",))


def resume_refusal(case: Case) -> str | None:
    return None if case.paused else "计时未中止"


# ---------------------------------------------------------------- 答复, 办结报告, 评价


def _check_decision(params: Params, outcome_message: str, text_message: str) -> None:
    if params.get("outcome") not in Outcome.values:
        raise ValidationError({"outcome": outcome_message})
    require(_text(params, "text").strip(), "text", text_message)


def check_reply(params: Params, by: User | None) -> None:
    _check_decision(params, "请选择处理结果：支持、解释或不予支持", "请填写处理意见")


def reply(case: Case, params: Params, at: dt.datetime) -> Change:
    """答复: the written decision (处理意见书)."""
    outcome, text = params["outcome"], params["text"]
    return Change(
        fields={"outcome": outcome, "replied_at": at}, details={"outcome": outcome, "text": text}
    )


def check_report(params: Params, by: User | None) -> None:
    require(_text(params, "text").strip(), "text", "请填写办结报告内容")


def report(case: Case, params: Params, at: dt.datetime) -> Change:
    """报送办结报告: once, for an assigned (交办) matter; on time against the assignment's days."""
    on_time = case.assign_due_at is None or at <= case.assign_due_at
    return Change(
        fields={"report_submitted_at": at},
        details={"text": params["text"], "report_on_time": on_time},
    )


def report_refusal(case: Case) -> str | None:
    if not case.report_required:
        return "该事项为转送事项，无需报送办结报告"
    if case.report_submitted_at:
        return "办结报告已报送"
    return None


def check_rate(params: Params, by: User | None) -> None:
    if params.get("rating") not in Rating.values:
        raise ValidationError({"rating": "请选择满意、基本满意或不满意"})


def rate(case: Case, params: Params, at: dt.datetime) -> Change:
    """评价: once."""
    rating = params["rating"]
    return Change(
        fields={"rating": rating}, details={"rating": rating, "comment": _text(params, "comment")}
    )


def rate_refusal(case: Case) -> str | None:
    return "该事项已评价，不能重复评价" if case.rating else None


# ---------------------------------------------------------------- 复查, 复核


def _within_window(case: Case, at: dt.datetime, what: str) -> None:
    if case.due_at and at > case.due_at:
        last = timezone.localtime(case.due_at - dt.timedelta(seconds=1)).date()
        raise TransitionRefused(f"{what}期限已于{last:%Y年%m月%d日}届满，不能再申请")


def check_request_review(params: Params, by: User | None) -> None:
    check_reason(params, by, "请填写复查请求和理由")


def request_review(case: Case, params: Params, at: dt.datetime) -> Change:
    """申请复查: within the window, to the organ one level above the lead unit."""
    _within_window(case, at, "复查申请")
    above = case.lead_unit.parent if case.lead_unit else None
    if above is None:
        raise TransitionRefused("办理单位没有上一级机关，无法申请复查")
    return Change(
        fields={"review_unit": above},
        details={"reason": params["reason"], "review_unit": above.name},
    )


def check_decide_review(params: Params, by: User | None) -> None:
    _check_decision(params, "请选择复查结果", "请填写复查意见")


def decide_review(case: Case, params: Params, at: dt.datetime) -> Change:
    """复查决定 (复查意见书)."""
    outcome, text = params["outcome"], params["text"]
    return Change(fields={"review_outcome": outcome}, details={"outcome": outcome, "text": text})


def check_request_rereview(params: Params, by: User | None) -> None:
    check_reason(params, by, "请填写复核请求和理由")


def request_rereview(case: Case, params: Params, at: dt.datetime) -> Change:
    """申请复核: within the window, to the organ above the reviewer."""
    _within_window(case, at, "复核申请")
    above = case.review_unit.parent if case.review_unit else None
    if above is None:
        raise TransitionRefused("复查机关没有上一级机关，无法申请复核")
    return Change(
        fields={"rereview_unit": above},
        details={"reason": params["reason"], "rereview_unit": above.name},
    )


def check_decide_rereview(params: Params, by: User | None) -> None:
    _check_decision(params, "请选择复核结果", "请填写复核意见")


def decide_rereview(case: Case, params: Params, at: dt.datetime) -> Change:
    """复核决定: final (三级终结)."""
    outcome, text = params["outcome"], params["text"]
    return Change(
        fields={"rereview_outcome": outcome, "closed_at": at},
        details={"outcome": outcome, "text": text},
    )


# ---------------------------------------------------------------- 期满终结, 催办, 并单


def finalize(case: Case, params: Params, at: dt.datetime) -> Change:
    """期满终结: the petitioner's window to ask for review closed unused."""
    if case.due_at is None or at < case.due_at:
        raise TransitionRefused("申请期限尚未届满")
    return Change(fields={"closed_at": at}, details={"window": case.clock})


def check_urge(params: Params, by: User | None) -> None:
    require(_text(params, "note").strip(), "note", "请填写催办意见")


def urge(case: Case, params: Params, at: dt.datetime) -> Change:
    """催办: recorded on the timeline; the urged unit is told by the transition's effect."""
    return Change(details={"note": params["note"]})


def merge(case: Case, params: Params, at: dt.datetime) -> Change:
    """并单: the duplicate closes, linked to the main matter (`into`), which carries on."""
    into = params["into"]
    return Change(
        fields={"closed_at": at, "linked_to": into},
        details={"into": into.number, "into_id": into.pk, "note": _text(params, "note")},
    )
