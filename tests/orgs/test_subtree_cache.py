"""A head's subtree is cached per process, and the cache follows changes to the unit tree."""

from tests.factories import bj, register
from xinfang.cases import access, services
from xinfang.orgs.models import Unit
from xinfang.orgs.selectors import subtree_ids


def test_a_unit_added_below_the_head_is_in_scope_at_once(
    county, people, django_assert_max_num_queries
):
    before = access.scope_unit_ids(people.head)
    with django_assert_max_num_queries(0):
        assert access.scope_unit_ids(people.head) == before  # cached: no query
    office = Unit.objects.create(
        name="人社局劳动监察大队",
        code="JC430102",
        parent=county.hr,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.DEPARTMENT,
    )
    assert office.pk in access.scope_unit_ids(people.head)
    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    services.case_route(case=case, by=people.clerk, unit=office)
    assert access.visible_cases(people.head).filter(pk=case.pk).exists()


def test_a_deleted_unit_leaves_the_subtree_at_once(county, people):
    office = Unit.objects.create(
        name="人社局劳动监察大队",
        code="JC430102",
        parent=county.hr,
        level=Unit.Level.COUNTY,
        kind=Unit.Kind.DEPARTMENT,
    )
    assert office.pk in subtree_ids(county.hr)
    office.delete()
    assert office.pk not in subtree_ids(county.hr)


def test_the_subtree_is_keyed_by_the_unit_not_by_a_path_held_in_memory(county):
    stale = Unit(pk=county.edu.pk, path="/no/such/path/")
    assert set(subtree_ids(stale)) == {county.edu.pk, county.school.pk}
    assert set(subtree_ids(county.edu.pk)) == {county.edu.pk, county.school.pk}
    assert subtree_ids(None) == []
