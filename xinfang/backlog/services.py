"""Every write of the backlog (积案化解): one function per action, each with its timeline row.

Each function checks who may act (PermissionDenied) and what is valid (ValidationError with a
Chinese message), writes, and appends a `BacklogEvent` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from xinfang.backlog import conf, permissions
from xinfang.backlog.models import (
    AcceptanceKind,
    BacklogCase,
    BacklogEvent,
    BacklogRule,
    BacklogUnit,
    CoordinationMeeting,
    CycleStep,
    FollowUpAction,
    HardshipAid,
    Hearing,
    HearingParticipant,
    LawyerMediation,
    MediationSession,
    ResolutionPlan,
    RuleKind,
    Status,
    TaskForceMember,
    UnitHeadSummons,
)
from xinfang.cases import access, clocks, deadlines
from xinfang.cases.deadlines import last_day
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CoHandler, State
from xinfang.cases.selectors import work_calendar
from xinfang.cases.validators import clean_upload
from xinfang.orgs.models import Unit, User

OPEN_STATES = (State.REGISTERED, State.ROUTED, State.ACCEPTED)
REVIEW_STATES = (State.REVIEWING, State.REVIEWED, State.REREVIEWING)
SCAN_BATCH = 2000


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(_now(at))


def _start_of(day: dt.date) -> dt.datetime:
    """The first instant of `day` in Beijing time: clocks count from the day after."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=clocks.LOCAL)


def _event(backlog: BacklogCase, kind: str, by: User | None, at: dt.datetime, /, **details) -> None:
    BacklogEvent.objects.create(backlog=backlog, kind=kind, at=at, actor=by, details=details)
    BacklogCase.objects.filter(pk=backlog.pk).update(last_activity_at=at)
    backlog.last_activity_at = at


def _require_work(by: User, backlog: BacklogCase) -> None:
    if not permissions.can_work(by, backlog):
        raise PermissionDenied("您不是该积案的包案领导、专班成员或督查人员，无权记录")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号，不能再修改；如同一事项再次信访，将自动重新化解")


def _not_future(day: dt.date | None, what: str, at: dt.datetime | None = None) -> None:
    if day is None:
        raise ValidationError(f"请填写{what}")
    if day > _today(at):
        raise ValidationError(f"{what}不能晚于今天")


def _money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as exc:
        raise ValidationError(f"{what}应为数字（单位：元）") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{what}应为不小于零的金额，最多两位小数")
    return amount


# ---------------------------------------------------------------- flagging (积案认定)


def active_rules() -> dict[str, int]:
    """The flag rules in force: {kind: threshold}. The rule table wins; env defaults otherwise."""
    rows = list(BacklogRule.objects.all())
    if rows:
        return {r.kind: r.threshold for r in rows if r.active and r.kind != RuleKind.MANUAL}
    defaults = conf.default_rules()
    rules: dict[str, int] = {}
    if defaults.get("open_days"):
        rules[RuleKind.OPEN_DAYS] = int(defaults["open_days"])
    if defaults.get("repeat"):
        rules[RuleKind.REPEAT] = int(defaults["repeat"])
    if defaults.get("reviewed"):
        rules[RuleKind.REVIEWED] = 0
    return rules


def case_unit_ids(case: Case) -> set[int]:
    """Every unit that takes part in the matter: the access scope of its backlog case."""
    return access.case_units(case)


def _sync_units(backlog: BacklogCase, case: Case) -> None:
    """Make the backlog case's units the matter's units now: a unit that left the matter (re-routed
    away, 异议退回, a co-handler dropped) leaves the backlog case in the same transaction."""
    wanted = case_unit_ids(case)
    have = set(BacklogUnit.objects.filter(backlog=backlog).values_list("unit_id", flat=True))
    if have - wanted:
        BacklogUnit.objects.filter(backlog=backlog, unit_id__in=have - wanted).delete()
    if wanted - have:
        BacklogUnit.objects.bulk_create(
            [BacklogUnit(backlog=backlog, unit_id=u) for u in wanted - have], ignore_conflicts=True
        )
    unit_id = case.lead_unit_id or case.office_id
    if backlog.unit_id != unit_id:
        BacklogCase.objects.filter(pk=backlog.pk).update(unit_id=unit_id)
        backlog.unit_id = unit_id


def backlog_flag(
    *,
    case: Case,
    by: User | None,
    rule: str = RuleKind.MANUAL,
    reason: str = "",
    at: dt.datetime | None = None,
) -> BacklogCase:
    """积案认定: flag one matter. A person flagging must be a supervisor or head and give a reason."""
    at = _now(at)
    reason = (reason or "").strip()
    if by is not None and not permissions.can_lead(by, case):
        raise PermissionDenied("只有能查看该事项的督查人员或单位负责人可以认定积案")
    if rule == RuleKind.MANUAL and not reason:
        raise ValidationError("督查标记积案须填写理由")
    if rule not in RuleKind.values:
        raise ValidationError("未知的积案认定规则")
    with transaction.atomic():
        if BacklogCase.objects.filter(case=case).exists():
            raise ValidationError(f"事项 {case.number} 已是积案，无需重复认定")
        backlog = BacklogCase.objects.create(
            case=case,
            unit_id=case.lead_unit_id or case.office_id,
            office_id=case.office_id,
            registered_at=case.registered_at,
            flag_rule=rule,
            flag_reason=reason[:300],
            flagged_at=at,
            flagged_by=by,
            last_activity_at=at,
        )
        _sync_units(backlog, case)
        _event(backlog, EventKind.BACKLOG_FLAGGED, by, at, rule=rule, reason=reason)
    return backlog


def _candidates(kind: str, threshold: int, now: dt.datetime):
    qs = Case.objects.filter(backlog__isnull=True)
    if kind == RuleKind.OPEN_DAYS:
        return qs.filter(
            state__in=OPEN_STATES, registered_at__lte=now - dt.timedelta(days=threshold)
        )
    if kind == RuleKind.REVIEWED:
        return qs.filter(state__in=REVIEW_STATES) | qs.filter(state=State.FINAL).exclude(
            rereview_outcome=""
        )
    if kind == RuleKind.REPEAT:
        return qs.filter(repeat_count__gte=max(threshold, 1))
    return qs.none()


def _reason(kind: str, threshold: int) -> str:
    return {
        RuleKind.OPEN_DAYS: f"登记后超过{threshold}天仍未办结",
        RuleKind.REVIEWED: "事项已进入复查、复核程序",
        RuleKind.REPEAT: f"重复信访达到{threshold}次",
    }.get(kind, "")


def flag_many(
    case_ids: Sequence[int], *, rule: str, reason: str, at: dt.datetime, owners: Sequence[User] = ()
) -> int:
    """Bulk path of `backlog_flag` for the scan (and the bench): the same rows, fewer statements."""
    done = 0
    for start in range(0, len(case_ids), SCAN_BATCH):
        chunk = list(case_ids[start : start + SCAN_BATCH])
        rows = Case.objects.filter(pk__in=chunk, backlog__isnull=True).values(
            "id", "office_id", "lead_unit_id", "review_unit_id", "rereview_unit_id", "registered_at"
        )
        rows = list(rows)
        with transaction.atomic():
            created = BacklogCase.objects.bulk_create(
                [
                    BacklogCase(
                        case_id=r["id"],
                        unit_id=r["lead_unit_id"] or r["office_id"],
                        office_id=r["office_id"],
                        registered_at=r["registered_at"],
                        flag_rule=rule,
                        flag_reason=reason,
                        flagged_at=at,
                        last_activity_at=at,
                        owner=owners[i % len(owners)] if owners else None,
                    )
                    for i, r in enumerate(rows)
                ]
            )
            by_case = {b.case_id: b for b in created}
            co: dict[int, set[int]] = {}
            for case_id, unit_id in CoHandler.objects.filter(case_id__in=by_case).values_list(
                "case_id", "unit_id"
            ):
                co.setdefault(case_id, set()).add(unit_id)
            units = []
            for r in rows:
                ids = {
                    r["office_id"],
                    r["lead_unit_id"],
                    r["review_unit_id"],
                    r["rereview_unit_id"],
                }
                ids |= co.get(r["id"], set())
                ids.discard(None)
                units += [BacklogUnit(backlog=by_case[r["id"]], unit_id=u) for u in ids]
            BacklogUnit.objects.bulk_create(units, ignore_conflicts=True)
            BacklogEvent.objects.bulk_create(
                BacklogEvent(
                    backlog=b,
                    kind=EventKind.BACKLOG_FLAGGED,
                    at=at,
                    details={"rule": rule, "reason": reason},
                )
                for b in created
            )
        done += len(created)
    return done


@dataclass
class ScanResult:
    flagged: dict[str, int] = field(default_factory=dict)
    resynced: int = 0

    @property
    def total(self) -> int:
        return sum(self.flagged.values())


def backlog_scan(*, now: dt.datetime | None = None) -> ScanResult:
    """`xinfang backlog_scan`: flag every matter a rule matches (idempotent) and snapshot the month."""
    from xinfang.backlog import selectors

    now = _now(now)
    result = ScanResult()
    for kind, threshold in active_rules().items():
        ids = list(_candidates(kind, threshold, now).values_list("id", flat=True))
        result.flagged[kind] = flag_many(ids, rule=kind, reason=_reason(kind, threshold), at=now)
    result.resynced = resync_units()
    selectors.write_snapshot(now=now)
    return result


def resync_units() -> int:
    """Bring the copied units of active backlog cases up to date (after bulk changes to matters):
    the responsible unit, and the (backlog, unit) scope rows, both ways. Returns the number of
    backlog cases changed."""
    changed: set[int] = set()
    active = BacklogCase.objects.filter(active=True)
    rows = list(
        active.values_list(
            "id",
            "unit_id",
            "case_id",
            "case__office_id",
            "case__lead_unit_id",
            "case__review_unit_id",
            "case__rereview_unit_id",
        )
    )
    for pk, unit_id, _case, office, lead, _review, _rereview in rows:
        if unit_id != (lead or office):
            BacklogCase.objects.filter(pk=pk).update(unit_id=lead or office)
            changed.add(pk)
    for start in range(0, len(rows), SCAN_BATCH):
        chunk = rows[start : start + SCAN_BATCH]
        by_case = {r[2]: r[0] for r in chunk}
        wanted = {(r[0], u) for r in chunk for u in r[3:] if u is not None}
        wanted |= {
            (by_case[c], u)
            for c, u in CoHandler.objects.filter(case_id__in=by_case).values_list(
                "case_id", "unit_id"
            )
        }
        have = {
            (b, u): pk
            for pk, b, u in BacklogUnit.objects.filter(backlog_id__in=by_case.values()).values_list(
                "id", "backlog_id", "unit_id"
            )
        }
        stale = [pk for key, pk in have.items() if key not in wanted]
        missing = [key for key in wanted if key not in have]
        with transaction.atomic():
            BacklogUnit.objects.filter(pk__in=stale).delete()
            BacklogUnit.objects.bulk_create(
                [BacklogUnit(backlog_id=b, unit_id=u) for b, u in missing], ignore_conflicts=True
            )
        changed |= {b for b, _u in missing} | {b for b, u in have if (b, u) not in wanted}
    return len(changed)


# ---------------------------------------------------------------- the matter raised again


# The events that change a matter's units (lead unit, co-handlers, review organs).
UNIT_EVENTS = frozenset(
    {EventKind.ROUTED, EventKind.OBJECTED, EventKind.REVIEW_REQUESTED, EventKind.REREVIEW_REQUESTED}
)
REPEAT_EVENT = EventKind.REPEAT_RECEIVED
# A report's accused units recorded or corrected: members and the owner in them step down (回避).
ACCUSED_EVENT = EventKind.ACCUSED_RECORDED
WATCHED_EVENTS = UNIT_EVENTS | {REPEAT_EVENT, ACCUSED_EVENT}


def on_case_event(*, event, case: Case) -> None:
    """Keep units in step; reopen or flag on a repeat submission (the reaction in reactions.py).

    It runs for every timeline entry, so every other kind returns before any query.
    """
    if event.kind not in WATCHED_EVENTS:
        return
    backlog = BacklogCase.objects.filter(case_id=case.pk).first()
    if event.kind == ACCUSED_EVENT:
        if backlog is not None:
            recuse_accused(backlog=backlog, case=case, at=event.at)
        return
    if backlog is not None:
        if event.kind in UNIT_EVENTS:
            _sync_units(backlog, case)
        elif backlog.status == Status.CLOSED:
            backlog_reopen(backlog=backlog, at=event.at, reason="同一事项再次信访")
        return
    if event.kind == REPEAT_EVENT:
        threshold = active_rules().get(RuleKind.REPEAT)
        if threshold and case.repeat_count >= threshold:
            backlog_flag(
                case=case,
                by=None,
                rule=RuleKind.REPEAT,
                reason=_reason(RuleKind.REPEAT, threshold),
                at=event.at,
            )


def recuse_accused(*, backlog: BacklogCase, case: Case, at: dt.datetime) -> int:
    """回避: task-force members and the owner working in an accused unit of the report (or below
    it) leave the backlog case, each with a timeline row. Returns how many left."""
    if not access.accused_unit_ids(case):
        return 0
    left = 0
    for member in backlog.members.select_related("user__unit"):
        if access.in_accused_unit(member.user, case):
            member.delete()
            _event(
                backlog,
                EventKind.BACKLOG_MEMBER_REMOVED,
                None,
                at,
                user=str(member.user),
                reason=RECUSAL,
            )
            left += 1
    if backlog.owner_id and access.in_accused_unit(backlog.owner, case):
        owner = backlog.owner
        backlog.owner = None
        backlog.save(update_fields=["owner"])
        _event(backlog, EventKind.BACKLOG_OWNER_REMOVED, None, at, owner=str(owner), reason=RECUSAL)
        left += 1
    return left


RECUSAL = "回避：所在单位为该事项的被反映单位或其下属单位"


def backlog_reopen(
    *, backlog: BacklogCase, at: dt.datetime | None = None, reason: str
) -> BacklogCase:
    """反弹: a closed backlog case opens again; the earlier acceptance stays in the timeline only."""
    at = _now(at)
    with transaction.atomic():
        previous = {
            "acceptance_on": backlog.acceptance_on.isoformat() if backlog.acceptance_on else None,
            "acceptance_kind": backlog.acceptance_kind,
            "acceptance_note": backlog.acceptance_note,
            "evidence": backlog.acceptance_evidence.name or "",
            "closed_at": backlog.closed_at.isoformat() if backlog.closed_at else None,
        }
        backlog.status = Status.REOPENED
        backlog.active = True
        backlog.reopened_at = at
        backlog.reopen_count += 1
        backlog.closed_at = None
        backlog.closed_by = None
        backlog.acceptance_on = None
        backlog.acceptance_kind = ""
        backlog.acceptance_note = ""
        backlog.acceptance_evidence = ""
        backlog.save()
        _event(backlog, EventKind.BACKLOG_REOPENED, None, at, reason=reason, previous=previous)
    return backlog


# ---------------------------------------------------------------- ownership and task force


def backlog_assign_owner(
    *, backlog: BacklogCase, by: User, owner: User, at: dt.datetime | None = None
) -> BacklogCase:
    """包案: name the leader who owns the case (a unit head or supervisor)."""
    at = _now(at)
    if not permissions.can_lead(by, backlog.case):
        raise PermissionDenied("只有督查人员或单位负责人可以指定包案领导")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    if owner.role not in permissions.LEADER_ROLES or not owner.is_active:
        raise ValidationError("包案领导须为在职的单位负责人或督查督办人员")
    refusal = permissions.join_refusal(owner, backlog, by=by, as_owner=True)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        backlog.owner = owner
        backlog.save(update_fields=["owner"])
        _event(
            backlog, EventKind.BACKLOG_OWNER_ASSIGNED, by, at, owner=str(owner), owner_id=owner.pk
        )
    return backlog


def taskforce_add(
    *,
    backlog: BacklogCase,
    by: User,
    user: User,
    role: str = TaskForceMember.Role.MEMBER,
    at: dt.datetime | None = None,
) -> TaskForceMember:
    """专班: add a member (or the leader: one leader per task force)."""
    at = _now(at)
    if not (permissions.can_lead(by, backlog.case) or backlog.owner_id == by.pk):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以组建工作专班")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    if role not in TaskForceMember.Role.values:
        raise ValidationError("请选择专班职务")
    refusal = permissions.join_refusal(user, backlog, by=by)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        if role == TaskForceMember.Role.LEADER:
            backlog.members.filter(role=role).update(role=TaskForceMember.Role.MEMBER)
        member, _ = TaskForceMember.objects.update_or_create(
            backlog=backlog, user=user, defaults={"role": role}
        )
        _event(backlog, EventKind.BACKLOG_MEMBER_ADDED, by, at, user=str(user), role=role)
    return member


def taskforce_remove(
    *, backlog: BacklogCase, by: User, user: User, at: dt.datetime | None = None
) -> None:
    at = _now(at)
    if not (permissions.can_lead(by, backlog.case) or backlog.owner_id == by.pk):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以调整工作专班")
    with transaction.atomic():
        TaskForceMember.objects.filter(backlog=backlog, user=user).delete()
        _event(backlog, EventKind.BACKLOG_MEMBER_REMOVED, by, at, user=str(user))


# ---------------------------------------------------------------- the resolution plan


def current_plan(backlog: BacklogCase) -> ResolutionPlan | None:
    return backlog.plans.order_by("-version").first()


def plan_save(
    *,
    backlog: BacklogCase,
    by: User,
    lead_unit: Unit,
    path: str,
    secondary_units: Iterable[Unit] = (),
    supporting_units: Iterable[Unit] = (),
    funds_source: str = "",
    funds_amount=0,
    plan_date: dt.date | None = None,
    deadline_days: int | None = None,
    due_on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> ResolutionPlan:
    """化解方案: save a new version. The deadline runs on the clocks (calendar days from the plan
    date, ending on the next working day if it falls on a rest day) or is an explicit date."""
    at = _now(at)
    _require_work(by, backlog)
    plan_date = plan_date or _today(at)
    _not_future(plan_date, "方案日期", at)
    if not (path or "").strip():
        raise ValidationError("请填写化解路径")
    if lead_unit is None:
        raise ValidationError("请选择主责单位")
    amount = _money(funds_amount, "资金数额")
    if amount > 0 and not funds_source.strip():
        raise ValidationError("涉及资金的，请填写资金来源")
    if deadline_days is not None and due_on is not None:
        raise ValidationError("化解期限请选择“天数”或“具体日期”之一")
    due_note = ""
    if due_on is not None:
        if due_on < _today(at):
            raise ValidationError("化解期限不能早于今天")
        explicit = deadlines.explicit_last_day(due_on, work_calendar())
        due_on, due_at, due_note = explicit.day, explicit.due_at, explicit.note
    else:
        days = conf.plan_days() if deadline_days is None else deadline_days
        if not 1 <= days <= 3650:
            raise ValidationError("化解期限天数应在1至3650天之间")
        deadline_days = days
        due_at = clocks.due_at(_start_of(plan_date), days, clocks.DayKind.CALENDAR, work_calendar())
        due_on = last_day(due_at)
    secondary = {u.pk: u for u in secondary_units if u.pk != lead_unit.pk}
    supporting = {
        u.pk: u for u in supporting_units if u.pk != lead_unit.pk and u.pk not in secondary
    }
    with transaction.atomic():
        BacklogCase.objects.select_for_update().filter(pk=backlog.pk).first()
        version = (backlog.plans.aggregate(v=Max("version"))["v"] or 0) + 1
        plan = ResolutionPlan.objects.create(
            backlog=backlog,
            version=version,
            lead_unit=lead_unit,
            path=path.strip(),
            funds_source=funds_source.strip(),
            funds_amount=amount,
            plan_date=plan_date,
            deadline_days=deadline_days,
            due_on=due_on,
            due_at=due_at,
            due_note=due_note,
            created_by=by,
            created_at=at,
        )
        plan.secondary_units.set(secondary.values())
        plan.supporting_units.set(supporting.values())
        _event(
            backlog,
            EventKind.BACKLOG_PLAN_SAVED,
            by,
            at,
            version=version,
            due_on=due_on.isoformat(),
            **({"due_note": due_note} if due_note else {}),
        )
    return plan


def plan_mark_executed(
    *, backlog: BacklogCase, by: User, on: dt.date, at: dt.datetime | None = None
) -> ResolutionPlan:
    """The current plan has been carried out (方案落实), on this date."""
    at = _now(at)
    _require_work(by, backlog)
    plan = current_plan(backlog)
    if plan is None:
        raise ValidationError("尚未制定化解方案，不能标记落实")
    _not_future(on, "落实日期", at)
    if on < plan.plan_date:
        raise ValidationError("落实日期不能早于方案日期")
    with transaction.atomic():
        plan.executed_on = on
        plan.save(update_fields=["executed_on"])
        _event(
            backlog,
            EventKind.BACKLOG_PLAN_EXECUTED,
            by,
            at,
            version=plan.version,
            on=on.isoformat(),
        )
    return plan


# ---------------------------------------------------------------- the five steps (听议明定考)


def cycle_step_record(
    *,
    backlog: BacklogCase,
    by: User,
    step: str,
    held_on: dt.date,
    attendees: Iterable[User] = (),
    external_attendees: str = "",
    notes: str = "",
    plan: ResolutionPlan | None = None,
    score=None,
    grade: str = "",
    comment: str = "",
    at: dt.datetime | None = None,
) -> CycleStep:
    at = _now(at)
    _require_work(by, backlog)
    if step not in CycleStep.Step.values:
        raise ValidationError("请选择环节（听、议、明、定、考）")
    _not_future(held_on, "日期", at)
    attendees = list(attendees)
    if not attendees and not external_attendees.strip():
        raise ValidationError("请填写参加人员")
    needs_plan = step in {CycleStep.Step.DELIBERATE, CycleStep.Step.DECIDE}
    if needs_plan and plan is None:
        raise ValidationError("“议”“定”环节须关联其形成的化解方案版本，请先保存方案")
    if plan is not None and (plan.backlog_id != backlog.pk or not needs_plan):
        raise ValidationError("只有“议”“定”环节关联本积案的方案版本")
    score_value = None
    if step == CycleStep.Step.ASSESS:
        if score in (None, "") and not grade:
            raise ValidationError("“考”环节须填写考核得分或等次")
        if score not in (None, ""):
            score_value = _money(score, "考核得分")
            if score_value > 100:
                raise ValidationError("考核得分应在0至100之间")
        if grade and grade not in CycleStep.Grade.values:
            raise ValidationError("请选择考核等次")
    elif score not in (None, "") or grade:
        raise ValidationError("只有“考”环节记录考核得分和等次")
    with transaction.atomic():
        record = CycleStep.objects.create(
            backlog=backlog,
            step=step,
            held_on=held_on,
            external_attendees=external_attendees.strip(),
            notes=notes.strip(),
            plan=plan,
            score=score_value,
            grade=grade,
            comment=comment.strip(),
            recorded_by=by,
        )
        record.attendees.set(attendees)
        _event(
            backlog, EventKind.BACKLOG_STEP_RECORDED, by, at, step=step, held_on=held_on.isoformat()
        )
    return record


# ---------------------------------------------------------------- the methods


@dataclass
class FollowUp:
    description: str
    owner: User
    unit: Unit
    due_days: int | None = None  # working days from the meeting
    due_on: dt.date | None = None


def _follow_up_due(held_on: dt.date, item: FollowUp) -> tuple[dt.date, dt.datetime, str]:
    """(last day, due instant, note): an explicit date on a rest day moves to the next working day."""
    if item.due_on is not None:
        if item.due_on < held_on:
            raise ValidationError(f"落实事项“{item.description}”的期限不能早于会议日期")
        explicit = deadlines.explicit_last_day(item.due_on, work_calendar())
        return explicit.day, explicit.due_at, explicit.note
    if not item.due_days or item.due_days < 1:
        raise ValidationError(f"落实事项“{item.description}”须填写期限（工作日天数或日期）")
    due = clocks.due_at(_start_of(held_on), item.due_days, clocks.DayKind.WORKING, work_calendar())
    return last_day(due), due, ""


def meeting_record(
    *,
    backlog: BacklogCase,
    by: User,
    kind: str,
    held_on: dt.date,
    attendee_units: Iterable[Unit],
    decisions: str,
    actions: Sequence[FollowUp] = (),
    at: dt.datetime | None = None,
) -> CoordinationMeeting:
    """协调会、推进会 with the units that attended, the decisions and follow-up actions."""
    at = _now(at)
    _require_work(by, backlog)
    if kind not in CoordinationMeeting.Kind.values:
        raise ValidationError("请选择会议类型（协调会或推进会）")
    _not_future(held_on, "会议日期", at)
    units = list(attendee_units)
    if not units:
        raise ValidationError("请选择参会单位")
    if not decisions.strip():
        raise ValidationError("请填写议定事项")
    dues = []
    for item in actions:
        if not item.description.strip():
            raise ValidationError("落实事项须填写内容")
        dues.append(_follow_up_due(held_on, item))
    with transaction.atomic():
        meeting = CoordinationMeeting.objects.create(
            backlog=backlog, kind=kind, held_on=held_on, decisions=decisions.strip(), recorded_by=by
        )
        meeting.attendee_units.set(units)
        FollowUpAction.objects.bulk_create(
            FollowUpAction(
                meeting=meeting,
                description=item.description.strip(),
                owner=item.owner,
                unit=item.unit,
                due_days=item.due_days if item.due_on is None else None,
                due_on=due_on,
                due_at=due_at,
                due_note=note,
            )
            for item, (due_on, due_at, note) in zip(actions, dues, strict=True)
        )
        _event(
            backlog,
            EventKind.BACKLOG_MEETING_RECORDED,
            by,
            at,
            kind=kind,
            held_on=held_on.isoformat(),
            actions=len(actions),
        )
    return meeting


def follow_up_done(
    *, action: FollowUpAction, by: User, at: dt.datetime | None = None
) -> FollowUpAction:
    at = _now(at)
    backlog = action.meeting.backlog
    if not (permissions.can_work(by, backlog) or action.owner_id == by.pk):
        raise PermissionDenied("您无权办结该落实事项")
    if action.done_at:
        raise ValidationError("该落实事项已办结")
    with transaction.atomic():
        action.done_at = at
        action.save(update_fields=["done_at"])
        _event(backlog, EventKind.BACKLOG_ACTION_DONE, by, at, action=action.description)
    return action


def aid_record(
    *,
    backlog: BacklogCase,
    by: User,
    kind: str,
    amount,
    source: str,
    approved_by: str,
    approved_on: dt.date,
    paid_on: dt.date | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> HardshipAid:
    """帮扶救助: social relief, judicial aid or other, with amount, source and approval."""
    at = _now(at)
    _require_work(by, backlog)
    if kind not in HardshipAid.Kind.values:
        raise ValidationError("请选择救助类型")
    value = _money(amount, "救助金额")
    if value <= 0:
        raise ValidationError("救助金额应大于零")
    if not source.strip():
        raise ValidationError("请填写资金来源")
    if not approved_by.strip():
        raise ValidationError("请填写审批人")
    _not_future(approved_on, "审批日期", at)
    if paid_on is not None:
        _not_future(paid_on, "发放日期", at)
        if paid_on < approved_on:
            raise ValidationError("发放日期不能早于审批日期")
    with transaction.atomic():
        aid = HardshipAid.objects.create(
            backlog=backlog,
            kind=kind,
            amount=value,
            source=source.strip(),
            approved_by=approved_by.strip(),
            approved_on=approved_on,
            paid_on=paid_on,
            note=note.strip(),
            recorded_by=by,
        )
        _event(backlog, EventKind.BACKLOG_AID_RECORDED, by, at, kind=kind, amount=str(value))
    return aid


def mediation_record(
    *,
    backlog: BacklogCase,
    by: User,
    lawyer_name: str,
    law_firm: str,
    sessions: Sequence[tuple[dt.date, str]] = (),
    outcome: str = LawyerMediation.Outcome.ONGOING,
    outcome_note: str = "",
    at: dt.datetime | None = None,
) -> LawyerMediation:
    """律师引导调解: the lawyer, the sessions held, the outcome."""
    at = _now(at)
    _require_work(by, backlog)
    if not lawyer_name.strip() or not law_firm.strip():
        raise ValidationError("请填写律师姓名和律师事务所")
    if outcome not in LawyerMediation.Outcome.values:
        raise ValidationError("请选择调解结果")
    for day, _notes in sessions:
        _not_future(day, "调解日期", at)
    with transaction.atomic():
        mediation = LawyerMediation.objects.create(
            backlog=backlog,
            lawyer_name=lawyer_name.strip(),
            law_firm=law_firm.strip(),
            outcome=outcome,
            outcome_note=outcome_note.strip(),
            recorded_by=by,
        )
        MediationSession.objects.bulk_create(
            MediationSession(mediation=mediation, held_on=day, notes=notes.strip())
            for day, notes in sessions
        )
        _event(
            backlog,
            EventKind.BACKLOG_MEDIATION_RECORDED,
            by,
            at,
            lawyer=lawyer_name,
            outcome=outcome,
        )
    return mediation


def mediation_add_session(
    *,
    mediation: LawyerMediation,
    by: User,
    held_on: dt.date,
    notes: str,
    outcome: str = "",
    outcome_note: str = "",
    at: dt.datetime | None = None,
) -> MediationSession:
    at = _now(at)
    backlog = mediation.backlog
    _require_work(by, backlog)
    _not_future(held_on, "调解日期", at)
    if not notes.strip():
        raise ValidationError("请填写调解情况")
    with transaction.atomic():
        session = MediationSession.objects.create(
            mediation=mediation, held_on=held_on, notes=notes.strip()
        )
        if outcome:
            if outcome not in LawyerMediation.Outcome.values:
                raise ValidationError("请选择调解结果")
            mediation.outcome = outcome
            mediation.outcome_note = outcome_note.strip() or mediation.outcome_note
            mediation.save(update_fields=["outcome", "outcome_note"])
        _event(backlog, EventKind.BACKLOG_MEDIATION_SESSION, by, at, held_on=held_on.isoformat())
    return session


def hearing_record(
    *,
    backlog: BacklogCase,
    by: User,
    held_on: dt.date,
    place: str,
    participants: Sequence[tuple[str, str]],
    minutes: str,
    findings: str,
    decision: str,
    at: dt.datetime | None = None,
) -> Hearing:
    """听证评议 with invited participants by kind (人大代表、政协委员、律师、公证员、单位、信访人)."""
    at = _now(at)
    _require_work(by, backlog)
    _not_future(held_on, "听证日期", at)
    for what, value in (
        ("听证地点", place),
        ("听证记录", minutes),
        ("评议意见", findings),
        ("听证结论", decision),
    ):
        if not (value or "").strip():
            raise ValidationError(f"请填写{what}")
    people = [(k, n.strip()) for k, n in participants if n.strip()]
    if not people:
        raise ValidationError("请填写参加听证的人员")
    for kind, _name in people:
        if kind not in HearingParticipant.Kind.values:
            raise ValidationError("参加人员身份不正确")
    with transaction.atomic():
        hearing = Hearing.objects.create(
            backlog=backlog,
            held_on=held_on,
            place=place.strip(),
            minutes=minutes.strip(),
            findings=findings.strip(),
            decision=decision.strip(),
            recorded_by=by,
        )
        HearingParticipant.objects.bulk_create(
            HearingParticipant(hearing=hearing, kind=k, name=n[:80]) for k, n in people
        )
        _event(backlog, EventKind.BACKLOG_HEARING_RECORDED, by, at, held_on=held_on.isoformat())
    return hearing


def summons_record(
    *,
    backlog: BacklogCase,
    by: User,
    unit: Unit,
    head_name: str,
    held_on: dt.date,
    reason: str,
    commitments: str = "",
    at: dt.datetime | None = None,
) -> UnitHeadSummons:
    """约谈: summon the head of a unit whose part of the case is stuck."""
    at = _now(at)
    _require_work(by, backlog)
    if not head_name.strip() or not reason.strip():
        raise ValidationError("请填写被约谈负责人和约谈事由")
    _not_future(held_on, "约谈日期", at)
    with transaction.atomic():
        summons = UnitHeadSummons.objects.create(
            backlog=backlog,
            unit=unit,
            head_name=head_name.strip(),
            held_on=held_on,
            reason=reason.strip(),
            commitments=commitments.strip(),
            recorded_by=by,
        )
        _event(backlog, EventKind.BACKLOG_SUMMONS_RECORDED, by, at, unit=unit.name)
    return summons


# ---------------------------------------------------------------- closing (息诉罢访, 销号)


def acceptance_record(
    *,
    backlog: BacklogCase,
    by: User,
    on: dt.date,
    kind: str,
    note: str,
    evidence,
    at: dt.datetime | None = None,
) -> BacklogCase:
    """息诉罢访: the matter's outcome, with its written evidence (a signed statement, a reply record)."""
    at = _now(at)
    _require_work(by, backlog)
    _not_future(on, "息诉罢访日期", at)
    if kind not in AcceptanceKind.values:
        raise ValidationError("请选择佐证材料类型")
    if evidence is None:
        raise ValidationError("请上传息诉罢访佐证材料（签字承诺书或答复回执等）")
    clean_upload(evidence.name, evidence.size)
    with transaction.atomic():
        backlog.acceptance_on = on
        backlog.acceptance_kind = kind
        backlog.acceptance_note = note.strip()
        backlog.acceptance_evidence = evidence
        backlog.save()
        _event(backlog, EventKind.BACKLOG_ACCEPTANCE_RECORDED, by, at, on=on.isoformat(), kind=kind)
    return backlog


def close_problems(backlog: BacklogCase) -> list[str]:
    """Why this backlog case cannot close yet (empty when it can)."""
    problems = []
    plan = current_plan(backlog)
    if plan is None:
        problems.append("尚未制定化解方案")
    elif plan.executed_on is None:
        problems.append(f"化解方案（第{plan.version}版）尚未标记落实")
    if backlog.acceptance_on is None or not backlog.acceptance_evidence:
        problems.append("尚未记录息诉罢访及佐证材料")
    return problems


def backlog_close(*, backlog: BacklogCase, by: User, at: dt.datetime | None = None) -> BacklogCase:
    """销号: only with the plan carried out and the acceptance (息诉罢访) documented."""
    at = _now(at)
    if not permissions.can_close(by, backlog):
        raise PermissionDenied("只有包案领导、督查人员或单位负责人可以化解销号")
    if not backlog.is_active:
        raise ValidationError("该积案已化解销号")
    problems = close_problems(backlog)
    if problems:
        raise ValidationError("不能化解销号：" + "；".join(problems) + "。")
    with transaction.atomic():
        backlog.status = Status.CLOSED
        backlog.active = False
        backlog.closed_at = at
        backlog.closed_by = by
        backlog.save(update_fields=["status", "active", "closed_at", "closed_by"])
        _event(backlog, EventKind.BACKLOG_CLOSED, by, at)
    return backlog
