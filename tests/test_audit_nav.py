"""The staff navigation links to 个人信息查看记录 (/ops/audit/) for those allowed to read it,
and only for them (issue 12 leftovers: before, no page linked to it)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_user
from xinfang.orgs.models import Role

LINK = 'href="/ops/audit/"'


def test_administrators_see_the_link(client, people):
    client.force_login(people.admin)
    page = client.get(reverse("cases:queue")).content.decode()
    assert LINK in page and "个人信息查看记录" in page
    assert client.get("/ops/audit/").status_code == 200


def test_a_superuser_sees_the_link(client, county):
    root = make_user("root", county.office, Role.CLERK, is_superuser=True, is_staff=True)
    client.force_login(root)
    assert LINK in client.get(reverse("cases:queue")).content.decode()


@pytest.mark.parametrize("who", ["clerk", "officer", "head", "supervisor"])
def test_others_do_not(client, people, who):
    client.force_login(getattr(people, who))
    page = client.get(reverse("cases:queue")).content.decode()
    assert LINK not in page
    assert client.get("/ops/audit/").status_code == 403
