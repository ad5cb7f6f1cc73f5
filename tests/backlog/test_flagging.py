"""积案认定: each rule flags the matters it should, once; a repeat reopens a closed case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from tests.backlog.conftest import NOW, accepted_case, evidence, repeat, reviewing_case
from tests.factories import register
from xinfang.backlog import flagging, planning, services
from xinfang.backlog.models import (
    BacklogCase,
    BacklogEvent,
    BacklogRule,
    BacklogSnapshot,
    BacklogUnit,
    RuleKind,
    Status,
)


def test_default_rules_are_seeded(db):
    rules = {r.kind: (r.threshold, r.active) for r in BacklogRule.objects.all()}
    assert rules == {"open_days": (90, True), "reviewed": (0, True), "repeat": (3, True)}


def test_open_past_n_days_is_flagged_and_a_recent_one_is_not(county, people, now):
    old = accepted_case(county, people, NOW - dt.timedelta(days=120))
    young = accepted_case(county, people, NOW - dt.timedelta(days=30))
    result = flagging.backlog_scan()
    assert result.flagged[RuleKind.OPEN_DAYS] == 1
    backlog = BacklogCase.objects.get()
    assert backlog.case == old and backlog.flag_rule == RuleKind.OPEN_DAYS
    assert backlog.flag_reason == "登记后超过90天仍未办结"
    assert backlog.unit == county.hr and backlog.registered_at == old.registered_at
    assert set(BacklogUnit.objects.values_list("unit_id", flat=True)) == {
        county.office.pk,
        county.hr.pk,
    }
    assert not BacklogCase.objects.filter(case=young).exists()


def test_threshold_is_admin_configurable(county, people, now):
    accepted_case(county, people, NOW - dt.timedelta(days=40))
    assert flagging.backlog_scan().total == 0
    BacklogRule.objects.filter(kind=RuleKind.OPEN_DAYS).update(threshold=30)
    assert flagging.backlog_scan().flagged[RuleKind.OPEN_DAYS] == 1


def test_inactive_rule_flags_nothing(county, people, now):
    accepted_case(county, people, NOW - dt.timedelta(days=200))
    BacklogRule.objects.filter(kind=RuleKind.OPEN_DAYS).update(active=False)
    assert flagging.backlog_scan().total == 0


def test_reviewed_matter_is_flagged(county, people, now):
    case = reviewing_case(county, people, NOW - dt.timedelta(days=40))
    result = flagging.backlog_scan()
    assert result.flagged[RuleKind.REVIEWED] == 1
    backlog = BacklogCase.objects.get(case=case)
    assert backlog.flag_rule == RuleKind.REVIEWED
    # The review organ takes part in the matter, so it is in the backlog case's scope.
    assert BacklogUnit.objects.filter(backlog=backlog, unit=county.county).exists()


def test_raised_again_k_times_is_flagged_by_the_scan(county, people, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=20))
    BacklogRule.objects.filter(kind=RuleKind.REPEAT).update(active=False)  # no flag on the event
    for day in (5, 4, 3):
        repeat(county, people, case, NOW - dt.timedelta(days=day))
    case.refresh_from_db()
    assert case.repeat_count == 3
    assert not BacklogCase.objects.exists()
    BacklogRule.objects.filter(kind=RuleKind.REPEAT).update(active=True)
    assert flagging.backlog_scan().flagged[RuleKind.REPEAT] == 1


def test_the_kth_repeat_flags_at_once(county, people, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=20))
    repeat(county, people, case, NOW - dt.timedelta(days=5))
    repeat(county, people, case, NOW - dt.timedelta(days=4))
    assert not BacklogCase.objects.exists()
    repeat(county, people, case, NOW - dt.timedelta(days=3))
    backlog = BacklogCase.objects.get(case=case)
    assert backlog.flag_rule == RuleKind.REPEAT and backlog.flag_reason == "重复信访达到3次"


def test_scan_is_idempotent_and_the_command_runs(county, people, now, capsys):
    accepted_case(county, people, NOW - dt.timedelta(days=120))
    reviewing_case(county, people, NOW - dt.timedelta(days=60))
    assert flagging.backlog_scan().total == 2
    assert flagging.backlog_scan().total == 0
    call_command("backlog_scan")
    assert "新认定积案 0 件" in capsys.readouterr().out
    assert BacklogCase.objects.count() == 2
    assert BacklogEvent.objects.filter(kind="backlog.flagged").count() == 2
    snapshot = dict(BacklogSnapshot.objects.values_list("bucket", "count"))
    assert snapshot == {"lt6m": 2, "6to12m": 0, "1to2y": 0, "gt2y": 0}


def test_supervisor_marks_a_matter_with_a_reason(county, people, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=10))
    with pytest.raises(ValidationError, match="须填写理由"):
        flagging.backlog_flag(case=case, by=people.supervisor, reason=" ")
    backlog = flagging.backlog_flag(case=case, by=people.supervisor, reason="涉及群体利益")
    assert backlog.flag_rule == RuleKind.MANUAL and backlog.flagged_by == people.supervisor
    with pytest.raises(ValidationError, match="已是积案"):
        flagging.backlog_flag(case=case, by=people.supervisor, reason="再次")


@pytest.mark.parametrize("who", ["clerk", "officer", "outsider", "admin"])
def test_only_supervisors_and_heads_flag(county, people, now, who):
    case = accepted_case(county, people, NOW - dt.timedelta(days=10))
    with pytest.raises(PermissionDenied):
        flagging.backlog_flag(case=case, by=getattr(people, who), reason="理由")


def test_head_of_the_handling_unit_may_flag(county, people, now):
    case = accepted_case(county, people, NOW - dt.timedelta(days=10))
    assert flagging.backlog_flag(case=case, by=people.head, reason="本单位难以化解").pk


def test_closed_backlog_reopens_when_the_matter_is_raised_again(county, people, now, backlog):
    planning.plan_save(
        backlog=backlog,
        by=people.supervisor,
        lead_unit=county.hr,
        path="补发工资",
        plan_date=NOW.date() - dt.timedelta(days=1),
    )
    planning.plan_mark_executed(backlog=backlog, by=people.supervisor, on=NOW.date())
    services.acceptance_record(
        backlog=backlog,
        by=people.supervisor,
        on=NOW.date(),
        kind="signed_statement",
        note="签字承诺息诉罢访",
        evidence=evidence(),
    )
    services.backlog_close(backlog=backlog, by=people.supervisor)
    assert backlog.status == Status.CLOSED
    repeat(county, people, backlog.case, NOW)
    backlog.refresh_from_db()
    assert backlog.status == Status.REOPENED and backlog.reopen_count == 1
    assert (
        backlog.closed_at is None
        and backlog.acceptance_on is None
        and not backlog.acceptance_evidence
    )
    event = BacklogEvent.objects.get(backlog=backlog, kind="backlog.reopened")
    assert event.details["previous"]["acceptance_kind"] == "signed_statement"
    # Reopened means closing needs a fresh acceptance.
    with pytest.raises(ValidationError, match="尚未记录息诉罢访"):
        services.backlog_close(backlog=backlog, by=people.supervisor)


def test_a_repeat_on_an_open_backlog_case_changes_nothing(county, people, now, backlog):
    repeat(county, people, backlog.case, NOW)
    backlog.refresh_from_db()
    assert backlog.status == Status.OPEN and backlog.reopen_count == 0


def test_routing_updates_the_backlog_unit(county, people, now):
    case = register(county, people.clerk, NOW - dt.timedelta(days=100))
    flagging.backlog_scan()
    backlog = BacklogCase.objects.get(case=case)
    assert backlog.unit == county.office
    from xinfang.cases import services as case_services

    case_services.case_route(case=case, by=people.clerk, unit=county.edu, at=NOW)
    backlog.refresh_from_db()
    assert backlog.unit == county.edu
    assert BacklogUnit.objects.filter(backlog=backlog, unit=county.edu).exists()
