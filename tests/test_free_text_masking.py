"""ID and phone numbers typed into a matter's title or content are masked on the queue and
the case page (`lib.masking`, as on the screening ledger) until a staff member asks to see
them with a reason (查看完整身份信息, audited).

Before: the queue and the case page showed them in full to anyone who could open the matter.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import bj, petitioner, register
from xinfang.cases import services
from xinfang.orgs.models import PersonalDataView

TYPED_ID = "110105194912310021"  # in the text, not the petitioner's own fields
TYPED_PHONE = "13987654321"
MASKED_ID, MASKED_PHONE = "11010519******0021", "139****4321"


@pytest.fixture
def case(county, people):
    made = register(
        county,
        people.clerk,
        bj(2026, 11, 2, 9),
        title=f"张三{TYPED_PHONE}反映欠薪",
        content=f"本人身份证{TYPED_ID}，电话 139-8765-4321，公司拖欠工资三个月。",
        petitioner=petitioner(),
    )
    return services.case_route(case=made, by=people.clerk, unit=county.hr)


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_queue_masks_numbers_in_titles(client, people, case):
    client.force_login(people.officer)
    page = _text(client.get(reverse("cases:queue")))
    assert case.number in page
    assert TYPED_PHONE not in page and MASKED_PHONE in page


def test_the_case_page_masks_them_in_title_and_content(client, people, case):
    client.force_login(people.officer)
    page = _text(client.get(reverse("cases:detail", args=[case.pk])))
    assert TYPED_ID not in page and TYPED_PHONE not in page and "139-8765-4321" not in page
    assert MASKED_ID in page and MASKED_PHONE in page


def test_the_reveal_shows_them_and_is_recorded(client, people, case):
    client.force_login(people.officer)
    page = _text(client.post(reverse("cases:reveal", args=[case.pk]), {"reason": "电话回访核实"}))
    assert TYPED_ID in page and TYPED_PHONE in page and "139-8765-4321" in page
    assert PersonalDataView.objects.filter(case=case, user=people.officer).exists()
    # The next plain visit masks again.
    page = _text(client.get(reverse("cases:detail", args=[case.pk])))
    assert TYPED_ID not in page
