"""督查督办 as a supervisor tries it: urging reaches the unit, a supervision order runs its whole
course (issue → feedback → close; late → escalated by the worker), only those entitled act, and
co-handlers answer the lead unit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.factories import bj, make_user, register
from xinfang.cases import services
from xinfang.cases.models import CaseEvent, Kind
from xinfang.notify.models import Outbox
from xinfang.orgs.models import Role
from xinfang.supervision import services as sup
from xinfang.supervision.models import CoHandlerOpinion, SupervisionOrder

NAME = "张三"  # the petitioner of `register`: never in a staff message


@pytest.fixture
def matter(county, people):
    for user, email in (
        (people.officer, "officer@hr.example"),
        (people.head, "head@hr.example"),
        (people.supervisor, "sup@county.example"),
        (people.outsider, "edu@edu.example"),
    ):
        user.email = email
        user.save(update_fields=["email"])
    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    case = services.case_route(
        case=case, by=people.clerk, unit=county.hr, co_units=[county.edu], at=bj(2026, 11, 2, 10)
    )
    return services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 3, 9))


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


# ---------------------------------------------------------------- 催办


def test_an_urge_messages_the_unit_holding_the_clock_and_marks_its_queue(client, matter, people):
    services.case_urge(case=matter, by=people.supervisor, note="请于本周内答复")
    sent = Outbox.objects.filter(kind="supervision.urged")
    assert {m.recipient for m in sent} == {"officer@hr.example", "head@hr.example"}
    assert all(m.unit_id == matter.lead_unit_id and m.case_id == matter.pk for m in sent)
    assert all(
        matter.number in m.body and "请于本周内答复" in m.body and NAME not in m.body for m in sent
    )
    services.case_urge(case=matter, by=people.supervisor, note="再次催办")
    client.force_login(people.officer)
    page = client.get(reverse("cases:queue")).content.decode()
    assert "被催办 2次" in page


def test_a_matter_never_urged_has_no_marker(client, matter, people):
    client.force_login(people.officer)
    assert "被催办" not in client.get(reverse("cases:queue")).content.decode()


# ---------------------------------------------------------------- 督办单


def test_an_order_is_issued_answered_and_closed_each_step_on_the_timeline(matter, people, county):
    # 2026-11-07 is a Saturday: the deadline moves to Monday the 9th, and says so
    order = sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="查明欠薪数额，书面反馈",
        deadline_date=bj(2026, 11, 7).date(),
        at=bj(2026, 11, 4, 9),
    )
    assert order.unit == county.hr  # the lead unit by default
    assert order.deadline == bj(2026, 11, 10, 0) and "顺延至2026年11月9日" in order.deadline_note
    issued = Outbox.objects.filter(kind="supervision.issued")
    assert {m.recipient for m in issued} == {"officer@hr.example", "head@hr.example"}
    assert all(NAME not in m.body for m in issued)

    sup.order_feedback(
        order=order, by=people.officer, text="已核实欠薪两万元，督促公司支付", at=bj(2026, 11, 6, 9)
    )
    order.refresh_from_db()
    assert order.status == SupervisionOrder.Status.ANSWERED and order.feedback_by == people.officer
    assert Outbox.objects.filter(
        kind="supervision.feedback", recipient="sup@county.example"
    ).exists()

    sup.order_close(
        order=order,
        by=people.supervisor,
        accept=True,
        note="反馈属实，办结",
        at=bj(2026, 11, 6, 15),
    )
    order.refresh_from_db()
    assert order.status == SupervisionOrder.Status.CLOSED and order.close_note == "反馈属实，办结"
    events = CaseEvent.objects.filter(case=matter, kind__startswith="supervision.")
    assert [e.kind for e in events] == [
        "supervision.issued",
        "supervision.feedback",
        "supervision.closed",
    ]
    assert not any(e.public for e in events)
    assert events[1].details["on_time"] is True


def test_a_feedback_sent_back_is_answered_again_by_the_new_deadline(matter, people):
    order = sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="核实",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    sup.order_feedback(order=order, by=people.head, text="已办", at=bj(2026, 11, 5, 9))
    with pytest.raises(ValidationError):  # a new deadline is required to send it back
        sup.order_close(
            order=order,
            by=people.supervisor,
            accept=False,
            note="反馈过于简略",
            at=bj(2026, 11, 5, 10),
        )
    sup.order_close(
        order=order,
        by=people.supervisor,
        accept=False,
        note="反馈过于简略",
        deadline_date=bj(2026, 11, 12).date(),
        at=bj(2026, 11, 5, 10),
    )
    order.refresh_from_db()
    assert order.status == SupervisionOrder.Status.OPEN and order.redo_count == 1
    assert order.deadline == bj(2026, 11, 13, 0)
    assert Outbox.objects.filter(kind="supervision.redo", recipient="officer@hr.example").exists()
    sup.order_feedback(
        order=order, by=people.officer, text="补充：已支付一万元", at=bj(2026, 11, 11, 9)
    )
    assert "supervision.redo" in kinds(matter)


def test_a_late_feedback_is_escalated_once_by_the_worker(matter, people):
    order = sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="核实",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    assert sup.escalate_overdue(now=bj(2026, 11, 9, 23, 59)) == 0  # the last day runs to 24:00
    assert sup.escalate_overdue(now=bj(2026, 11, 10, 0, 5)) == 1
    assert sup.escalate_overdue(now=bj(2026, 11, 10, 0, 10)) == 0  # once
    order.refresh_from_db()
    assert (
        order.escalated_at == bj(2026, 11, 10, 0, 5)
        and order.status == SupervisionOrder.Status.OPEN
    )
    told = {m.recipient for m in Outbox.objects.filter(kind="supervision.escalated")}
    assert told == {"sup@county.example", "head@hr.example"}  # the supervisor and the unit head
    assert "supervision.escalated" in kinds(matter)
    sup.order_feedback(order=order, by=people.officer, text="迟到的反馈", at=bj(2026, 11, 11, 9))
    late = CaseEvent.objects.get(case=matter, kind="supervision.feedback")
    assert late.details["on_time"] is False


def test_the_worker_escalates_late_orders(matter, people):
    from django.core.management import call_command

    sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="核实",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    call_command("worker", "--once")
    assert SupervisionOrder.objects.get().escalated_at is not None  # the deadline has long passed


# ---------------------------------------------------------------- who may act


def test_only_the_supervised_unit_answers(matter, people, county):
    order = sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="核实",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    for user in (people.outsider, people.accused_officer, people.clerk, people.supervisor):
        with pytest.raises(PermissionDenied):
            sup.order_feedback(order=order, by=user, text="代为反馈", at=bj(2026, 11, 5, 9))
    with pytest.raises(PermissionDenied):  # nor does the unit close its own order
        sup.order_close(order=order, by=people.head, accept=True, note="好", at=bj(2026, 11, 5, 9))
    assert SupervisionOrder.objects.get().status == SupervisionOrder.Status.OPEN


def test_a_supervisor_outside_the_matters_scope_cannot_issue(matter, county):
    town_supervisor = make_user("townsup", county.town, Role.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        sup.order_issue(
            case=matter,
            by=town_supervisor,
            requirements="核实",
            deadline_date=bj(2026, 11, 9).date(),
            at=bj(2026, 11, 4, 9),
        )
    assert not SupervisionOrder.objects.exists()


def test_an_order_never_goes_to_the_unit_a_report_accuses(county, people):
    report = register(
        county, people.clerk, bj(2026, 11, 2, 9), kind=Kind.ACCUSATION, accused_unit=county.housing
    )
    report = services.case_route(
        case=report, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10)
    )
    assert sup.supervisable_units(report) == [county.hr]
    with pytest.raises(ValidationError):
        sup.order_issue(
            case=report,
            by=people.supervisor,
            requirements="核实",
            unit=county.housing,
            deadline_date=bj(2026, 11, 9).date(),
            at=bj(2026, 11, 4, 9),
        )


def test_pages_the_supervisor_and_the_unit_use(client, matter, people, county):
    client.force_login(people.supervisor)
    page = client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    assert "下达督办单" in page
    response = client.post(
        reverse("supervision:issue", args=[matter.pk]),
        {"unit": county.hr.pk, "requirements": "请书面反馈欠薪处理进展", "deadline": "2030-01-05"},
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get()
    assert "顺延" in order.deadline_note  # 2030-01-05 is a Saturday
    assert "请书面反馈欠薪处理进展" in client.get(reverse("supervision:orders")).content.decode()

    client.force_login(people.accused_officer)  # another unit: the order is not there
    assert client.get(reverse("supervision:order", args=[order.pk])).status_code == 404
    assert (
        client.post(reverse("supervision:feedback", args=[order.pk]), {"feedback": "x"}).status_code
        == 404
    )
    client.force_login(
        people.outsider
    )  # a co-handler sees the matter but does not answer for the lead
    assert client.post(
        reverse("supervision:feedback", args=[order.pk]), {"feedback": "x"}
    ).status_code in {403, 404}

    client.force_login(people.officer)
    listing = client.get(reverse("supervision:orders")).content.decode()
    assert matter.number in listing
    assert "提交反馈" in client.get(reverse("supervision:order", args=[order.pk])).content.decode()
    client.post(reverse("supervision:feedback", args=[order.pk]), {"feedback": "已督促企业支付"})
    client.force_login(people.supervisor)
    client.post(
        reverse("supervision:close", args=[order.pk]), {"decision": "close", "note": "办结"}
    )
    order.refresh_from_db()
    assert order.feedback == "已督促企业支付" and order.status == SupervisionOrder.Status.CLOSED
    assert (
        matter.number in client.get(reverse("supervision:orders") + "?tab=closed").content.decode()
    )


# ---------------------------------------------------------------- 协办


def test_a_co_handler_answers_and_the_lead_unit_sees_it(client, matter, people):
    client.force_login(people.officer)
    page = client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    assert "A1区教育局" in page and "未回复" in page
    assert "填报协办意见" not in page  # the lead unit does not answer itself

    client.force_login(people.outsider)  # 教育局, the co-handler
    assert "填报协办意见" in client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    client.post(
        reverse("supervision:opinion", args=[matter.pk]),
        {"text": "经核查，涉事企业无教育类资质问题"},
    )
    assert CoHandlerOpinion.objects.get().unit == people.outsider.unit
    assert "cohandling.opinion" in kinds(matter)
    assert Outbox.objects.filter(kind="cohandling.opinion", recipient="officer@hr.example").exists()

    client.force_login(people.officer)
    page = client.get(reverse("cases:detail", args=[matter.pk])).content.decode()
    assert "已回复" in page and "经核查，涉事企业无教育类资质问题" in page


def test_only_a_co_handler_of_an_accepted_matter_gives_an_opinion(matter, people, county):
    for user in (people.officer, people.accused_officer, people.supervisor):
        with pytest.raises(PermissionDenied):
            sup.opinion_add(case=matter, by=user, text="意见")
    replied = services.case_reply(
        case=matter, by=people.officer, outcome="supported", text="已支付", at=bj(2026, 11, 20, 9)
    )
    with pytest.raises(ValidationError):
        sup.opinion_add(case=replied, by=people.outsider, text="迟到的意见")


# ---------------------------------------------------------------- inputs and cost


def test_a_deadline_years_ahead_is_refused_not_a_server_error(client, matter, people, county):
    client.force_login(people.supervisor)
    response = client.post(
        reverse("supervision:issue", args=[matter.pk]),
        {"unit": county.hr.pk, "requirements": "核实", "deadline": "9999-12-31"},
        follow=True,
    )
    assert response.status_code == 200 and "反馈期限不能晚于五年后" in response.content.decode()
    assert not SupervisionOrder.objects.exists()

    order = sup.order_issue(
        case=matter,
        by=people.supervisor,
        requirements="核实",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    sup.order_feedback(order=order, by=people.officer, text="已办", at=bj(2026, 11, 5, 9))
    response = client.post(
        reverse("supervision:close", args=[order.pk]),
        {"decision": "redo", "note": "重办", "deadline": "9999-12-31"},
        follow=True,
    )
    assert response.status_code == 200 and "反馈期限不能晚于五年后" in response.content.decode()
    order.refresh_from_db()
    assert order.status == SupervisionOrder.Status.ANSWERED and order.redo_count == 0


def test_the_case_page_costs_the_same_whatever_the_number_of_orders(client, matter, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("cases:detail", args=[matter.pk]))
        return len(queries)

    def answered_order() -> None:
        order = sup.order_issue(
            case=matter,
            by=people.supervisor,
            requirements="核实",
            deadline_date=bj(2026, 11, 9).date(),
            at=bj(2026, 11, 4, 9),
        )
        sup.order_feedback(order=order, by=people.officer, text="已办", at=bj(2026, 11, 5, 9))

    client.force_login(
        people.supervisor
    )  # reviews each answered order: `may_close` reads its matter
    answered_order()
    one = cost()
    for _ in range(4):
        answered_order()
    assert cost() == one
