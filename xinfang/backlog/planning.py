"""化解方案 and the five steps (听议明定考): each version of the plan, its execution, each step held."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from xinfang.backlog import conf
from xinfang.backlog.models import (
    BacklogCase,
    CycleStep,
    ResolutionPlan,
)
from xinfang.backlog.writing import (
    _event,
    _money,
    _not_future,
    _now,
    _require_work,
    _start_of,
    _today,
)
from xinfang.cases import clocks, deadlines
from xinfang.cases.deadlines import last_day
from xinfang.cases.events import EventKind
from xinfang.cases.selectors import work_calendar
from xinfang.orgs.models import Unit, User

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
