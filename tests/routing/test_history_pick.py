"""Sub-category and unit from the routes of similar matters the office confirmed (历史派单)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, bj, register
from xinfang.cases import services
from xinfang.cases.models import Case, Kind
from xinfang.orgs.models import Category, DispatchRule, Place, Unit
from xinfang.routing import engine, history

SMOKE = [
    ("东湖路烧烤店油烟扰民", "东湖路一家烧烤店每晚油烟很大，熏得楼上居民无法开窗，请求处理。"),
    ("东湖路烧烤店油烟扰民严重", "东湖路烧烤店每天晚上排放油烟，楼上居民无法开窗通风，请求处理。"),
    ("投诉东湖路烧烤店油烟扰民", "东湖路一家烧烤店油烟很大，熏得居民无法开窗，希望有关部门处理。"),
]
NEW = ("东湖路烧烤店油烟扰民", "东湖路烧烤店晚上油烟很大，熏得楼上居民无法开窗，请求尽快处理。")


@dataclass
class Town:
    top: Category
    property_mgmt: Category  # 物业管理: the catalogue's first line under 城乡建设
    smoke: Category  # 餐饮油烟: where the office files these matters
    street_office: Unit  # 东湖街道办事处: where the catalogue sends 城乡建设 in 东湖街道
    urban: Unit  # 城市管理局: where the office actually sends them
    ecology: Unit
    west_place: Place  # a sibling street (not in 东湖街道's chain)
    west_office: Unit


@pytest.fixture
def town(county):
    top = Category.objects.create(code="CX", name="城乡建设")
    property_mgmt = Category.objects.create(code="CX01", name="物业管理", parent=top)
    smoke = Category.objects.create(code="CX03", name="餐饮油烟", parent=top)
    K, L = Unit.Kind, Unit.Level

    def unit(name, code, place, level=L.COUNTY):
        kind = K.TOWN if level == L.TOWN else K.DEPARTMENT
        return Unit.objects.create(
            name=name, code=code, parent=county.county, level=level, kind=kind, place=place
        )

    urban = unit("A1区城市管理局", "CG430102", county.place)
    ecology = unit("A1区生态环境分局", "HB430102", county.place)
    west_place = Place.objects.create(code="430102002", name="西湖街道", parent=county.place)
    west_office = unit("西湖街道办事处", "JD430102002", west_place, L.TOWN)
    DispatchRule.objects.create(category=property_mgmt, place=None, unit=county.housing)
    DispatchRule.objects.create(category=property_mgmt, place=county.town_place, unit=county.town)
    DispatchRule.objects.create(category=smoke, place=None, unit=urban)
    return Town(top, property_mgmt, smoke, county.town, urban, ecology, west_place, west_office)


def _past(county, people, i, *, category, place, unit=None, accept=True, **kw):
    """A past matter registered on day i, routed to `unit`, accepted when `accept`."""
    title, content = SMOKE[i % len(SMOKE)]
    case = register(
        county,
        people.clerk,
        bj(2026, 10, 1 + i, 9),
        title=title,
        content=content,
        place=place,
        category=category,
        **kw,
    )
    if unit is not None:
        services.case_route(case=case, by=people.clerk, unit=unit, at=bj(2026, 10, 1 + i, 10))
        if accept:
            services.case_accept(case=case, by=None, at=bj(2026, 10, 1 + i, 11))
    return case


def _pick(county, town, place=None):
    return history.history_pick(
        title=NEW[0],
        content=NEW[1],
        place_id=(place or county.town_place).pk,
        tops=[town.top],
    ).get(town.top.pk)


class _Model:
    """The classifier's part, fixed: 城乡建设 first."""

    metadata = {"version": "stub-1"}

    def predict_top(self, title, content, k):
        return [("城乡建设", 0.9), ("劳动和社会保障", 0.06), ("教育文体", 0.04)][:k]


def _suggest(county, place=None, **kw):
    found = engine.suggest(
        title=NEW[0],
        content=NEW[1],
        place_id=(place or county.town_place).pk,
        model=_Model(),  # type: ignore[arg-type]
        **kw,
    )
    assert found is not None
    return found.items[0]


def test_history_beats_the_catalogue_when_confirmed_similar_matters_went_elsewhere(
    county, people, town
):
    for i in range(3):
        _past(county, people, i, category=town.smoke, place=county.town_place, unit=town.urban)
    # the catalogue's line for 城乡建设 in 东湖街道: 物业管理 → 街道办
    assert engine.catalogue_pick(town.top, county.town_place.pk) == (
        town.property_mgmt,
        town.street_office,
    )
    # asked for a sub-category, the catalogue gives that line (as automatic routing asks)
    assert engine.catalogue_pick(town.smoke, county.town_place.pk) == (town.smoke, town.urban)
    pick = _pick(county, town)
    assert pick is not None
    assert (pick.subcategory, pick.unit, pick.support) == (town.smoke, town.urban, 3)
    top = _suggest(county)
    assert (top.subcategory, top.unit, top.source, top.support) == (
        town.smoke,
        town.urban,
        "history",
        3,
    )
    assert top.as_dict()["basis"] == "相似事项 3 件"
    # precedents limited to what a caller passes (e.g. the matters a user may see)
    assert _suggest(county, cases=Case.objects.none()).source == "catalogue"
    assert top.as_dict()["unit_id"] == town.urban.pk and top.as_dict()["source"] == "history"
    # a label with no precedents still comes from the catalogue
    labour = engine.Suggestion("劳动和社会保障", 0.1)
    assert labour.source == "catalogue" and labour.basis == "派单目录"


def test_objected_and_unaccepted_routes_are_not_counted(county, people, town):
    for i in range(3):  # sent to 城管局, objected, then re-routed to 生态环境 who accepted
        case = _past(
            county,
            people,
            i,
            category=town.smoke,
            place=county.town_place,
            unit=town.urban,
            accept=False,
        )
        services.case_object(
            case=case, by=None, reason="不属于本单位职责", at=bj(2026, 10, 1 + i, 12)
        )
        services.case_route(
            case=case, by=people.clerk, unit=town.ecology, at=bj(2026, 10, 1 + i, 13)
        )
        services.case_accept(case=case, by=None, at=bj(2026, 10, 1 + i, 14))
    for i in range(3, 6):  # routed to 城管局 but not accepted (yet): not confirmed
        _past(
            county,
            people,
            i,
            category=town.smoke,
            place=county.town_place,
            unit=town.urban,
            accept=False,
        )
    for i in range(6, 9):  # objected and never routed again
        case = _past(
            county,
            people,
            i,
            category=town.smoke,
            place=county.town_place,
            unit=town.urban,
            accept=False,
        )
        services.case_object(
            case=case, by=None, reason="不属于本单位职责", at=bj(2026, 10, 1 + i, 12)
        )
    pick = _pick(county, town)
    assert pick is not None
    assert (pick.unit, pick.support) == (town.ecology, 3)


def test_matters_in_other_places_do_not_count(county, people, town):
    for i in range(3):  # a sibling street sends these to its own street office
        _past(county, people, i, category=town.smoke, place=town.west_place, unit=town.west_office)
    assert _pick(county, town) is None
    top = _suggest(county)
    assert (top.source, top.unit, top.support) == ("catalogue", town.street_office, 0)
    # in the sibling street itself they are the precedents
    west = _pick(county, town, place=town.west_place)
    assert west is not None and (west.unit, west.support) == (town.west_office, 3)
    # matters of the whole district (a place above 东湖街道) count
    for i in range(3, 5):
        _past(county, people, i, category=town.smoke, place=county.place, unit=town.urban)
    pick = _pick(county, town)
    assert pick is not None and (pick.unit, pick.support) == (town.urban, 2)


def test_the_nearest_place_with_enough_precedents_wins(county, people, town):
    for i in range(4):  # the district's own matters went to 城管局 …
        _past(county, people, i, category=town.smoke, place=county.place, unit=town.urban)
    for i in range(4, 6):  # … but 东湖街道's went to its street office
        _past(
            county, people, i, category=town.smoke, place=county.town_place, unit=town.street_office
        )
    pick = _pick(county, town)
    assert pick is not None and (pick.unit, pick.support) == (town.street_office, 2)


def test_too_few_precedents_fall_back_to_the_catalogue(county, people, town):
    _past(county, people, 0, category=town.smoke, place=county.town_place, unit=town.urban)
    assert _pick(county, town) is None
    top = _suggest(county)
    assert (top.subcategory, top.unit, top.source) == (
        town.property_mgmt,
        town.street_office,
        "catalogue",
    )
    # reports (举报) never vote, however many
    for i in range(1, 4):
        _past(
            county,
            people,
            i,
            category=town.smoke,
            place=county.town_place,
            unit=town.urban,
            kind=Kind.HOTLINE_REPORT,
        )
    assert _pick(county, town) is None


def test_a_held_out_month_sees_no_later_routes(county, people, town):
    for i in range(3):  # registered on 1, 2, 3 October at 9:00, accepted at 11:00
        _past(county, people, i, category=town.smoke, place=county.town_place, unit=town.urban)

    def support(before):
        found = history.history_pick(
            title=NEW[0],
            content=NEW[1],
            place_id=county.town_place.pk,
            tops=[town.top],
            before=before,
        )
        return found[town.top.pk].support if found else 0

    assert support(bj(2026, 10, 3, 0)) == 2
    assert support(bj(2026, 10, 2, 10)) == 0  # the 2nd was registered, not yet accepted
    assert support(None) == 3


def test_the_panel_shows_the_basis_and_nothing_of_other_places(
    county, people, town, client, with_model
):
    for i in range(2):
        _past(county, people, i, category=town.smoke, place=county.town_place, unit=town.urban)
    there = [
        _past(county, people, i, category=town.smoke, place=town.west_place, unit=town.west_office)
        for i in range(2, 6)
    ]
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 2, 9),
        title=NEW[0],
        content=NEW[1],
        place=county.town_place,
        category=None,
    )
    assert client.login(username=people.clerk.username, password=PASSWORD)
    page = client.get(reverse("routing:case_panel", args=[case.pk]) + "?fragment=1")
    html = page.content.decode()
    row = next(s for s in page.context["routing"]["suggestions"].items if s.label == "城乡建设")
    assert (row.unit, row.source, row.support) == (town.urban, "history", 2)
    assert "依据：相似事项 2 件" in html and "A1区城市管理局" in html
    assert "依据：派单目录" in html  # the other labels
    assert "西湖街道" not in html
    for other in there:
        assert other.number not in html
