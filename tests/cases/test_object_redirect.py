"""After 异议退回 the officer goes back to the queue with the confirmation, not to a 404."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tests.factories import register
from xinfang.cases import services


def test_after_an_objection_the_officer_lands_on_the_queue(client, county, people):
    case = register(county, people.clerk, timezone.now())
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    client.force_login(people.officer)
    response = client.post(
        reverse("cases:act", args=[case.pk, "object"]),
        {"object-reason": "不属于本单位职责", "version": case.version},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("cases:queue")
    assert "已完成：异议退回" in response.content.decode()


def test_after_another_action_the_user_stays_on_the_matter(client, county, people):
    case = register(county, people.clerk, timezone.now())
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    client.force_login(people.officer)
    response = client.post(
        reverse("cases:act", args=[case.pk, "accept"]), {"version": case.version}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "cases:detail", args=[case.pk]
    )
