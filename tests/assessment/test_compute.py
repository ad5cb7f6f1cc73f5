"""The hand-worked quarter of conftest.py: exact scores, deductions, credits and ranking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.assessment.conftest import NOW, Q1
from xinfang.assessment import selectors, services
from xinfang.assessment.items import ITEMS
from xinfang.assessment.models import Assessment, Scheme


def _lines(assessment):
    return {line.unit.name: line for line in assessment.lines.select_related("unit")}


def _items(line) -> dict[str, tuple[int, float]]:
    return {i["item"]: (i["count"], i["amount"]) for i in line.breakdown["items"]}


def test_scores_deductions_and_ranking_as_worked_by_hand(county, people, scheme, quarter):
    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    lines = _lines(a)
    hr, edu = lines[county.hr.name], lines[county.edu.name]
    assert hr.indicator_score == Decimal("80.00")
    assert {
        i["rate"]: (i["numerator"], i["denominator"], i["score"])
        for i in hr.breakdown["indicators"]
    } == {"complete_on_time": (2, 2, 60.0), "satisfaction": (1, 2, 20.0)}
    assert {k: v for k, v in _items(hr).items() if v[0]} == {
        "overdue_open": (1, 2.0),
        "extension": (1, 0.5),
        "review_changed": (1, 2.0),
        "urge_ignored": (1, 1.0),
        "supervision_ignored": (1, 3.0),
    }  # 4 points, capped at 3
    assert (hr.deductions, hr.credits, hr.total, hr.rank) == (Decimal("8.5"), 0, Decimal("71.5"), 1)
    assert edu.indicator_score == Decimal("70.00")
    assert {k: v for k, v in _items(edu).items() if v[0]} == {
        "objection_rejected": (1, 3.0),
        "overdue_reply": (1, 1.0),
        "backlog_cleared": (1, 5.0),
    }
    assert (edu.deductions, edu.credits, edu.total, edu.rank) == (
        Decimal(4),
        Decimal(5),
        Decimal(71),
        2,
    )
    others = [line for name, line in lines.items() if name not in {county.hr.name, county.edu.name}]
    assert {line.unit.name for line in others} == {
        county.office.name,
        county.county.name,
        county.housing.name,
        county.school.name,
        county.town.name,
    }
    assert all(not line.has_data and line.rank is None and line.total is None for line in others)
    ordered = list(a.lines.order_by("pk").values_list("unit__name", flat=True))
    assert ordered[:2] == [county.hr.name, county.edu.name]  # ranked first, then 无数据


def test_the_accountability_record_counts_what_the_assessment_deducts(
    county, people, scheme, quarter
):
    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    for line in a.lines.select_related("unit"):
        rec = selectors.record(
            people.supervisor, line.unit, Q1, urge_days=scheme.urge_response_days, now=NOW
        )
        counts = {item.name: count for item, count, rows in rec}
        assert counts == {i["item"]: i["count"] for i in line.breakdown["items"]}, line.unit.name
        for _item, count, rows in rec:
            assert len(rows) == count and all(
                r.case is not None for r in rows
            )  # the supervisor sees all
    hr_rec = {
        item.name: rows
        for item, _n, rows in selectors.record(people.supervisor, county.hr, Q1, now=NOW)
    }
    assert [r.case.pk for r in hr_rec["overdue_open"]] == [quarter["a3"].pk]
    assert [r.case.pk for r in hr_rec["review_changed"]] == [quarter["a2"].pk]


def test_a_unit_sees_only_its_own_matters_on_its_record(county, people, scheme, quarter):
    rec = selectors.record(people.officer, county.hr, Q1, now=NOW)
    assert {item.name: n for item, n, _ in rec}["overdue_open"] == 1
    assert selectors.record_units(people.officer) == [county.hr]


def test_the_default_scheme_is_100_points_of_rates_and_never_about_petitioners(db):
    scheme = Scheme.objects.get(active=True)
    assert sum(i.weight for i in scheme.indicators.all()) == 100
    assert {a.item for a in scheme.adjustments.all()} == {i.name for i in ITEMS}
    words = " ".join([scheme.description, *(i.definition for i in ITEMS)])
    assert "越级" not in words and "信访人" not in words


def test_recompute_until_published_then_a_new_draft(county, people, scheme, quarter):
    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    a = services.assessment_review(people.supervisor, a)
    a = services.assessment_recompute(people.supervisor, a, now=NOW)
    assert a.status == Assessment.Status.DRAFT and a.reviewed_by is None
    services.assessment_review(people.supervisor, a)
    a = services.assessment_publish(people.supervisor, a)
    assert (a.status, a.published_by, a.reviewed_by) == (
        "published",
        people.supervisor,
        people.supervisor,
    )
    before = list(a.lines.values_list("unit_id", "total", "rank"))
    scheme.indicators.filter(rate="satisfaction").update(weight=0)
    new = services.assessment_recompute(people.supervisor, a, now=NOW)
    assert new.pk != a.pk and new.status == "draft" and new.supersedes_id == a.pk
    assert list(a.lines.values_list("unit_id", "total", "rank")) == before  # frozen
    assert new.lines.get(unit=county.edu).total != a.lines.get(unit=county.edu).total


def test_publish_needs_review_and_a_supervisor(county, people, scheme, quarter):
    from django.core.exceptions import PermissionDenied, ValidationError

    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    with pytest.raises(ValidationError):
        services.assessment_publish(people.supervisor, a)
    for user in (people.clerk, people.officer, people.head):
        with pytest.raises(PermissionDenied):
            services.assessment_review(user, a)
        with pytest.raises(PermissionDenied):
            services.assessment_compute(user, scheme, Q1, now=NOW)
    assert selectors.assessment_for_user(people.officer, a.pk) is None  # a draft: not for units
    services.assessment_review(people.supervisor, a)
    with pytest.raises(PermissionDenied):
        services.assessment_publish(people.head, a)
    services.assessment_publish(people.supervisor, a)
    assert selectors.assessment_for_user(people.officer, a.pk) is not None
    shown = {line.unit_id: open_ for line, open_ in selectors.lines_for_user(people.officer, a)}
    assert shown[county.hr.pk] is True and shown[county.edu.pk] is False


def test_equal_totals_share_a_rank_and_no_data_is_never_ranked(county):
    from xinfang.assessment.selectors import Line

    def line(unit, total):
        return Line(
            unit, has_data=total is not None, total=None if total is None else Decimal(total)
        )

    ranked = selectors.rank(
        [
            line(county.hr, "90"),
            line(county.edu, "95"),
            line(county.town, "90"),
            line(county.housing, None),
            line(county.school, "80"),
        ]
    )
    assert [(x.unit, x.rank) for x in ranked] == [
        (county.edu, 1),
        (county.hr, 2),
        (county.town, 2),
        (county.school, 4),
        (county.housing, None),
    ]
