"""Suggestions on the case page: shown to the routing clerk, taken with a click, recorded, reported."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services
from xinfang.routing import selectors
from xinfang.routing.models import RoutingSuggestion

WAGES = {"title": "反映拖欠工资问题", "content": "工地老板拖欠工资三个月，工人讨薪无门。"}


def panel(client, case):
    """The routing panel of the case page, as the page's script fetches it."""
    return client.get(reverse("routing:case_panel", args=[case.pk]) + "?fragment=1")


def show(client, case):
    """The panel on screen: fetched, then the script's POST that records what was shown."""
    page = panel(client, case)
    found = page.context["routing"]["suggestions"]
    response = client.post(
        reverse("routing:shown", args=[case.pk]), {"version": found.model_version}
    )
    assert response.status_code == 200
    return page


@pytest.fixture
def clerk_client(client, people):
    assert client.login(username=people.clerk.username, password=PASSWORD)
    return client


def test_the_clerk_sees_three_suggestions_with_the_unit_of_the_catalogue(
    with_model, county, people, clerk_client, building
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    page = panel(clerk_client, case)
    assert not RoutingSuggestion.objects.exists()  # a GET writes nothing
    show(clerk_client, case)
    panel_ = page.context["routing"]["suggestions"]
    assert panel_.items[0].label == "劳动和社会保障"
    assert len(panel_.items) == 3
    top = panel_.items[0]
    assert top.subcategory == county.wages and top.unit == county.hr  # via the dispatch catalogue
    html = page.content.decode()
    assert "智能分派建议" in html and "A1区人力资源和社会保障局" in html
    row = RoutingSuggestion.objects.get(case=case)
    assert row.model_version == "test-model-1" and row.decided_at is None
    assert [s["label"] for s in row.suggestions] == [s.label for s in panel_.items]
    # shown again: still one record
    show(clerk_client, case)
    assert RoutingSuggestion.objects.filter(case=case).count() == 1


def test_taking_a_suggestion_records_the_choice_and_routing_settles_it(
    with_model, county, people, clerk_client
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    show(clerk_client, case)
    response = clerk_client.post(
        reverse("routing:take", args=[case.pk]), {"label": "劳动和社会保障"}
    )
    assert response.status_code == 200
    assert response.json()["unit_id"] == county.hr.pk
    row = RoutingSuggestion.objects.get(case=case)
    assert row.clicked_label == "劳动和社会保障" and row.taken_top1 and row.taken_top3
    assert row.decided_by == people.clerk and row.chosen_unit == county.hr

    services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    row.refresh_from_db()
    assert row.chosen_label == "劳动和社会保障" and row.taken_top1
    assert row.decided_at == bj(2026, 11, 2, 10)


def test_routing_elsewhere_records_the_clerks_own_choice(with_model, county, people, clerk_client):
    case = register(county, people.clerk, bj(2026, 11, 3, 9), category=county.schooling, **WAGES)
    show(clerk_client, case)
    services.case_route(case=case, by=people.clerk, unit=county.edu, at=bj(2026, 11, 3, 10))
    row = RoutingSuggestion.objects.get(case=case)
    assert row.chosen_unit == county.edu
    assert row.chosen_label == "教育文体"  # the category's top level, as no suggestion named 教育局
    assert row.taken_top3 and not row.taken_top1  # 教育文体 was among the three, not first
    assert row.decided_by == people.clerk


def test_the_monthly_report_counts_how_often_the_suggestion_was_taken(
    with_model, county, people, clerk_client
):
    for day, unit in ((2, county.hr), (3, county.hr), (4, county.edu)):
        case = register(county, people.clerk, bj(2026, 11, day, 9), category=None, **WAGES)
        show(clerk_client, case)
        services.case_route(case=case, by=people.clerk, unit=unit, at=bj(2026, 11, day, 10))
    report = selectors.suggestion_report("2026-11")
    assert report["decided"] == 3 and report["taken_top1"] == 2
    assert report["taken_top1_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert selectors.suggestion_report("2026-10")["decided"] == 0
    page = clerk_client.get(reverse("routing:report") + "?month=2026-11")
    assert "采纳首选建议" in page.content.decode() and page.context["report"]["taken_top1"] == 2
    assert (
        clerk_client.get(reverse("routing:report") + "?month=2026-11&format=json").json()["decided"]
        == 3
    )


def test_without_a_model_the_page_shows_no_suggestions_and_says_how_to_train(
    no_model, county, people, clerk_client
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), **WAGES)
    page = panel(clerk_client, case)
    assert page.status_code == 200
    assert page.context["routing"]["suggestions"] is None
    assert "xinfang routing train" in page.content.decode()
    assert not RoutingSuggestion.objects.exists()


def test_only_the_routing_clerk_gets_suggestions(with_model, county, people, client):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), **WAGES)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    assert client.login(username=people.officer.username, password=PASSWORD)
    page = panel(client, case)
    assert (
        page.context["routing"]["suggestions"] is None
        and "智能分派建议" not in page.content.decode()
    )
    assert (
        client.post(
            reverse("routing:take", args=[case.pk]), {"label": "劳动和社会保障"}
        ).status_code
        == 403
    )
    shown = client.post(reverse("routing:shown", args=[case.pk]), {"version": "test-model-1"})
    assert shown.status_code == 403 and not RoutingSuggestion.objects.exists()


def test_the_registration_form_endpoint_suggests_categories(
    with_model, county, people, clerk_client
):
    response = clerk_client.post(reverse("routing:suggest"), {**WAGES, "place": county.place.pk})
    body = response.json()
    assert body["suggestions"][0]["label"] == "劳动和社会保障"
    assert body["suggestions"][0]["subcategory_id"] == county.wages.pk
    assert body["suggestions"][0]["unit"] == "A1区人力资源和社会保障局"
    assert "建议分类" in clerk_client.get(reverse("cases:register")).content.decode()


def test_the_case_page_loads_the_panel_from_routing_and_links_it_without_javascript(
    with_model, county, people, clerk_client
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    html = clerk_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    url = reverse("routing:case_panel", args=[case.pk])
    assert f'data-src="{url}?fragment=1"' in html and f'<a href="{url}">' in html
    assert "routing/case_panel.js" in html and not RoutingSuggestion.objects.exists()
    fragment = panel(clerk_client, case).content.decode()
    assert "智能分派建议" in fragment and "<html" not in fragment
    whole = clerk_client.get(url).content.decode()  # JavaScript off: a page of its own
    assert "<html" in whole and "智能分派建议" in whole and "返回事项页" in whole


def test_a_stale_model_version_is_not_recorded_as_shown(with_model, county, people, clerk_client):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    response = clerk_client.post(reverse("routing:shown", args=[case.pk]), {"version": "old"})
    assert response.status_code == 409 and "刷新" in response.json()["error"]
    assert not RoutingSuggestion.objects.exists()


def test_taking_records_the_suggestions_shown_even_without_the_shown_post(
    with_model, county, people, clerk_client
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    response = clerk_client.post(
        reverse("routing:take", args=[case.pk]), {"label": "劳动和社会保障"}
    )
    assert response.status_code == 200
    assert RoutingSuggestion.objects.get(case=case).clicked_label == "劳动和社会保障"


def test_adopting_a_suggestion_saves_the_category_with_the_route_for_training(
    with_model, county, people, clerk_client
):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=None, **WAGES)
    show(clerk_client, case)
    taken = clerk_client.post(reverse("routing:take", args=[case.pk]), {"label": "劳动和社会保障"})
    assert taken.json()["category_id"] == county.wages.pk  # what the page's script fills in
    page = clerk_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="id_route-category"' in page  # the route form asks for the category
    response = clerk_client.post(
        reverse("cases:act", args=[case.pk, "route"]),
        {
            "route-unit": taken.json()["unit_id"],
            "route-mode": "transfer",
            "route-category": taken.json()["category_id"],
            "version": case.version,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "routed" and case.category == county.wages
    assert (case.title, case.content, "劳动和社会保障") in selectors.training_rows()
    page = clerk_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "劳动和社会保障/拖欠工资" in page  # 事项分类 on the case page


def test_a_route_without_a_category_keeps_the_one_the_matter_has(with_model, county, people):
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=county.wages, **WAGES)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    assert case.category == county.wages
