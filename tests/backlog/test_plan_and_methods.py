"""化解方案 versions on the clocks, the five steps (听议明定考), and each method on record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.backlog.conftest import NOW
from xinfang.backlog import methods, planning, services
from xinfang.backlog.models import (
    BacklogEvent,
    CycleStep,
    FollowUpAction,
    HearingParticipant,
    ResolutionPlan,
    TaskForceMember,
)

TODAY = NOW.date()


def _plan(backlog, by, county, **kw):
    data = {"lead_unit": county.hr, "path": "责成用人单位补发工资", "plan_date": TODAY}
    data.update(kw)
    return planning.plan_save(backlog=backlog, by=by, **data)


def test_each_edit_is_a_new_version_and_the_latest_rules(county, people, backlog):
    first = _plan(
        backlog,
        people.supervisor,
        county,
        secondary_units=[county.town],
        supporting_units=[county.housing, county.hr],
    )
    assert first.version == 1 and first.deadline_days == 60
    assert list(first.secondary_units.all()) == [county.town]
    assert list(first.supporting_units.all()) == [county.housing]  # the lead unit is not also 配合
    second = _plan(
        backlog,
        people.supervisor,
        county,
        path="先行垫付，再向企业追偿",
        funds_source="区财政应急周转金",
        funds_amount="20000.50",
    )
    assert second.version == 2 and second.funds_amount == Decimal("20000.50")
    assert planning.current_plan(backlog) == second
    assert ResolutionPlan.objects.get(backlog=backlog, version=1).path == "责成用人单位补发工资"


def test_deadline_runs_on_the_clocks(county, people, backlog):
    # 15 calendar days from 16 Sept 2026 end on 1 Oct, a holiday: the deadline moves to 8 Oct.
    plan = _plan(
        backlog, people.supervisor, county, plan_date=dt.date(2026, 9, 16), deadline_days=15
    )
    assert plan.due_on == dt.date(2026, 10, 8)
    assert plan.due_at.astimezone(NOW.tzinfo) == dt.datetime(2026, 10, 9, tzinfo=NOW.tzinfo)


def test_explicit_deadline_not_in_the_past(county, people, backlog):
    with pytest.raises(ValidationError, match="不能早于今天"):
        _plan(backlog, people.supervisor, county, due_on=TODAY - dt.timedelta(days=1))
    plan = _plan(backlog, people.supervisor, county, due_on=TODAY + dt.timedelta(days=30))
    assert plan.due_on == TODAY + dt.timedelta(days=30) and plan.deadline_days is None


def test_plan_checks_funds_and_path(county, people, backlog):
    with pytest.raises(ValidationError, match="资金来源"):
        _plan(backlog, people.supervisor, county, funds_amount="5000")
    with pytest.raises(ValidationError, match="化解路径"):
        _plan(backlog, people.supervisor, county, path=" ")
    with pytest.raises(ValidationError, match="金额"):
        _plan(backlog, people.supervisor, county, funds_amount="-1", funds_source="财政")


def test_outsider_cannot_write_the_plan(county, people, backlog):
    with pytest.raises(PermissionDenied):
        _plan(backlog, people.outsider, county)


def test_owner_and_task_force(county, people, backlog, town_head):
    services.backlog_assign_owner(backlog=backlog, by=people.supervisor, owner=people.head)
    assert backlog.owner == people.head
    with pytest.raises(ValidationError, match="包案领导须为"):
        services.backlog_assign_owner(backlog=backlog, by=people.supervisor, owner=people.officer)
    with pytest.raises(PermissionDenied):
        services.backlog_assign_owner(backlog=backlog, by=people.officer, owner=people.head)
    services.taskforce_add(backlog=backlog, by=people.head, user=people.head, role="leader")
    services.taskforce_add(backlog=backlog, by=people.head, user=people.officer)
    services.taskforce_add(backlog=backlog, by=people.head, user=town_head, role="leader")
    roles = dict(TaskForceMember.objects.values_list("user__username", "role"))
    assert roles == {"head": "member", "officer": "member", "town_head": "leader"}
    # A task-force member from another unit may now record work on the case.
    step = planning.cycle_step_record(
        backlog=backlog, by=town_head, step="hear", held_on=TODAY, attendees=[town_head]
    )
    assert step.recorded_by == town_head


def test_five_steps(county, people, backlog):
    sup = people.supervisor
    planning.cycle_step_record(
        backlog=backlog,
        by=sup,
        step="hear",
        held_on=TODAY - dt.timedelta(days=3),
        attendees=[sup, people.head],
        external_attendees="社区书记",
        notes="听取进展",
    )
    with pytest.raises(ValidationError, match="须关联"):
        planning.cycle_step_record(
            backlog=backlog, by=sup, step="deliberate", held_on=TODAY, attendees=[sup]
        )
    plan = _plan(backlog, sup, county)
    planning.cycle_step_record(
        backlog=backlog, by=sup, step="deliberate", held_on=TODAY, attendees=[sup], plan=plan
    )
    planning.cycle_step_record(
        backlog=backlog,
        by=sup,
        step="designate",
        held_on=TODAY,
        external_attendees="各责任单位",
        notes="明确主责人社局",
    )
    planning.cycle_step_record(
        backlog=backlog, by=sup, step="decide", held_on=TODAY, attendees=[sup], plan=plan
    )
    with pytest.raises(ValidationError, match="得分或等次"):
        planning.cycle_step_record(
            backlog=backlog, by=sup, step="assess", held_on=TODAY, attendees=[sup]
        )
    with pytest.raises(ValidationError, match="0至100"):
        planning.cycle_step_record(
            backlog=backlog, by=sup, step="assess", held_on=TODAY, attendees=[sup], score="120"
        )
    assess = planning.cycle_step_record(
        backlog=backlog,
        by=sup,
        step="assess",
        held_on=TODAY,
        attendees=[sup],
        score="92.5",
        grade="excellent",
        comment="按期化解",
    )
    assert assess.score == Decimal("92.5")
    assert list(CycleStep.objects.filter(backlog=backlog).values_list("step", flat=True)) == [
        "hear",
        "deliberate",
        "designate",
        "decide",
        "assess",
    ]
    with pytest.raises(ValidationError, match="参加人员"):
        planning.cycle_step_record(backlog=backlog, by=sup, step="hear", held_on=TODAY)
    with pytest.raises(ValidationError, match="晚于今天"):
        planning.cycle_step_record(
            backlog=backlog,
            by=sup,
            step="hear",
            held_on=TODAY + dt.timedelta(days=1),
            attendees=[sup],
        )


def test_meeting_with_follow_ups_due_in_working_days(county, people, backlog):
    # A meeting on Wed 30 Sept 2026: 5 working days end on 13 Oct (National Day, swapped Saturday).
    meeting = methods.meeting_record(
        backlog=backlog,
        by=people.supervisor,
        kind="coordination",
        held_on=dt.date(2026, 9, 30),
        attendee_units=[county.hr, county.town],
        decisions="人社局牵头核实欠薪数额",
        actions=[
            methods.FollowUp("核实欠薪数额", people.officer, county.hr, due_days=5),
            methods.FollowUp(
                "约谈企业负责人", people.head, county.hr, due_on=dt.date(2026, 10, 20)
            ),
        ],
    )
    a, b = FollowUpAction.objects.filter(meeting=meeting).order_by("due_at")
    assert (a.due_on, a.due_days) == (dt.date(2026, 10, 13), 5)
    assert b.due_on == dt.date(2026, 10, 20) and b.due_days is None
    methods.follow_up_done(action=a, by=people.officer)
    a.refresh_from_db()
    assert a.done_at == NOW
    with pytest.raises(ValidationError, match="须填写期限"):
        methods.meeting_record(
            backlog=backlog,
            by=people.supervisor,
            kind="progress",
            held_on=TODAY,
            attendee_units=[county.hr],
            decisions="推进",
            actions=[methods.FollowUp("无期限", people.officer, county.hr)],
        )


def test_hardship_aid(county, people, backlog):
    aid = methods.aid_record(
        backlog=backlog,
        by=people.supervisor,
        kind="judicial_aid",
        amount="8000",
        source="区司法救助资金",
        approved_by="区政法委",
        approved_on=TODAY,
        paid_on=TODAY,
    )
    assert aid.amount == Decimal("8000.00")
    with pytest.raises(ValidationError, match="早于审批日期"):
        methods.aid_record(
            backlog=backlog,
            by=people.supervisor,
            kind="social_relief",
            amount="100",
            source="民政",
            approved_by="民政局",
            approved_on=TODAY,
            paid_on=TODAY - dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError, match="大于零"):
        methods.aid_record(
            backlog=backlog,
            by=people.supervisor,
            kind="other",
            amount="0",
            source="x",
            approved_by="y",
            approved_on=TODAY,
        )


def test_lawyer_mediation_with_sessions(county, people, backlog):
    mediation = methods.mediation_record(
        backlog=backlog,
        by=people.supervisor,
        lawyer_name="王律师",
        law_firm="某某律师事务所",
        sessions=[(TODAY - dt.timedelta(days=7), "释法明理")],
    )
    methods.mediation_add_session(
        mediation=mediation,
        by=people.supervisor,
        held_on=TODAY,
        notes="双方达成分期支付协议",
        outcome="agreed",
    )
    mediation.refresh_from_db()
    assert mediation.outcome == "agreed" and mediation.sessions.count() == 2


def test_hearing_with_participants_by_kind(county, people, backlog):
    hearing = methods.hearing_record(
        backlog=backlog,
        by=people.supervisor,
        held_on=TODAY,
        place="区信访局听证室",
        participants=[
            ("deputy", "李代表"),
            ("committee", "陈委员"),
            ("lawyer", "王律师"),
            ("notary", "赵公证员"),
            ("unit", "区人社局"),
            ("petitioner", "信访人"),
            ("deputy", " "),
        ],
        minutes="听证记录……",
        findings="诉求部分合理",
        decision="支持补发工资，不支持额外赔偿",
    )
    kinds = sorted(
        HearingParticipant.objects.filter(hearing=hearing).values_list("kind", flat=True)
    )
    assert kinds == sorted(["deputy", "committee", "lawyer", "notary", "unit", "petitioner"])
    with pytest.raises(ValidationError, match="参加听证"):
        methods.hearing_record(
            backlog=backlog,
            by=people.supervisor,
            held_on=TODAY,
            place="x",
            participants=[],
            minutes="m",
            findings="f",
            decision="d",
        )


def test_summons_and_activity_clock(county, people, backlog):
    summons = methods.summons_record(
        backlog=backlog,
        by=people.supervisor,
        unit=county.hr,
        head_name="张局长",
        held_on=TODAY,
        reason="久拖未决",
        commitments="一个月内拿出方案",
    )
    assert summons.unit == county.hr
    backlog.refresh_from_db()
    assert backlog.last_activity_at == NOW
    assert BacklogEvent.objects.filter(backlog=backlog, kind="backlog.summons_recorded").exists()
