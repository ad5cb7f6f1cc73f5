"""积案认定 and 反弹: flag a matter (by hand, by rule in the scan), keep its units in step, reopen it.

The rules and the scan, the reaction to the matter's timeline (units, repeat, 回避), and the reopen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from xinfang.backlog import conf, permissions
from xinfang.backlog.models import (
    BacklogCase,
    BacklogEvent,
    BacklogRule,
    BacklogUnit,
    RuleKind,
    Status,
)
from xinfang.backlog.writing import (
    _event,
    _now,
)
from xinfang.cases import access
from xinfang.cases.events import EventKind
from xinfang.cases.models import Case, CoHandler, State
from xinfang.orgs.models import User

OPEN_STATES = (State.REGISTERED, State.ROUTED, State.ACCEPTED)
REVIEW_STATES = (State.REVIEWING, State.REVIEWED, State.REREVIEWING)
SCAN_BATCH = 2000


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
    reasons: dict[str, str] = {
        RuleKind.OPEN_DAYS: f"登记后超过{threshold}天仍未办结",
        RuleKind.REVIEWED: "事项已进入复查、复核程序",
        RuleKind.REPEAT: f"重复信访达到{threshold}次",
    }
    return reasons.get(kind, "")


def flag_many(
    case_ids: Sequence[int], *, rule: str, reason: str, at: dt.datetime, owners: Sequence[User] = ()
) -> int:
    """Bulk path of `backlog_flag` for the scan (and the bench): the same rows, fewer statements."""
    done = 0
    for start in range(0, len(case_ids), SCAN_BATCH):
        chunk = list(case_ids[start : start + SCAN_BATCH])
        rows = list(
            Case.objects.filter(pk__in=chunk, backlog__isnull=True).values(
                "id",
                "office_id",
                "lead_unit_id",
                "review_unit_id",
                "rereview_unit_id",
                "registered_at",
            )
        )
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
                ids: set[int | None] = {
                    r["office_id"],
                    r["lead_unit_id"],
                    r["review_unit_id"],
                    r["rereview_unit_id"],
                }
                ids |= co.get(r["id"], set())
                backlog = by_case[r["id"]]
                units += [BacklogUnit(backlog=backlog, unit_id=u) for u in ids if u is not None]
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
    owner = backlog.owner if backlog.owner_id else None
    if owner is not None and access.in_accused_unit(owner, case):
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
