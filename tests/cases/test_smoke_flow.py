"""A matter's whole life, end to end, through the service functions."""

from tests.factories import bj, register
from xinfang.cases import services
from xinfang.cases.models import CaseEvent, Outcome, Rating, State


def test_a_matter_runs_from_registration_to_final(county, people):
    case = register(county, people.clerk, bj(2026, 9, 16, 10))
    assert case.state == State.REGISTERED
    # 15 calendar days from 16 Sept end on 1 Oct, a holiday, so on 8 Oct at 24:00.
    assert case.due_at == bj(2026, 10, 9)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
    assert case.state == State.ROUTED and case.lead_unit == county.hr
    # 5 working days from 30 Sept: 8, 9, 10 (swapped Saturday), 12, 13 Oct.
    assert case.object_due_at == bj(2026, 10, 14)
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 10, 9, 9))
    assert case.state == State.ACCEPTED
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="已责成公司支付。",
        at=bj(2026, 11, 1, 9),
    )
    case = services.case_rate(
        case=case, by=people.clerk, rating=Rating.UNSATISFIED, at=bj(2026, 11, 2, 9)
    )
    case = services.case_request_review(
        case=case, by=people.clerk, reason="金额不对", at=bj(2026, 11, 3, 9)
    )
    assert case.state == State.REVIEWING and case.review_unit == county.county
    case = services.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.SUPPORTED,
        text="维持",
        at=bj(2026, 11, 10, 9),
    )
    case = services.case_request_rereview(
        case=case, by=people.clerk, reason="仍不服", at=bj(2026, 11, 12, 9)
    )
    assert case.rereview_unit == county.city
    case = services.case_decide_rereview(
        case=case,
        by=people.rereviewer,
        outcome=Outcome.SUPPORTED,
        text="维持",
        at=bj(2026, 11, 20, 9),
    )
    assert case.state == State.FINAL and case.due_at is None
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == [
        "case.registered",
        "case.routed",
        "case.accepted",
        "case.replied",
        "case.rated",
        "case.review_requested",
        "case.review_decided",
        "case.rereview_requested",
        "case.rereview_decided",
    ]
