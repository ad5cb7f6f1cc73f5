"""Issue 9's findings 1-4, 7 and 11, one story each: a complainant never reaches the accused.

The accused here is the housing bureau (住建局); its officer (`accused_officer`) handles an
ordinary matter of the same person, so it may open that matter but must never learn about the
report. Each test failed before the fix it names.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from docx import Document

from tests.factories import PASSWORD, VALID_ID, VALID_PHONE, bj, make_user, petitioner, register
from xinfang.cases import access, notices, services
from xinfang.cases.models import Case, CaseEvent, Kind, State
from xinfang.cases.workflow import TransitionNotAllowed
from xinfang.orgs.models import PersonalDataView, Role

REPORTER = {"name": "王举报", "phone": "13900001111", "id_number": VALID_ID}


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs) + json.dumps(
        [doc.core_properties.author, doc.core_properties.title], ensure_ascii=False
    )


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def report(county, people):
    """A report against the petition office itself, accepted by 人社局 (notices exist)."""
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="反映信访局工作人员推诿",
        content="信访局某工作人员多次推诿。",
        accused_unit=county.office,
        petitioner=petitioner(**REPORTER),
    )
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    return services.case_accept(case=case, by=people.officer)


# ---------------------------------------------------------------- 1. Word notices


def test_a_notice_downloaded_by_the_accused_office_is_addressed_to_a_confidential_petitioner(
    client, people, report
):
    _login(client, people.clerk)  # the office is accused, and its clerk may open the matter
    response = client.get(reverse("cases:notice", args=[report.pk, "accept"]))
    assert response.status_code == 200
    text = _docx_text(response.content)
    assert "王举报" not in text and "13900001111" not in text
    assert "信访人（保密）" in text
    _login(client, people.officer)  # the handling unit may see who it is writing to
    assert "王举报" in _docx_text(
        client.get(reverse("cases:notice", args=[report.pk, "accept"])).content
    )


def test_the_petitioner_gets_their_own_name_on_the_portal_notice(report):
    assert "王举报" in _docx_text(
        notices.render_notice(report, "accept", viewer=notices.PETITIONER)
    )


def test_a_supervisor_inside_the_accused_subtree_gets_the_confidential_notice(county, people):
    case = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="反映区政府",
        content="区政府某部门违规。",
        accused_unit=county.county,
        petitioner=petitioner(**REPORTER),
    )
    case = services.case_route(case=case, by=people.clerk, unit=county.city)
    case = services.case_accept(case=case, by=make_user("cityofficer", county.city, Role.OFFICER))
    assert access.can_view(people.supervisor, case)  # county supervisor sees the subtree
    text = _docx_text(notices.render_notice(case, "accept", viewer=people.supervisor))
    assert "王举报" not in text and "信访人（保密）" in text


# ---------------------------------------------------------------- 2. same-person lists, suggest


def test_the_same_person_box_never_lists_a_report_against_the_viewers_unit(client, county, people):
    reporter = petitioner(**REPORTER)
    ordinary = register(county, people.clerk, bj(2026, 11, 2, 9), petitioner=reporter)
    services.case_route(case=ordinary, by=people.clerk, unit=county.housing)
    accusation = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="举报住建局",
        content="住建局某科长收受好处。",
        accused_unit=county.housing,
        petitioner=reporter,
    )
    _login(client, people.accused_officer)
    page = client.get(reverse("cases:detail", args=[ordinary.pk])).content.decode()
    assert "王举报" in page  # an ordinary matter: the handling unit sees its petitioner
    assert accusation.number not in page and "举报住建局" not in page
    _login(client, people.clerk)  # the office (not accused) sees both side by side
    assert (
        accusation.number
        in client.get(reverse("cases:detail", args=[ordinary.pk])).content.decode()
    )


def test_suggest_is_no_identity_oracle(client, county, people):
    register(county, people.clerk, bj(2026, 11, 2, 9), petitioner=petitioner(**REPORTER))
    body = {"title": "拖欠工资", "content": "公司拖欠工资", "petitioner_phone": "13900001111"}
    _login(client, people.officer)  # not a registering clerk: no same-person look-up at all
    found = client.post(
        reverse("routing:suggest"), json.dumps(body), content_type="application/json"
    )
    assert found.json()["same_petitioner"] == []
    assert not PersonalDataView.objects.exists()
    _login(client, people.clerk)
    found = client.post(
        reverse("routing:suggest"), json.dumps(body), content_type="application/json"
    )
    assert len(found.json()["same_petitioner"]) == 1
    view = PersonalDataView.objects.get()  # and the look-up is audited
    assert view.user == people.clerk and view.purpose == "same_petitioner"


# ---------------------------------------------------------------- 3. accused unit not recorded


def test_the_staff_form_requires_the_accused_unit_of_a_report(client, county, people):
    _login(client, people.clerk)
    data = {
        "channel": "visit",
        "kind": Kind.ACCUSATION,
        "title": "举报",
        "content": "举报某单位",
        "place": county.place.pk,
        "petitioner_name": "王举报",
        "petitioner_phone": "13900001111",
        "group_size": 1,
    }
    response = client.post(reverse("cases:register"), data)
    assert "须填写被反映单位" in response.content.decode()
    assert not Case.objects.exists()
    client.post(
        reverse("cases:register"),
        {**data, "accused_unit": county.housing.pk, "other_accused_units": [county.edu.pk]},
    )
    case = Case.objects.get()
    assert case.accused_unit == county.housing and not case.accused_pending
    assert access.accused_unit_ids(case) == {county.housing.pk, county.edu.pk}
    with pytest.raises(ValidationError):  # several accused units: routing to any of them is 回避
        services.case_route(case=case, by=people.clerk, unit=county.school)


@pytest.fixture
def pending(county, people):
    """A report from a channel that cannot record the accused unit (portal, reception, Open311)."""
    return register(
        county,
        None,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="举报住建局",
        content="住建局某科长收受好处。",
        petitioner=petitioner(**REPORTER),
        no_accused_unit=False,
    )


def test_a_pending_report_cannot_be_routed_and_only_the_office_clerk_sees_its_petitioner(
    county, people, pending
):
    assert pending.accused_pending
    with pytest.raises(TransitionNotAllowed, match="被反映单位待确定"):
        services.case_route(case=pending, by=people.clerk, unit=county.housing)
    assert "route" not in access.allowed_actions(people.clerk, pending)
    assert access.can_see_petitioner(people.clerk, pending)
    for user in (people.supervisor, people.admin):
        assert not access.can_see_petitioner(user, pending)


def test_the_clerk_records_then_corrects_the_accused_units_as_events(
    client, county, people, pending
):
    _login(client, people.clerk)
    client.post(reverse("cases:record_accused", args=[pending.pk]), {"units": [county.housing.pk]})
    pending.refresh_from_db()
    assert not pending.accused_pending and pending.accused_unit == county.housing
    with pytest.raises(ValidationError):  # now it can be routed, but never to the accused
        services.case_route(case=pending, by=people.clerk, unit=county.housing)
    response = client.post(
        reverse("cases:record_accused", args=[pending.pk]), {"units": [county.edu.pk]}, follow=True
    )
    assert "须说明理由" in response.content.decode()
    client.post(
        reverse("cases:record_accused", args=[pending.pk]),
        {
            "units": [county.edu.pk, county.housing.pk],
            "person": "李科长",
            "reason": "信访人补充材料",
        },
    )
    pending.refresh_from_db()
    assert access.accused_unit_ids(pending) == {county.edu.pk, county.housing.pk}
    events = list(
        CaseEvent.objects.filter(case=pending, kind="case.accused_recorded").order_by("id")
    )
    assert len(events) == 2 and not any(e.public for e in events)
    assert events[1].details["before"] == [county.housing.name]
    assert (
        events[1].details["reason"] == "信访人补充材料" and events[1].details["person"] == "李科长"
    )


def test_only_the_registering_office_records_accused_units(county, people, pending):
    with pytest.raises(TransitionNotAllowed):
        services.case_record_accused(case=pending, by=people.officer, units=[county.housing])


def test_the_portal_registers_a_report_as_pending(client, county, people, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.XINFANG_SMS_BACKEND = "memory"
    response = client.post(
        "/portal/submit/",
        {
            "kind": Kind.ACCUSATION,
            "title": "举报住建局",
            "content": "住建局某科长收受好处，请查处。",
            "place": county.town_place.pk,
            "name": "王举报",
            "phone": "13900001111",
            "consent": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get()
    assert case.accused_pending
    assert not access.can_see_petitioner(people.supervisor, case)


# ---------------------------------------------------------------- 4. 并单 and 回避


def test_a_report_cannot_be_merged_into_a_matter_the_accused_unit_handles(county, people):
    handled = register(county, people.clerk, bj(2026, 11, 2, 9))
    handled = services.case_route(case=handled, by=people.clerk, unit=county.housing)
    accusation = register(
        county,
        people.clerk,
        bj(2026, 11, 3, 9),
        kind=Kind.ACCUSATION,
        title="举报住建局",
        content="住建局某科长收受好处。",
        accused_unit=county.housing,
        petitioner=petitioner(**REPORTER),
    )
    with pytest.raises(TransitionNotAllowed, match="回避"):
        services.case_merge(case=accusation, into=handled, by=people.clerk)
    with pytest.raises(TransitionNotAllowed, match="回避"):
        services.case_merge(case=handled, into=accusation, by=people.clerk)
    accusation.refresh_from_db()
    assert accusation.state == State.REGISTERED


# ---------------------------------------------------------------- 7. numbers out of scope


@pytest.fixture
def elsewhere(county, people):
    """A matter of another office, which the clerk may not see."""
    from xinfang.orgs.models import Unit

    other = Unit.objects.create(
        name="B区信访局",
        code="XF430103",
        parent=county.city,
        level=county.office.level,
        kind=county.office.kind,
        place=county.place,
    )
    case = register(county, None, bj(2026, 11, 1, 9), office=other, title="B区的事项")
    return case


def test_repeat_of_an_invisible_matter_is_refused_neutrally_and_writes_nothing(
    client, county, people, elsewhere
):
    _login(client, people.clerk)
    response = client.post(
        reverse("cases:register"),
        {
            "channel": "visit",
            "kind": "appeal",
            "title": "再次反映",
            "content": "同一事项",
            "place": county.place.pk,
            "petitioner_name": "张三",
            "petitioner_phone": VALID_PHONE,
            "group_size": 1,
            "repeat_of": elsewhere.number,
        },
    )
    text = response.content.decode()
    assert access.NOT_FOUND in text and elsewhere.title not in text and "已登记" not in text
    elsewhere.refresh_from_db()
    assert elsewhere.repeat_count == 0
    assert not CaseEvent.objects.filter(case=elsewhere, kind="case.repeat_received").exists()
    with pytest.raises(ValidationError):
        services.case_register(
            services.Registration(
                office=county.office,
                channel="visit",
                kind="appeal",
                title="t",
                content="c",
                place=county.place,
                petitioner=petitioner(),
                repeat_of=elsewhere,
            ),
            by=people.clerk,
        )


def test_prior_of_an_invisible_matter_is_refused_neutrally(client, county, people, elsewhere):
    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    _login(client, people.clerk)
    response = client.post(
        reverse("cases:act", args=[case.pk, "not_accept_again"]),
        {
            "not_accept_again-prior": elsewhere.number,
            "not_accept_again-reason": "同一事实",
            "version": case.version,
        },
        follow=True,
    )
    text = response.content.decode()
    assert access.NOT_FOUND in text and elsewhere.title not in text
    case.refresh_from_db()
    assert case.state == State.REGISTERED and case.linked_to is None
    with pytest.raises(ValidationError):
        services.case_not_accept_again(case=case, by=people.clerk, prior=elsewhere)


# ---------------------------------------------------------------- 11. reveal by POST only


def test_full_numbers_only_after_a_post_with_a_reason(client, county, people):
    case = register(county, people.clerk, bj(2026, 11, 2, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    _login(client, people.officer)
    page = client.get(reverse("cases:detail", args=[case.pk]), {"reveal": "1"}).content.decode()
    assert VALID_ID not in page and VALID_PHONE not in page and "138****5678" in page
    assert not PersonalDataView.objects.exists()
    assert client.get(reverse("cases:reveal", args=[case.pk])).status_code == 405
    client.post(reverse("cases:reveal", args=[case.pk]), {"reason": " "})
    assert not PersonalDataView.objects.exists()
    shown = client.post(
        reverse("cases:reveal", args=[case.pk]), {"reason": "电话回访核实"}
    ).content.decode()
    assert VALID_ID in shown and VALID_PHONE in shown
    view = PersonalDataView.objects.get()
    assert (view.user, view.case, view.reason) == (people.officer, case, "电话回访核实")


def test_a_report_imported_without_its_accused_unit_waits_for_the_clerk(county, people):
    from xinfang.cases import bulk

    row = bulk.Row(
        channel="letter",
        kind=Kind.ACCUSATION,
        title="举报",
        content="举报某单位",
        place_id=county.place.pk,
        registered_at=bj(2026, 11, 2, 9),
        petitioner=petitioner(**REPORTER),
    )
    named = bulk.Row(
        channel="letter",
        kind=Kind.ACCUSATION,
        title="举报住建局",
        content="举报住建局",
        place_id=county.place.pk,
        registered_at=bj(2026, 11, 2, 9),
        petitioner=petitioner(**REPORTER),
        accused_unit_id=county.housing.pk,
    )
    prepare = bulk.Preparer()
    bulk.register_prepared(
        office=county.office, by=people.clerk, rows=[prepare(row), prepare(named)]
    )
    by_title = {c.title: c for c in Case.objects.all()}
    assert by_title["举报"].accused_pending and not by_title["举报住建局"].accused_pending


def test_a_queue_of_reports_costs_no_query_per_row(
    client, county, people, django_assert_max_num_queries
):
    for day in range(1, 21):
        case = register(
            county,
            people.clerk,
            bj(2026, 10, day, 9),
            kind=Kind.ACCUSATION,
            title=f"举报{day}",
            content="举报住建局",
            accused_unit=county.housing,
            other_accused_units=[county.town],
            petitioner=petitioner(**REPORTER),
        )
        services.case_route(case=case, by=people.clerk, unit=county.hr)
    _login(client, people.officer)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("cases:queue"))
    assert response.content.decode().count("王举报") == 20


def test_the_api_records_accused_units_for_the_registering_office_only(
    client, county, people, pending
):
    from xinfang.api.services import api_token_issue

    def post(user, body):
        token = api_token_issue(user=user, name="t")
        return client.post(
            f"/api/cases/{pending.pk}/accused",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert post(people.supervisor, {"units": [county.housing.pk]}).status_code == 403
    assert post(people.clerk, {"units": []}).status_code == 422
    assert post(people.clerk, {"units": [999999]}).status_code == 422
    body = post(
        people.clerk, {"units": [county.housing.pk, county.edu.pk], "person": "李科长"}
    ).json()
    assert body["accused_pending"] is False
    assert [u["id"] for u in body["accused_units"]] == [county.housing.pk, county.edu.pk]
    assert "route" in body["allowed_actions"]


def test_a_correction_from_a_stale_page_is_refused(client, county, people, pending):
    _login(client, people.clerk)
    stale = pending.version
    client.post(
        reverse("cases:record_accused", args=[pending.pk]),
        {"units": [county.housing.pk], "version": stale},
    )
    response = client.post(
        reverse("cases:record_accused", args=[pending.pk]),
        {"units": [county.edu.pk], "reason": "补充", "version": stale},
        follow=True,
    )
    assert "已被他人修改" in response.content.decode()
    pending.refresh_from_db()
    assert access.accused_unit_ids(pending) == {county.housing.pk}
