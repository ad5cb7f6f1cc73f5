"""机构改革: a unit moves with its whole subtree, through one service, and the move is recorded.

Before the service, saving a unit with a new parent rewrote only that unit's `path`; its
sub-units kept the old prefix, so the new superior's head lost sight of their matters and a
sub-unit moved under an accused unit still saw the complainant.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.signals import request_started
from django.db import close_old_connections
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.urls import reverse

from tests.factories import PASSWORD, bj, make_user, register
from xinfang.cases import access, services
from xinfang.cases.models import Case, Kind
from xinfang.orgs import rulecache
from xinfang.orgs.models import Role, Unit, UnitMove
from xinfang.orgs.selectors import subtree_ids
from xinfang.orgs.services import unit_move


def a_request_starts():
    """What a request does first here; as Django's test client does, without closing the
    test's database connection."""
    request_started.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
    finally:
        request_started.connect(close_old_connections)


def _unit(name, code, parent, kind=Unit.Kind.OTHER):
    return Unit.objects.create(
        name=name, code=code, parent=parent, level=Unit.Level.COUNTY, kind=kind
    )


@pytest.fixture
def tree(county):
    """教育局 ─ 实验小学 ─ 实验小学分校: three levels that move together."""
    branch = _unit("实验小学东湖分校", "XX430102F", county.school, Unit.Kind.SCHOOL)
    social = _unit("A1区社会事业局", "SY430102", county.county, Unit.Kind.DEPARTMENT)
    return branch, social


def _fresh(*units):
    return [Unit.objects.get(pk=u.pk) for u in units]


def test_a_move_rewrites_the_path_of_every_descendant(county, people, tree):
    branch, social = tree
    edu, school = county.edu, county.school
    old_path = edu.path
    move = unit_move(
        unit=edu, new_parent=social, by=people.admin, reason="机构改革：教育局并入社会事业局"
    )

    edu, school, branch, social = _fresh(edu, school, branch, social)
    assert edu.parent_id == social.pk
    assert edu.path == f"{social.path}{edu.pk}/"
    assert school.path == f"{edu.path}{school.pk}/"
    assert branch.path == f"{school.path}{branch.pk}/"
    assert branch.parent_id == school.pk  # the subtree keeps its shape
    # Units outside the subtree are untouched.
    assert Unit.objects.get(pk=county.hr.pk).path == county.hr.path
    assert (move.unit, move.old_parent, move.new_parent, move.by) == (
        edu,
        county.county,
        social,
        people.admin,
    )
    assert (
        move.old_path == old_path and move.new_path == edu.path == county.edu.path
    )  # the caller's copy too
    assert move.reason == "机构改革：教育局并入社会事业局"
    assert UnitMove.objects.count() == 1


def test_the_path_update_is_one_statement(county, people, tree, django_assert_max_num_queries):
    _branch, social = tree
    extra = [_unit(f"教育局下属单位{i}", f"JYX{i}", county.edu) for i in range(5)]
    with django_assert_max_num_queries(8) as queries:
        unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="机构改革")
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    path_updates = [sql for sql in updates if '"path"' in sql]
    assert len(path_updates) == 1, updates
    social = Unit.objects.get(pk=social.pk)
    for u in extra:
        assert Unit.objects.get(pk=u.pk).path.startswith(social.path)


def test_the_head_of_the_moved_subtree_still_sees_a_sub_sub_units_matters(county, people, tree):
    branch, social = tree
    edu_head = make_user("edu_head", county.edu, Role.HEAD)
    social_head = make_user("social_head", social, Role.HEAD)
    case = register(county, people.clerk, bj(2026, 11, 2, 9), category=county.schooling)
    services.case_route(case=case, by=people.clerk, unit=branch)
    assert access.visible_cases(edu_head).filter(pk=case.pk).exists()
    assert not access.visible_cases(social_head).filter(pk=case.pk).exists()

    unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="机构改革")

    edu_head = type(edu_head).objects.get(pk=edu_head.pk)
    social_head = type(social_head).objects.get(pk=social_head.pk)
    assert access.visible_cases(edu_head).filter(pk=case.pk).exists()
    assert access.visible_cases(social_head).filter(pk=case.pk).exists()
    assert branch.pk in subtree_ids(social)
    # The county supervisor above both still sees it; the old parent's other children do not.
    assert access.visible_cases(people.supervisor).filter(pk=case.pk).exists()
    assert not access.visible_cases(people.head).filter(pk=case.pk).exists()


def _accusation(county, people, accused, handled_by):
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="反映某单位乱收费",
        content="某单位违规收取费用。",
        accused_unit=accused,
    )
    # However the matter came to sit with a unit of the accused subtree (a legacy import, a
    # manual fix), its people may see the matter but never its author.
    Case.objects.filter(pk=case.pk).update(lead_unit=handled_by)
    return Case.objects.get(pk=case.pk)


def test_a_report_against_the_moved_parent_stays_hidden_from_its_descendants(county, people, tree):
    branch, social = tree
    branch_head = make_user("branch_head", branch, Role.HEAD)
    school_officer = make_user("school_officer", county.school, Role.OFFICER)
    case = _accusation(county, people, accused=county.edu, handled_by=branch)

    unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="机构改革")

    case = Case.objects.get(pk=case.pk)
    for user in (branch_head, school_officer):
        user = type(user).objects.select_related("unit").get(pk=user.pk)
        assert access.in_accused_unit(user, case)
        assert access.can_see_petitioner(user, case) is False
    branch_head = type(branch_head).objects.get(pk=branch_head.pk)
    assert access.can_view(branch_head, case)  # the matter, yes; its author, no


def test_a_subtree_moved_under_the_accused_unit_loses_sight_of_the_complainant(
    county, people, tree
):
    """The defect: the sub-units kept their old path, so the accused-unit check missed them."""
    branch, _social = tree
    branch_head = make_user("branch_head", branch, Role.HEAD)
    case = _accusation(county, people, accused=county.housing, handled_by=branch)
    assert access.can_see_petitioner(branch_head, case)

    unit_move(
        unit=county.edu,
        new_parent=county.housing,
        by=people.admin,
        reason="机构改革：教育局划归住建局",
    )

    branch_head = type(branch_head).objects.select_related("unit").get(pk=branch_head.pk)
    case = Case.objects.get(pk=case.pk)
    assert access.in_accused_unit(branch_head, case)
    assert access.can_see_petitioner(branch_head, case) is False


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_a_unit_cannot_move_under_itself_or_its_own_descendant(county, people, tree, target):
    branch, _social = tree
    new_parent = {"itself": county.edu, "child": county.school, "grandchild": branch}[target]
    before = dict(Unit.objects.values_list("pk", "path"))
    with pytest.raises(ValidationError) as exc:
        unit_move(unit=county.edu, new_parent=new_parent, by=people.admin, reason="误操作")
    assert "下级" in exc.value.messages[0] or "自身" in exc.value.messages[0]
    assert dict(Unit.objects.values_list("pk", "path")) == before
    assert not UnitMove.objects.exists()


def test_a_move_needs_a_reason_and_a_new_parent(county, people, tree):
    _branch, social = tree
    with pytest.raises(ValidationError, match="理由"):
        unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="  ")
    with pytest.raises(ValidationError, match="原上级"):
        unit_move(unit=county.edu, new_parent=county.county, by=people.admin, reason="机构改革")
    assert not UnitMove.objects.exists()


def test_a_unit_can_become_a_top_level_unit(county, people, tree):
    branch, _social = tree
    unit_move(unit=county.edu, new_parent=None, by=people.admin, reason="改为省直管")
    edu, branch = _fresh(county.edu, branch)
    assert edu.parent_id is None and edu.path == f"/{edu.pk}/"
    assert branch.path == f"/{edu.pk}/{county.school.pk}/{branch.pk}/"


def test_saving_a_unit_never_changes_its_parent_behind_the_services_back(county, tree):
    branch, social = tree
    edu = Unit.objects.get(pk=county.edu.pk)
    edu.parent = social
    with pytest.raises(ValidationError, match="调整上级单位"):
        edu.save()
    assert Unit.objects.get(pk=edu.pk).parent_id == county.county.pk
    # Other fields save as before, and a new unit still gets its path on create.
    edu = Unit.objects.get(pk=county.edu.pk)
    edu.name = "A1区教育和体育局"
    edu.save()
    assert Unit.objects.get(pk=edu.pk).name == "A1区教育和体育局"
    new = _unit("新设单位", "XS1", branch)
    assert new.path == f"{Unit.objects.get(pk=branch.pk).path}{new.pk}/"


def test_saving_a_stale_copy_does_not_write_back_an_old_path(county, people, tree):
    branch, social = tree
    stale = Unit.objects.get(pk=branch.pk)  # loaded before the move
    unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="机构改革")
    stale.name = "东湖分校"
    stale.save()
    fresh = Unit.objects.get(pk=branch.pk)
    assert fresh.name == "东湖分校"
    assert fresh.path.startswith(Unit.objects.get(pk=social.pk).path)
    assert stale.path == fresh.path


def test_a_stale_process_sees_a_move_made_by_another_process(county, people, tree):
    """This process holds the head's subtree in its local cache. Another process moves 教育局:
    the rows change and it publishes a new version in the shared cache, but nothing clears this
    process's local copy. The next request here must still see the new tree."""
    branch, social = tree
    social_head = make_user("social_head", social, Role.HEAD)
    assert branch.pk not in access.scope_unit_ids(social_head)  # now cached here

    old, new = county.edu.path, f"{social.path}{county.edu.pk}/"
    Unit.objects.filter(pk=county.edu.pk).update(parent=social)  # no signal reaches this process
    Unit.objects.filter(path__startswith=old).update(
        path=Concat(Value(new), Substr("path", len(old) + 1))
    )
    assert branch.pk not in access.scope_unit_ids(social_head)  # the local copy is stale

    cache.set(rulecache.version_key(rulecache.UNITS), "published-by-another-process", None)
    a_request_starts()  # this process's next request
    assert branch.pk in access.scope_unit_ids(social_head)


def test_a_move_publishes_a_new_version_when_it_commits(
    county, people, tree, django_capture_on_commit_callbacks
):
    _branch, social = tree
    token = rulecache.shared_version(rulecache.UNITS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        unit_move(unit=county.edu, new_parent=social, by=people.admin, reason="机构改革")
        assert rulecache.shared_version(rulecache.UNITS) == token  # not before the commit
    for callback in callbacks:
        callback()
    assert rulecache.shared_version(rulecache.UNITS) != token  # published for the others


# ---------------------------------------------------------------- the admin


def _admin(client, people):
    assert client.login(username=people.admin.username, password=PASSWORD)
    return client


def test_the_admin_shows_the_parent_read_only_on_change(client, county, people):
    page = _admin(client, people).get(reverse("admin:orgs_unit_change", args=[county.edu.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="parent"' not in html
    assert "调整上级单位（机构改革）" in html
    add = client.get(reverse("admin:orgs_unit_add"))
    assert 'name="parent"' in add.content.decode()  # a new unit still chooses its parent


def test_a_parent_posted_to_the_change_form_is_ignored(client, county, people, tree):
    _branch, social = tree
    edu = county.edu
    data = {
        "name": edu.name,
        "code": edu.code,
        "level": edu.level,
        "kind": edu.kind,
        "parent": social.pk,
        "place": "",
    }
    response = _admin(client, people).post(reverse("admin:orgs_unit_change", args=[edu.pk]), data)
    assert response.status_code == 302
    assert Unit.objects.get(pk=edu.pk).parent_id == county.county.pk


def test_the_admin_moves_a_unit_through_the_service(client, county, people, tree):
    branch, social = tree
    url = reverse("admin:orgs_unit_move", args=[county.edu.pk])
    page = _admin(client, people).get(url)
    assert page.status_code == 200
    assert "调整上级单位（机构改革）" in page.content.decode()
    response = client.post(
        url, {"new_parent": social.pk, "reason": "机构改革：教育局并入社会事业局"}
    )
    assert response.status_code == 302
    branch = Unit.objects.get(pk=branch.pk)
    assert branch.path.startswith(Unit.objects.get(pk=social.pk).path)
    move = UnitMove.objects.get()
    assert move.by == people.admin and move.new_parent == social
    assert client.get(reverse("admin:orgs_unitmove_changelist")).status_code == 200


def test_the_admin_refuses_a_cycle_with_a_message_not_an_error_page(client, county, people, tree):
    branch, _social = tree
    url = reverse("admin:orgs_unit_move", args=[county.edu.pk])
    page = _admin(client, people).get(url).content.decode()
    assert f'value="{branch.pk}"' not in page  # its own sub-units are not offered
    assert f'value="{county.edu.pk}"' not in page and f'value="{county.school.pk}"' not in page
    response = client.post(url, {"new_parent": branch.pk, "reason": "误操作"})
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    # What the service refuses comes back as a message on the form too.
    response = client.post(url, {"new_parent": county.county.pk, "reason": "误操作"})
    assert response.status_code == 200
    assert "新的上级单位与原上级单位相同" in response.content.decode()
    assert Unit.objects.get(pk=county.edu.pk).parent_id == county.county.pk
    assert not UnitMove.objects.exists()
    for bad in ({"new_parent": "abc", "reason": "x"}, {"reason": ""}, {}):
        assert client.post(url, bad).status_code == 200
    assert client.get(reverse("admin:orgs_unit_move", args=[999999])).status_code in (302, 404)


def test_the_admin_action_opens_the_move_page_for_one_unit(client, county, people):
    response = _admin(client, people).post(
        reverse("admin:orgs_unit_changelist"),
        {"action": "move_unit", "_selected_action": [county.edu.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orgs_unit_move", args=[county.edu.pk])
    two = client.post(
        reverse("admin:orgs_unit_changelist"),
        {"action": "move_unit", "_selected_action": [county.edu.pk, county.hr.pk]},
        follow=True,
    )
    assert two.status_code == 200
    assert "一次只能调整一个单位" in two.content.decode()


def test_only_staff_with_change_rights_may_move(client, county, people, tree):
    _branch, social = tree
    assert client.login(username=people.supervisor.username, password=PASSWORD)
    response = client.post(
        reverse("admin:orgs_unit_move", args=[county.edu.pk]),
        {"new_parent": social.pk, "reason": "x"},
    )
    assert response.status_code in (302, 403)
    assert Unit.objects.get(pk=county.edu.pk).parent_id == county.county.pk
