"""Dates entered by hand are last days too: one on a rest day moves to the next working day, and
the plan, the meeting's follow-up, the screening entry, the page and the Word report say so."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from docx import Document

from tests.factories import PASSWORD, bj
from xinfang.backlog import methods, planning, report, screening
from xinfang.backlog.models import FollowUpAction

D = dt.date


def test_a_plan_date_on_a_rest_day_moves_with_a_note(county, people, backlog, client):
    # NOW is 1 March 2027; 6 March 2027 is a Saturday.
    plan = planning.plan_save(
        backlog=backlog,
        by=people.supervisor,
        lead_unit=county.hr,
        path="责成用人单位补发工资",
        due_on=D(2027, 3, 6),
    )
    assert (plan.due_on, plan.due_at) == (D(2027, 3, 8), bj(2027, 3, 9))
    assert plan.due_note == "原定2027年3月6日为休息日，顺延至2027年3月8日"
    assert backlog.events.get(kind="backlog.plan_saved").details["due_note"] == plan.due_note
    client.login(username=people.supervisor.username, password=PASSWORD)
    page = client.get(reverse("backlog:detail", args=[backlog.pk])).content.decode()
    assert "2027-03-08" in page and plan.due_note in page
    out = io.BytesIO()
    report.write_report(backlog, out)
    text = "\n".join(
        c.text for t in Document(io.BytesIO(out.getvalue())).tables for r in t.rows for c in r.cells
    )
    assert "2027-03-08（原定2027年3月6日为休息日，顺延至2027年3月8日）" in text


def test_a_plan_date_on_a_working_day_is_kept_without_a_note(county, people, backlog):
    plan = planning.plan_save(
        backlog=backlog,
        by=people.supervisor,
        lead_unit=county.hr,
        path="责成用人单位补发工资",
        due_on=D(2027, 3, 5),
    )
    assert (plan.due_on, plan.due_note) == (D(2027, 3, 5), "")


def test_a_follow_up_date_on_a_holiday_moves_with_a_note(county, people, backlog):
    meeting = methods.meeting_record(
        backlog=backlog,
        by=people.supervisor,
        kind="coordination",
        held_on=D(2026, 9, 30),
        attendee_units=[county.hr],
        decisions="人社局牵头核实欠薪数额",
        actions=[methods.FollowUp("约谈企业负责人", people.head, county.hr, due_on=D(2026, 10, 3))],
    )
    action = FollowUpAction.objects.get(meeting=meeting)
    assert (action.due_on, action.due_at) == (D(2026, 10, 8), bj(2026, 10, 9))
    assert action.due_note == "原定2026年10月3日为休息日，顺延至2026年10月8日"


def test_a_screening_deadline_on_a_rest_day_moves_with_a_note(county, people):
    round_ = screening.round_create(
        by=people.clerk,
        name="2027年春节前矛盾纠纷排查",
        period_start=D(2027, 1, 4),
        period_end=D(2027, 1, 29),
    )
    data = screening.EntryData(
        issue="某小区加装电梯意见分歧", place=county.town_place, deadline=D(2027, 1, 23)
    )  # a Saturday
    entry = screening.entry_create(round_=round_, by=people.clerk, data=data)
    assert entry.deadline == D(2027, 1, 25)
    assert entry.deadline_note == "原定2027年1月23日为休息日，顺延至2027年1月25日"
