"""销号 only with the plan carried out and the acceptance documented; the Word progress report."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from docx import Document

from tests.backlog.conftest import NOW, evidence
from tests.factories import PASSWORD
from xinfang.backlog import methods, planning, services
from xinfang.backlog.models import BacklogCase, Status

TODAY = NOW.date()


def _ready(backlog, people, county):
    planning.plan_save(
        backlog=backlog,
        by=people.supervisor,
        lead_unit=county.hr,
        path="补发工资",
        plan_date=TODAY - dt.timedelta(days=10),
    )
    planning.plan_mark_executed(backlog=backlog, by=people.supervisor, on=TODAY)
    services.acceptance_record(
        backlog=backlog,
        by=people.supervisor,
        on=TODAY,
        kind="signed_statement",
        note="信访人签字承诺息诉罢访",
        evidence=evidence(),
    )


def test_close_is_refused_with_the_reasons_in_chinese(county, people, backlog):
    with pytest.raises(ValidationError) as exc:
        services.backlog_close(backlog=backlog, by=people.supervisor)
    assert exc.value.messages == ["不能化解销号：尚未制定化解方案；尚未记录息诉罢访及佐证材料。"]
    planning.plan_save(
        backlog=backlog, by=people.supervisor, lead_unit=county.hr, path="补发工资", plan_date=TODAY
    )
    with pytest.raises(ValidationError, match="化解方案（第1版）尚未标记落实"):
        services.backlog_close(backlog=backlog, by=people.supervisor)
    planning.plan_mark_executed(backlog=backlog, by=people.supervisor, on=TODAY)
    with pytest.raises(ValidationError, match="尚未记录息诉罢访"):
        services.backlog_close(backlog=backlog, by=people.supervisor)
    assert BacklogCase.objects.get().status == Status.OPEN


def test_acceptance_needs_evidence(county, people, backlog):
    with pytest.raises(ValidationError, match="佐证材料"):
        services.acceptance_record(
            backlog=backlog,
            by=people.supervisor,
            on=TODAY,
            kind="signed_statement",
            note="",
            evidence=None,
        )
    with pytest.raises(ValidationError):
        services.acceptance_record(
            backlog=backlog,
            by=people.supervisor,
            on=TODAY,
            kind="reply_record",
            note="",
            evidence=evidence("virus.exe"),
        )


def test_a_new_plan_version_must_be_executed_again(county, people, backlog):
    _ready(backlog, people, county)
    planning.plan_save(
        backlog=backlog, by=people.supervisor, lead_unit=county.hr, path="调整方案", plan_date=TODAY
    )
    with pytest.raises(ValidationError, match="第2版"):
        services.backlog_close(backlog=backlog, by=people.supervisor)


def test_close_allowed_when_carried_out_and_accepted(county, people, backlog):
    _ready(backlog, people, county)
    with pytest.raises(PermissionDenied):
        services.backlog_close(backlog=backlog, by=people.officer)
    services.backlog_close(backlog=backlog, by=people.supervisor)
    backlog.refresh_from_db()
    assert (
        backlog.status == Status.CLOSED
        and backlog.closed_at == NOW
        and backlog.closed_by == people.supervisor
    )
    with pytest.raises(ValidationError, match="已化解销号"):
        planning.plan_save(backlog=backlog, by=people.supervisor, lead_unit=county.hr, path="x")


def test_owner_who_is_a_leader_may_close_outside_scope(county, people, backlog, town_head):
    services.backlog_assign_owner(backlog=backlog, by=people.supervisor, owner=town_head)
    _ready(backlog, people, county)
    services.backlog_close(backlog=backlog, by=town_head)
    assert backlog.status == Status.CLOSED


def test_word_report_opens_and_names_the_case(client, county, people, backlog):
    _ready(backlog, people, county)
    methods.hearing_record(
        backlog=backlog,
        by=people.supervisor,
        held_on=TODAY,
        place="听证室",
        participants=[("deputy", "李代表")],
        minutes="记录",
        findings="合理",
        decision="支持",
    )
    client.login(username="supervisor", password=PASSWORD)
    response = client.get(f"/backlog/{backlog.pk}/report.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    doc = Document(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "信访积案化解工作进展报告" in text
    assert backlog.case.number in text
    assert "息诉罢访" in text and "李代表" in cells and "补发工资" in cells


def test_outsider_gets_no_report(client, county, people, backlog):
    client.login(username="outsider", password=PASSWORD)
    assert client.get(f"/backlog/{backlog.pk}/report.docx").status_code == 404
