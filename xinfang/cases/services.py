"""Every change to a matter: one function per transition.

Each function checks that the transition is allowed (state and role), writes the matter,
and appends a `CaseEvent` to its timeline in the same transaction: both happen or neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import access, clocks, reactions, search
from xinfang.cases.models import (
    ANONYMOUS_KINDS,
    CLOSED_STATES,
    CONFIDENTIAL_KINDS,
    HOTLINE_KINDS,
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    Channel,
    ClockPause,
    CoHandler,
    Kind,
    Outcome,
    Rating,
    RepeatSubmission,
    Representative,
    RouteMode,
    State,
    Urgency,
)
from xinfang.cases.reactions import PLAIN, ReactionContext
from xinfang.cases.selectors import clock_rules, work_calendar
from xinfang.cases.validators import clean_id_number, clean_phone, clean_upload
from xinfang.cases.workflow import (
    ACTIONS,
    STATE_CLOCK,
    TransitionNotAllowed,
    check_transition,
    refusal,
)
from xinfang.orgs.models import Category, PersonalDataView, Place, Unit, User

MAX_REPRESENTATIVES = 5
# Enum .values builds a new list on every call; imports check every row.
_KINDS, _CHANNELS, _URGENCIES = (
    frozenset(Kind.values),
    frozenset(Channel.values),
    frozenset(Urgency.values),
)
CLOCK_SKEW = dt.timedelta(minutes=5)


class ConcurrentChange(Exception):
    """Someone else changed the matter since this user loaded it."""

    def __init__(self) -> None:
        super().__init__("该事项已被他人修改，请刷新页面查看最新情况后再操作")


# ---------------------------------------------------------------- the clocks on a matter


def _clock_plan(case: Case, state: str, at: dt.datetime) -> tuple[str | None, dt.datetime | None]:
    """Which clock runs in `state`, and from when. 12345 requests run one clock from dispatch."""
    name = STATE_CLOCK[state]
    if name is None:
        return None, None
    if case.kind in HOTLINE_KINDS and name in {"accept", "handle"}:
        clock = f"hotline_{case.urgency}" if case.urgency else case.kind
        return clock, case.routed_at or at
    starts = {"route": case.registered_at, "accept": case.routed_at, "handle": case.accepted_at}
    return name, starts.get(name) or at


def _set_due(case: Case) -> None:
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


def _enter_state(case: Case, state: str, at: dt.datetime) -> None:
    case.state = state
    name, start = _clock_plan(case, state, at)
    case.clock, case.clock_started_at = name or "", start
    _set_due(case)


# ---------------------------------------------------------------- shared plumbing


def _iso(moment: dt.datetime | None) -> str | None:
    """A time for an event's details, always in Beijing time."""
    return timezone.localtime(moment, clocks.LOCAL).isoformat() if moment else None


def _now(at: dt.datetime | None) -> dt.datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("时间必须带时区")
    return at


def _lock(case: Case, expected_version: int | None) -> Case:
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
    """Raise TransitionNotAllowed if the matter's state (or a once-only rule) forbids `action`,
    whoever asks. The API uses it to tell a state refusal (400) from a permission one (403)."""
    _authorize(None, case, action)


def _authorize(by: User | None, case: Case, action: str) -> None:
    check_transition(action, case.state)
    message = refusal(case, action)
    if message:
        raise TransitionNotAllowed(message)
    if by is not None and not access.may(by, case, action):
        raise TransitionNotAllowed(f"您无权对该事项进行“{ACTIONS[action].label}”操作")


def _record(
    case: Case,
    kind: str,
    at: dt.datetime,
    by: User | None,
    *,
    public: bool = True,
    context: ReactionContext = PLAIN,
    **details,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        at=at,
        actor=by,
        unit=by.unit if by is not None and by.unit_id else None,
        public=public,
        details=details,
    )
    reactions.run(event, case, context)  # the declared list: settings.CASE_EVENT_REACTIONS
    return event


def _save(case: Case) -> None:
    case.version = F("version") + 1
    case.save()
    case.refresh_from_db(fields=["version"])


def _transition(
    action: str,
    *,
    case: Case,
    by: User | None,
    at: dt.datetime | None,
    expected_version: int | None,
    change,
    public: bool = True,
    **details,
) -> Case:
    """Lock, authorize, apply `change(case, at)`, move the clock, save and record one event."""
    at = _now(at)
    with transaction.atomic():
        case = _lock(case, expected_version)
        _authorize(by, case, action)
        spec = ACTIONS[action]
        on_time = case.due_at is None or at <= case.due_at
        units = search.unit_tokens(case)
        extra = change(case, at) or {}
        if spec.target is not None:
            _enter_state(case, spec.target, at)
        _save(case)
        search.reindex_units(case, units)
        _record(case, spec.event, at, by, public=public, on_time=on_time, **details, **extra)
    return case


def _require(value, field_name: str, message: str) -> None:
    if value in (None, "", []):
        raise ValidationError({field_name: message})


# ---------------------------------------------------------------- registration


@dataclass
class Petitioner:
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    anonymous: bool = False


@dataclass
class RegisterResult:
    case: Case
    created: bool
    notice: str = ""  # for a repeat submission: which notice answers it
    errors: dict = field(default_factory=dict)


def _validate_registration(
    *,
    kind,
    channel,
    title,
    content,
    petitioner: Petitioner,
    group_size,
    representatives,
    accused_unit,
    accused_person,
    at,
    attachments,
    urgency="",
    now=None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if kind not in _KINDS:
        add("kind", "请选择事项类型")
    if channel not in _CHANNELS:
        add("channel", "请选择来源渠道")
    if not (title or "").strip():
        add("title", "请填写标题")
    if not (content or "").strip():
        add("content", "请填写诉求内容")
    elif len(content) > 20000:
        add("content", "诉求内容不能超过20000字")
    if at > (now or timezone.now()) + CLOCK_SKEW:
        add("registered_at", "登记时间不能晚于当前时间")
    if petitioner.anonymous:
        if kind not in ANONYMOUS_KINDS:
            add("anonymous", "只有建议意见、检举控告类事项可以匿名")
    else:
        if not petitioner.name.strip():
            add("petitioner_name", "请填写信访人姓名（或选择匿名）")
        if not (petitioner.phone or petitioner.address):
            add("petitioner_phone", "请至少填写联系电话或住址之一，以便答复")
    for attr, cleaner in (("id_number", clean_id_number), ("phone", clean_phone)):
        try:
            setattr(petitioner, attr, cleaner(getattr(petitioner, attr)))
        except ValidationError as exc:
            add(f"petitioner_{attr}", exc.messages[0])
    if urgency and (urgency not in _URGENCIES or kind not in HOTLINE_KINDS):
        add("urgency", "只有12345热线诉求可以标记为紧急或水电气停供")
    if group_size < 1:
        add("group_size", "来访人数至少为1")
    if len(representatives) > MAX_REPRESENTATIVES:
        add(
            "representatives",
            f"集体访代表不能超过{MAX_REPRESENTATIVES}人（现有{len(representatives)}人）",
        )
    for i, rep in enumerate(representatives, 1):
        if not rep.get("name", "").strip():
            add("representatives", f"第{i}位代表未填写姓名")
        for attr, cleaner in (("id_number", clean_id_number), ("phone", clean_phone)):
            try:
                rep[attr] = cleaner(rep.get(attr, ""))
            except ValidationError as exc:
                add("representatives", f"第{i}位代表：{exc.messages[0]}")
    if (accused_unit or accused_person) and kind not in CONFIDENTIAL_KINDS:
        add("accused_unit", "只有检举控告、投诉、举报类事项可以填写被反映对象")
    for name, size in attachments:
        try:
            clean_upload(name, size)
        except ValidationError as exc:
            add("attachments", exc.messages[0])
    return errors


def case_number(office: Unit, year: int, seq: int) -> str:
    """The readable number of a matter, unique per office and year: XF430102-2026-000123."""
    return f"{office.code}-{year}-{seq:06d}"


def reserve_numbers(office: Unit, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive sequence numbers of `office` in `year`; returns the first.

    Must run inside the registering transaction, so a failed registration gives its number back.
    """
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(office=office, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + count)
    return counter.last + 1


def case_register(
    *,
    office: Unit,
    by: User | None,
    channel: str,
    kind: str,
    title: str,
    content: str,
    place: Place,
    petitioner: Petitioner,
    at: dt.datetime | None = None,
    category: Category | None = None,
    group_size: int = 1,
    urgency: str = "",
    representatives: list[dict] | None = None,
    accused_unit: Unit | None = None,
    accused_person: str = "",
    other_accused_units: list[Unit] | None = None,
    no_accused_unit: bool = False,
    attachments: list | None = None,
    repeat_of: Case | None = None,
    context: ReactionContext = PLAIN,
) -> RegisterResult:
    """登记: register a matter, or link a repeat submission to the matter it repeats.

    A report (检举控告, 举报, 投诉) names its accused units (`accused_unit` and
    `other_accused_units`), or the clerk states that it accuses no unit (`no_accused_unit`);
    otherwise it waits as 被反映单位待确定 (`accused_pending`) until a clerk records them.
    `repeat_of` must be a matter `by` may see. `attachments` are uploaded files (objects with
    `.name` and `.size`). `context` tells the reactions what the caller does itself (the
    portal queues its own receipt). Raises ValidationError with a dict of Chinese messages per
    field; nothing is saved then.
    """
    at = _now(at)
    representatives = [dict(r) for r in (representatives or [])]
    attachments = list(attachments or [])
    errors = _validate_registration(
        kind=kind,
        channel=channel,
        title=title,
        content=content,
        petitioner=petitioner,
        group_size=group_size,
        urgency=urgency,
        representatives=representatives,
        accused_unit=accused_unit,
        accused_person=accused_person,
        at=at,
        attachments=[(f.name, f.size) for f in attachments],
    )
    if errors:
        raise ValidationError(errors)
    if repeat_of is not None:
        if by is not None and not access.can_view(by, repeat_of):
            raise ValidationError({"repeat_of": access.NOT_FOUND})  # neutral: no write, no state
        return _link_repeat(repeat_of, by=by, at=at, channel=channel, content=content)
    others = [
        u for u in (other_accused_units or []) if accused_unit is None or u.pk != accused_unit.pk
    ]
    if others and accused_unit is None:
        accused_unit, others = others[0], others[1:]
    with transaction.atomic():
        year = timezone.localtime(at).year
        seq = reserve_numbers(office, year)
        number = case_number(office, year, seq)
        case = Case(
            office=office,
            year=year,
            seq=seq,
            number=number,
            channel=channel,
            kind=kind,
            title=title.strip()[:120],
            content=content.strip(),
            place=place,
            category=category,
            anonymous=petitioner.anonymous,
            petitioner_name="" if petitioner.anonymous else petitioner.name.strip(),
            petitioner_id_number=petitioner.id_number,
            petitioner_phone=petitioner.phone,
            petitioner_address=petitioner.address.strip(),
            group_size=group_size,
            urgency=urgency,
            accused_unit=accused_unit,
            accused_person=accused_person.strip(),
            accused_pending=kind in CONFIDENTIAL_KINDS
            and accused_unit is None
            and not no_accused_unit,
            registered_at=at,
            created_by=by,
        )
        _enter_state(case, State.REGISTERED, at)
        case.save()
        if others:
            case.other_accused_units.set(others)
        Representative.objects.bulk_create(
            Representative(
                case=case,
                name=r["name"].strip(),
                id_number=r.get("id_number", ""),
                phone=r.get("phone", ""),
            )
            for r in representatives
        )
        for upload in attachments:
            Attachment.objects.create(
                case=case, file=upload, name=upload.name[:200], size=upload.size
            )
        _record(case, "case.registered", at, by, context=context, channel=channel, case_kind=kind)

        search.index_case(case)
    return RegisterResult(case=case, created=True)


def case_record_accused(
    *,
    case: Case,
    by: User | None,
    units: list[Unit],
    person: str = "",
    no_unit: bool = False,
    reason: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """记录/更正被反映单位: record or correct the units (and person) a report accuses.

    Needed before a pending report (被反映单位待确定) can be routed. A correction of units
    already recorded needs a reason. Either units or `no_unit` (it accuses no unit): a report
    is never left without a decision. Recorded as a non-public event with old and new.
    """
    at = _now(at)
    units = list(dict.fromkeys(units))
    if not units and not no_unit:
        raise ValidationError({"units": "请选择被反映单位，或注明不涉及具体单位"})
    if units and no_unit:
        raise ValidationError({"units": "已选择被反映单位，不能同时注明不涉及具体单位"})
    with transaction.atomic():
        case = _lock(case, expected_version)
        if not access.may_record_accused(by, case):
            raise TransitionNotAllowed("只有登记机构可以记录或更正检举控告类事项的被反映单位")
        before = [u.name for u in access.accused_units(case)]
        if not case.accused_pending:
            _require(reason.strip(), "reason", "更正被反映单位须说明理由")
        old_person = case.accused_person
        case.accused_unit = units[0] if units else None
        case.accused_person = person.strip()[:60]
        case.accused_pending = False
        _save(case)
        case.other_accused_units.set(units[1:])
        handling = access.handled_by_accused(case, case)
        _record(
            case,
            "case.accused_recorded",
            at,
            by,
            public=False,
            units=[u.name for u in units],
            before=before,
            person=case.accused_person,
            person_before=old_person,
            reason=reason.strip(),
            accused_handles=handling,
        )
    return case


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


def _link_repeat(original: Case, *, by, at, channel, content) -> RegisterResult:
    """A new submission about a matter open or final: record it on that matter, answer with a notice."""
    with transaction.atomic():
        case = _lock(original, None)
        notice = "not_accepted_again" if case.state in CLOSED_STATES else "in_progress"
        RepeatSubmission.objects.create(
            case=case, channel=channel, content=content, received_at=at, notice=notice
        )
        case.repeat_count = F("repeat_count") + 1
        _save(case)
        case.refresh_from_db(fields=["repeat_count"])
        _record(case, "case.repeat_received", at, by, channel=channel, notice=notice)
    return RegisterResult(case=case, created=False, notice=notice)


# ---------------------------------------------------------------- routing and acceptance


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
    co_units = [u for u in (co_units or []) if u.pk != unit.pk]
    if mode not in RouteMode.values:
        raise ValidationError({"mode": "请选择转送或交办"})
    if mode == RouteMode.ASSIGN and not assign_days:
        raise ValidationError({"assign_days": "交办须规定办理期限（天）"})
    if assign_days is not None and not 1 <= assign_days <= 90:
        raise ValidationError({"assign_days": "交办期限应在1至90天之间"})

    def change(c: Case, at: dt.datetime):
        for target in [unit, *co_units]:
            if access.unit_is_accused(target, c):
                raise ValidationError(
                    {"unit": f"不能将检举控告转给被反映单位“{target.name}”办理（回避）"}
                )
        c.lead_unit, c.route_mode, c.routed_at = unit, mode, at
        c.report_required = mode == RouteMode.ASSIGN
        c.review_unit = c.rereview_unit = None
        cal = work_calendar()
        c.assign_due_at = (
            clocks.due_at(at, assign_days, clocks.DayKind.CALENDAR, cal) if assign_days else None
        )
        c.object_due_at = clocks.rule_due_at(clock_rules()["object"], at, cal)
        CoHandler.objects.filter(case=c).delete()
        CoHandler.objects.bulk_create(CoHandler(case=c, unit=u) for u in co_units)
        return {
            "unit": unit.name,
            "unit_id": unit.pk,
            "mode": mode,
            "co_units": [u.name for u in co_units],
            "assign_days": assign_days,
            "note": note,
        }

    return _transition(
        "route", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    _require(reason.strip(), "reason", "请说明异议理由")

    def change(c: Case, at: dt.datetime):
        if c.object_due_at and at > c.object_due_at:
            raise TransitionNotAllowed("已超过5个工作日的异议期限，不能退回")
        unit = c.lead_unit
        c.lead_unit, c.routed_at, c.object_due_at, c.assign_due_at = None, None, None, None
        CoHandler.objects.filter(case=c).delete()
        return {"unit": unit.name if unit else "", "reason": reason}

    return _transition(
        "object",
        case=case,
        by=by,
        at=at,
        expected_version=expected_version,
        change=change,
        public=False,
    )


def case_accept(
    *,
    case: Case,
    by: User | None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """受理: the unit accepts the matter; the 60-day handling clock starts."""

    def change(c: Case, at: dt.datetime):
        c.accepted_at = at
        return {"unit": c.lead_unit.name if c.lead_unit else ""}

    return _transition(
        "accept", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    _require(reason.strip(), "reason", "请说明不予受理的理由")
    _require(
        proper_channel.strip(), "proper_channel", "请写明应当通过的法定途径（如向人民法院起诉）"
    )

    def change(c: Case, at: dt.datetime):
        c.closed_at = at
        return {"reason": reason, "proper_channel": proper_channel}

    return _transition(
        "decline", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    if by is not None and not access.can_view(by, prior):
        raise ValidationError({"prior": access.NOT_FOUND})
    if prior.state not in {State.FINAL, State.NOT_ACCEPTED_AGAIN}:
        raise TransitionNotAllowed(f"原事项 {prior.number} 尚未终结，不能作出不再受理决定")

    def change(c: Case, at: dt.datetime):
        c.closed_at, c.linked_to = at, prior
        return {"prior": prior.number, "reason": reason}

    return _transition(
        "not_accept_again",
        case=case,
        by=by,
        at=at,
        expected_version=expected_version,
        change=change,
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
    limit = clock_rules()["extension_max"].length
    if not 1 <= days <= limit:
        raise ValidationError({"days": f"延期天数应在1至{limit}天之间"})
    _require(reason.strip(), "reason", "请说明延期理由")

    def change(c: Case, at: dt.datetime):
        if clock_rules()[c.clock].kind == clocks.DayKind.HOURS:
            raise TransitionNotAllowed("紧急诉求按小时计时，不能延期")
        old_due = c.due_at
        c.extension_days = days
        _set_due(c)
        return {"days": days, "reason": reason, "old_due": _iso(old_due), "new_due": _iso(c.due_at)}

    return _transition(
        "extend", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "请选择处理结果：支持、解释或不予支持"})
    _require(text.strip(), "text", "请填写处理意见")

    def change(c: Case, at: dt.datetime):
        c.outcome, c.replied_at = outcome, at
        return {"outcome": outcome, "text": text}

    return _transition(
        "reply", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    _require(text.strip(), "text", "请填写办结报告内容")

    def change(c: Case, at: dt.datetime):
        c.report_submitted_at = at
        on_time = c.assign_due_at is None or at <= c.assign_due_at
        return {"text": text, "report_on_time": on_time}

    return _transition(
        "report",
        case=case,
        by=by,
        at=at,
        expected_version=expected_version,
        change=change,
        public=False,
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
    if rating not in Rating.values:
        raise ValidationError({"rating": "请选择满意、基本满意或不满意"})

    def change(c: Case, at: dt.datetime):
        c.rating = rating
        return {"rating": rating, "comment": comment}

    return _transition(
        "rate", case=case, by=by, at=at, expected_version=expected_version, change=change
    )


def _within_window(c: Case, at: dt.datetime, what: str) -> None:
    if c.due_at and at > c.due_at:
        last = timezone.localtime(c.due_at - dt.timedelta(seconds=1)).date()
        raise TransitionNotAllowed(f"{what}期限已于{last:%Y年%m月%d日}届满，不能再申请")


def case_request_review(
    *,
    case: Case,
    by: User | None,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """申请复查: within 30 days of the reply, to the organ one level above."""
    _require(reason.strip(), "reason", "请填写复查请求和理由")

    def change(c: Case, at: dt.datetime):
        _within_window(c, at, "复查申请")
        above = c.lead_unit.parent if c.lead_unit else None
        if above is None:
            raise TransitionNotAllowed("办理单位没有上一级机关，无法申请复查")
        c.review_unit = above
        return {"reason": reason, "review_unit": above.name}

    return _transition(
        "request_review", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "请选择复查结果"})
    _require(text.strip(), "text", "请填写复查意见")

    def change(c: Case, at: dt.datetime):
        c.review_outcome = outcome
        return {"outcome": outcome, "text": text}

    return _transition(
        "decide_review", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    _require(reason.strip(), "reason", "请填写复核请求和理由")

    def change(c: Case, at: dt.datetime):
        _within_window(c, at, "复核申请")
        above = c.review_unit.parent if c.review_unit else None
        if above is None:
            raise TransitionNotAllowed("复查机关没有上一级机关，无法申请复核")
        c.rereview_unit = above
        return {"reason": reason, "rereview_unit": above.name}

    return _transition(
        "request_rereview",
        case=case,
        by=by,
        at=at,
        expected_version=expected_version,
        change=change,
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
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "请选择复核结果"})
    _require(text.strip(), "text", "请填写复核意见")

    def change(c: Case, at: dt.datetime):
        c.rereview_outcome, c.closed_at = outcome, at
        return {"outcome": outcome, "text": text}

    return _transition(
        "decide_rereview", case=case, by=by, at=at, expected_version=expected_version, change=change
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
    _require(reason.strip(), "reason", "中止计时必须写明事由（如听证、鉴定）")

    def change(c: Case, at: dt.datetime):
        ClockPause.objects.create(case=c, clock=c.clock, reason=reason, started_at=at)
        c.paused = True
        _set_due(c)
        return {"reason": reason, "clock": c.clock}

    return _transition(
        "pause", case=case, by=by, at=at, expected_version=expected_version, change=change
    )


def case_resume(
    *,
    case: Case,
    by: User | None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """恢复计时: the pause ends; the deadline moves out by the paused days."""

    def change(c: Case, at: dt.datetime):
        c.pauses.filter(ended_at__isnull=True).update(ended_at=at)
        c.paused = False
        _set_due(c)
        return {"clock": c.clock, "new_due": _iso(c.due_at)}

    return _transition(
        "resume", case=case, by=by, at=at, expected_version=expected_version, change=change
    )


def case_finalize(*, case: Case, at: dt.datetime | None = None) -> Case:
    """期满终结: the petitioner's window to ask for review closed unused."""

    def change(c: Case, at: dt.datetime):
        if c.due_at is None or at < c.due_at:
            raise TransitionNotAllowed("申请期限尚未届满")
        c.closed_at = at
        return {"window": c.clock}

    return _transition("finalize", case=case, by=None, at=at, expected_version=None, change=change)


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
    from xinfang.supervision.services import urge_notify  # supervision imports this module

    _require(note.strip(), "note", "请填写催办意见")

    def change(c: Case, at: dt.datetime) -> dict:
        urge_notify(case=c, note=note, at=at)
        return {"note": note}

    return _transition(
        "urge",
        case=case,
        by=by,
        at=at,
        expected_version=expected_version,
        change=change,
        public=False,
    )


def case_issue_query_code(*, case: Case) -> str:
    """查询码: a new unguessable code for the citizen; only its hash is stored. Shown once."""
    import secrets

    from django.contrib.auth.hashers import make_password

    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
    code = "".join(secrets.choice(alphabet) for _ in range(10))
    Case.objects.filter(pk=case.pk).update(query_code_hash=make_password(code))
    case.query_code_hash = Case.objects.values_list("query_code_hash", flat=True).get(pk=case.pk)
    return code


def case_check_query_code(*, case: Case, code: str) -> bool:
    from django.contrib.auth.hashers import check_password

    return bool(case.query_code_hash) and check_password(code.strip().upper(), case.query_code_hash)


def finalize_expired(*, now: dt.datetime | None = None) -> int:
    """Make final every matter whose review window closed unused. Returns how many."""
    now = _now(now)
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
# Added for the routing app's similar-matters panel.


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
    at = _now(at)
    if into.pk == case.pk:
        raise ValidationError({"into": "不能将事项并入其本身"})
    with transaction.atomic():
        case = _lock(case, expected_version)
        check_transition("merge", case.state)
        main = _lock(into, None)
        refused = access.merge_refusal(by, case, main)
        if refused:
            raise TransitionNotAllowed(refused)
        if main.state in CLOSED_STATES:
            raise TransitionNotAllowed(f"主事项 {main.number} 已办结，不能并入")
        if main.linked_to_id == case.pk:
            raise TransitionNotAllowed(f"事项 {main.number} 已并入本事项，不能反向并单")
        on_time = case.due_at is None or at <= case.due_at
        case.closed_at, case.linked_to = at, main
        _enter_state(case, State.FINAL, at)
        _save(case)
        _record(
            main,
            "case.merge_received",
            at,
            by,
            public=False,
            merged=case.number,
            merged_id=case.pk,
            note=note,
        )
        _record(
            case,
            "case.merged",
            at,
            by,
            on_time=on_time,
            into=main.number,
            into_id=main.pk,
            note=note,
        )
    return case
