"""A head's subtree is cached, and the cache follows changes to the unit tree."""

from tests.factories import bj, register
from xinfang.cases import access, services
from xinfang.orgs.models import Unit


def test_a_unit_added_below_the_head_is_in_scope_at_once(county, people, django_assert_max_num_queries):
    before = access.scope_unit_ids(people.head)
    with django_assert_max_num_queries(0):
        assert access.scope_unit_ids(people.head) == before  # cached: no query
    office = Unit.objects.create(name="人社局劳动监察大队", code="JC430102", parent=county.hr,
                                 level=Unit.Level.COUNTY, kind=Unit.Kind.DEPARTMENT)
    assert office.pk in access.scope_unit_ids(people.head)
    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    services.case_route(case=case, by=people.clerk, unit=office)
    assert access.visible_cases(people.head).filter(pk=case.pk).exists()
