"""The place chain a suggestion looks along: the place, then its ancestors, nearest first."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinfang.orgs.models import Place
from xinfang.routing.history import MAX_PLACE_DEPTH, place_chain


def test_nearest_first_in_one_query_whatever_else_the_table_holds(db):
    city = Place.objects.create(code="430100", name="长沙市")
    county = Place.objects.create(code="430102", name="芙蓉区", parent=city)
    town = Place.objects.create(code="430102001", name="文艺路街道", parent=county)
    Place.objects.bulk_create(  # other towns and villages: never read
        Place(code=f"430102{i:03d}", name=f"街道{i}", parent=county) for i in range(2, 60)
    )
    with CaptureQueriesContext(connection) as queries:
        assert place_chain(town.pk) == [town.pk, county.pk, city.pk]
    assert len(queries) == 1
    assert place_chain(city.pk) == [city.pk]
    assert place_chain(None) == []


def test_a_cycle_or_a_very_deep_tree_ends(db):
    a = Place.objects.create(code="1", name="甲")
    b = Place.objects.create(code="2", name="乙", parent=a)
    Place.objects.filter(pk=a.pk).update(parent=b)  # an import's mistake
    assert place_chain(b.pk) == [b.pk, a.pk]

    parent = None
    for depth in range(MAX_PLACE_DEPTH + 5):
        parent = Place.objects.create(code=f"9{depth:02d}", name=f"层{depth}", parent=parent)
    assert len(place_chain(parent.pk)) == MAX_PLACE_DEPTH + 1
