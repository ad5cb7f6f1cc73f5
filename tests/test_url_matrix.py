"""Every URL of the site × every persona, generated from the URL configuration.

`ROUTES` names each URL pattern once, with how to fill its parameters. A new page whose name is
not in `ROUTES` fails `test_every_url_pattern_has_an_entry`, so it cannot skip the matrix.
Each persona then requests every route of a small world around a report (检举控告) against the
housing bureau (住建局), handled by 人社局 with 教育局 co-handling, replied, with its notices, an
attachment, a backlog case and a reception record; and an ordinary matter of the same
complainant handled by the accused bureau. The complainant's name, phone and ID number must
appear in no body that a person of the accused unit gets, including the text inside
.docx/.xlsx downloads; no response is a 500; and who may open the report's pages is as stated.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PASSWORD, VALID_ID, bj, make_user, petitioner, register
from xinfang.api.services import api_token_issue
from xinfang.backlog import flagging as backlog_flagging
from xinfang.cases import access, services
from xinfang.cases.models import Kind, Outcome
from xinfang.orgs.models import Role

SECRET_NAME, SECRET_PHONE = "钱密告", "13955556666"
SECRETS = (SECRET_NAME, SECRET_PHONE, VALID_ID)
DOC_TYPES = ("officedocument", "zip")


def _patterns(patterns, prefix: str = "", ns: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern), p.namespace or ns)
        elif isinstance(p, URLPattern):
            yield (f"{ns}:{p.name}" if ns and p.name else p.name or prefix + str(p.pattern))


def url_names() -> set[str]:
    """Every named pattern of the site (Django's admin is one entry: it is for admins only)."""
    return {
        n for n in _patterns(get_resolver().url_patterns) if not n.startswith(("admin:", "admin/"))
    }


@dataclass
class World:
    report: object
    shared_report: object  # by a person whose ordinary matter the accused unit handles
    ordinary: object
    attachment: object
    backlog: object
    users: dict
    tokens: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """How to request one URL pattern: its kwargs from the world, GET or POST, and a body."""

    kwargs: Callable[[World], dict] = lambda w: {}
    method: str = "get"
    data: Callable[[World], dict] = lambda w: {}
    api: bool = False  # called with the persona's bearer token
    report_page: bool = False  # a page of the report itself: opened only by those who may


R = lambda w: {"pk": w.report.pk}  # noqa: E731 - a table of small lambdas reads best


def _export_job(w: World):
    """A queued export job of the supervisor's: everyone else gets 404 on its pages."""
    from xinfang.exports.models import ExportJob

    owner = w.users["supervisor"]
    return ExportJob.objects.filter(owner=owner).first() or ExportJob.objects.create(
        owner=owner, kind="ledger"
    )


ROUTES: dict[str, Route] = {
    # the pages that are not a matter's: the same rule applies (no complainant anywhere)
    "cases:queue": Route(),
    "cases:export": Route(),
    "cases:import": Route(),
    "cases:register": Route(),
    "cases:detail": Route(R, report_page=True),
    "cases:act": Route(
        lambda w: {"pk": w.report.pk, "action": "urge"},
        "post",
        lambda w: {"urge-note": "请加快办理"},
    ),
    "cases:reveal": Route(R, "post", lambda w: {"reason": "核实"}, report_page=True),
    "cases:record_accused": Route(
        R, "post", lambda w: {"units": [], "no_unit": "on", "reason": "试"}
    ),
    "cases:notice": Route(lambda w: {"pk": w.report.pk, "notice": "reply"}, report_page=True),
    "cases:attachment": Route(lambda w: {"pk": w.report.pk, "attachment_id": w.attachment.pk}),
    "cases:outcome_report": Route(R, report_page=True),
    "exports:jobs": Route(),
    "exports:detail": Route(lambda w: {"pk": _export_job(w).pk}),  # the supervisor's own job
    "exports:download": Route(lambda w: {"pk": _export_job(w).pk}),
    "exports:retry": Route(lambda w: {"pk": _export_job(w).pk}, "post"),
    "portal:home": Route(),
    "portal:submit": Route(),
    "portal:submitted": Route(),
    "portal:track": Route(),
    "portal:case": Route(),
    "portal:notice": Route(lambda w: {"slug": "reply"}),
    "portal:rate": Route(method="post"),
    "portal:review": Route(method="post"),
    "portal:rereview": Route(method="post"),
    "portal:leave": Route(method="post"),
    "notify:outbox": Route(),
    "ops:audit": Route(),  # administrators only
    "notify:mine": Route(),
    "notify:mine_read": Route(method="post", data=lambda w: {"all": "1"}),
    "backlog:board": Route(),
    "backlog:flag": Route(),
    "backlog:dashboard": Route(),
    "backlog:detail": Route(lambda w: {"pk": w.backlog.pk}),
    "backlog:act": Route(lambda w: {"pk": w.backlog.pk, "action": "note"}, "post"),
    "backlog:report": Route(lambda w: {"pk": w.backlog.pk}),
    "backlog:action_done": Route(lambda w: {"pk": 1}, "post"),
    "backlog:rounds": Route(),
    "backlog:round_template": Route(),
    "backlog:round": Route(lambda w: {"pk": 1}),
    "backlog:round_import": Route(lambda w: {"pk": 1}, "post"),
    "backlog:entry_convert": Route(lambda w: {"pk": 1}, "post"),
    "backlog:entry_backlog": Route(lambda w: {"pk": 1}, "post"),
    "backlog:entry_status": Route(lambda w: {"pk": 1}, "post"),
    "reception:rota": Route(),
    "reception:warnings": Route(),
    "reception:rota_day": Route(lambda w: {"code": w.report.office.code, "date": "2026-11-04"}),
    "reception:records": Route(),
    "reception:record_new": Route(),
    "reception:record": Route(lambda w: {"pk": 1}),
    "reception:instructions": Route(),
    "reception:instructions_overdue": Route(),
    "reception:instructions_done": Route(),
    "reception:instruction_complete": Route(lambda w: {"pk": 1}, "post"),
    "reception:slots": Route(),
    "reception:slot": Route(lambda w: {"pk": 1}),
    "reception:book": Route(),
    "reception:book_done": Route(lambda w: {"reference": "NOPE"}),
    "reception:book_cancel": Route(),
    "reception:group_visits": Route(),
    "reception:rota_ics": Route(lambda w: {"code": w.report.office.code}),
    "reception:feed_manage": Route(),
    "reception:feed": Route(lambda w: {"token": "no-such-token-" + "x" * 30}),  # 404 for everyone
    "supervision:orders": Route(),
    "supervision:order": Route(lambda w: {"pk": 1}),
    "supervision:feedback": Route(lambda w: {"pk": 1}, "post", lambda w: {"feedback": "已办理"}),
    "supervision:close": Route(
        lambda w: {"pk": 1}, "post", lambda w: {"decision": "close", "note": "同意"}
    ),
    "supervision:issue": Route(
        lambda w: {"case_pk": w.report.pk},
        "post",
        lambda w: {
            "unit": w.report.lead_unit_id,
            "requirements": "请加快办理",
            "deadline": "2027-01-04",
        },
    ),
    "supervision:opinion": Route(
        lambda w: {"case_pk": w.report.pk}, "post", lambda w: {"text": "协办意见"}
    ),
    "routing:suggest": Route(
        method="post",
        data=lambda w: {
            "title": "举报",
            "content": "举报住建局",
            "petitioner_phone": SECRET_PHONE,
            "petitioner_id_number": VALID_ID,
        },
    ),
    "routing:case_panel": Route(R, report_page=True),  # the case page's panel (a fragment)
    "routing:shown": Route(R, "post", lambda w: {"version": "test"}),
    "routing:take": Route(R, "post"),
    "routing:merge": Route(R, "post", lambda w: {"into": w.ordinary.pk}),
    "routing:report": Route(),
    "routing:hot": Route(),
    "routing:hot_export": Route(),
    "answers:case_panel": Route(R),  # 答复参考: only for those who may reply (none, once replied)
    "answers:check": Route(R, "post", lambda w: {"text": "经查，已于2026年11月1日处理完毕。"}),
    "answers:report": Route(),
    "routing:versions": Route(),  # administrators only
    "routing:version_promote": Route(method="post", data=lambda w: {"version": "no-such"}),
    "routing:version_rollback": Route(method="post", data=lambda w: {"version": "no-such"}),
    "reports:rates": Route(data=lambda w: {"from": "2026-10-01", "to": "2026-12-31"}),
    "reports:rate_matters": Route(
        data=lambda w: {
            "rate": "accept_on_time",
            "part": "denominator",
            "from": "2026-10-01",
            "to": "2026-12-31",
        }
    ),
    "reports:analysis": Route(data=lambda w: {"month": "2026-11"}),
    "reports:dashboard": Route(data=lambda w: {"from": "2026-01-01", "to": "2026-12-31"}),
    "reports:dashboard_matters": Route(
        data=lambda w: {
            "panel": "channel",
            "key": "other",
            "from": "2026-01-01",
            "to": "2026-12-31",
        }
    ),
    "assessment:list": Route(),
    "assessment:compute": Route(
        method="post", data=lambda w: {"from": "2026-10-01", "to": "2026-12-31"}
    ),
    "assessment:detail": Route(lambda w: {"pk": 1}),
    "assessment:act": Route(lambda w: {"pk": 1, "action": "review"}, "post"),
    "assessment:scheme": Route(),
    "assessment:record": Route(data=lambda w: {"from": "2026-10-01", "to": "2026-12-31"}),
    "api-openapi": Route(),
    "xinfang-api:openapi-json": Route(),
    "xinfang-api:openapi-view": Route(),
    "xinfang-api:list_cases": Route(api=True),
    "xinfang-api:register_case": Route(method="post", api=True),
    "xinfang-api:get_case": Route(lambda w: {"case_id": w.report.pk}, api=True, report_page=True),
    "xinfang-api:reveal_case": Route(
        lambda w: {"case_id": w.report.pk},
        "post",
        lambda w: {"reason": "核实"},
        api=True,
        report_page=True,
    ),
    "xinfang-api:record_accused": Route(
        lambda w: {"case_id": w.report.pk},
        "post",
        lambda w: {"no_unit": True, "reason": "试"},
        api=True,
    ),
    **{
        f"xinfang-api:case_{action}": Route(lambda w: {"case_id": w.report.pk}, "post", api=True)
        for action in (
            "route",
            "undo_auto_route",
            "object",
            "accept",
            "decline",
            "not_accept_again",
            "extend",
            "reply",
            "report",
            "rate",
            "request_review",
            "decide_review",
            "request_rereview",
            "decide_rereview",
            "pause",
            "resume",
            "urge",
        )
    },
    "open311-openapi": Route(),
    "open311-discovery": Route(lambda w: {"fmt": "json"}),
    "open311-services": Route(lambda w: {"fmt": "json"}),
    "open311-service": Route(lambda w: {"code": "LD01", "fmt": "json"}),
    "open311-requests": Route(lambda w: {"fmt": "json"}),
    "open311-request": Route(lambda w: {"request_id": w.report.number, "fmt": "json"}),
    "open311-token": Route(lambda w: {"token": "nope", "fmt": "json"}),
    "open311-not-found": Route(lambda w: {"rest": "x"}),
    "xinfang-api:api-root": Route(api=True),
    "xinfang-api:list_units": Route(api=True),
    "xinfang-api:list_categories": Route(api=True),
    "xinfang-api:list_rates": Route(
        api=True, data=lambda w: {"date_from": "2026-10-01", "date_to": "2026-12-31"}
    ),
    "xinfang-api:list_orders": Route(api=True),
    "xinfang-api:get_order": Route(lambda w: {"order_id": 1}, api=True),
    "xinfang-api:feedback_order": Route(
        lambda w: {"order_id": 1}, "post", lambda w: {"feedback": "已办理"}, api=True
    ),
    "xinfang-api:close_order": Route(
        lambda w: {"order_id": 1}, "post", lambda w: {"accept": True, "note": "同意"}, api=True
    ),
    "xinfang-api:list_assessments": Route(api=True),
    "xinfang-api:get_assessment": Route(lambda w: {"assessment_id": 1}, api=True),
    "": Route(),  # the root redirects to the queue
    "login": Route(),
    "logout": Route(method="post"),
}

# persona -> (may open the report's own pages, may see its complainant)
PERSONAS = {
    "clerk": (True, True),  # the registering office (not accused here)
    "officer": (True, True),  # the lead unit
    "head": (True, True),
    "co_handler": (True, True),  # 教育局 co-handles
    "supervisor": (True, True),  # the county, above every unit here
    "reviewer": (True, True),  # the county government reviews 人社局's decision (复查)
    "accused_officer": (False, False),  # 住建局
    "accused_head": (False, False),
    "accused_clerk": (False, False),
    "outsider": (False, False),  # 东湖街道
    "admin": (True, True),
    "anonymous": (False, False),  # a citizen without a query code
    "citizen": (False, True),  # the complainant, following the report with its query code
}
ACCUSED = {"accused_officer", "accused_head", "accused_clerk"}


def test_every_url_pattern_has_an_entry():
    missing = url_names() - set(ROUTES)
    assert not missing, (
        f"URL patterns with no persona-matrix entry (add them to ROUTES): {sorted(missing)}"
    )
    stale = set(ROUTES) - url_names() - {"logout"}
    assert not stale, f"ROUTES entries for URL patterns that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(county, people, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "routing-model.joblib")  # and its versions
    users = {
        "clerk": people.clerk,
        "officer": people.officer,
        "head": people.head,
        "co_handler": people.outsider,
        "supervisor": people.supervisor,
        "reviewer": people.reviewer,
        "accused_officer": people.accused_officer,
        "accused_head": make_user("accusedhead", county.housing, Role.HEAD),
        "accused_clerk": make_user("accusedclerk", county.housing, Role.CLERK),
        "outsider": make_user("townofficer", county.town, Role.OFFICER),
        "admin": people.admin,
    }
    secret = petitioner(name=SECRET_NAME, phone=SECRET_PHONE, id_number=VALID_ID)
    report = services.case_register(
        services.Registration(
            office=county.office,
            channel="visit",
            kind=Kind.ACCUSATION,
            title="举报住建局某科长",
            content="住建局某科长收受好处，请查处。",
            place=county.place,
            petitioner=secret,
            accused_unit=county.housing,
            attachments=[
                SimpleUploadedFile("证据.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
            ],
        ),
        by=people.clerk,
        at=bj(2026, 11, 2, 9),
    ).case
    report = services.case_route(
        case=report, by=people.clerk, unit=county.hr, co_units=[county.edu], at=bj(2026, 11, 2, 10)
    )
    report = services.case_accept(case=report, by=people.officer, at=bj(2026, 11, 3, 9))
    report = services.case_reply(
        case=report,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text="经调查，情况属实，已移交纪检部门。",
        at=bj(2026, 11, 20, 9),
    )
    report = services.case_request_review(
        case=report, by=None, reason="对处理意见不服", at=bj(2026, 11, 25, 9)
    )
    shared = petitioner(name="孙同人", phone="13711112222", id_number="")
    ordinary = register(county, people.clerk, bj(2026, 11, 4, 9), petitioner=shared)
    ordinary = services.case_route(case=ordinary, by=people.clerk, unit=county.housing)
    shared_report = register(
        county,
        people.clerk,
        bj(2026, 11, 5, 9),
        petitioner=shared,
        kind=Kind.ACCUSATION,
        title="再举报住建局",
        content="住建局拖延办理。",
        accused_unit=county.housing,
    )
    shared_report = services.case_route(case=shared_report, by=people.clerk, unit=county.hr)
    backlog = backlog_flagging.backlog_flag(case=report, by=None, reason="多次反映")
    return World(
        report=report,
        shared_report=shared_report,
        ordinary=ordinary,
        attachment=report.attachments.get(),
        backlog=backlog,
        users=users,
        tokens={k: api_token_issue(user=u, name="matrix") for k, u in users.items()},
    )


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if body[:2] == b"PK" and any(t in kind for t in DOC_TYPES):
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return "".join(
                z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
            )
    return body.decode("utf-8", "replace")


def _request(client, world: World, persona: str, name: str, route: Route):
    url = "/" if name == "" else reverse(name, kwargs=route.kwargs(world))
    headers = {}
    if route.api and persona in world.tokens:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[persona]}"
    data = route.data(world)
    if route.method == "post":
        if route.api:
            import json

            return client.post(url, json.dumps(data), content_type="application/json", **headers)
        return client.post(url, data, **headers)
    return client.get(url, data, **headers)


@pytest.mark.slow
@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_each_persona_on_every_route(client, world, persona):
    opens, sees = PERSONAS[persona]
    user = world.users.get(persona)
    leaks, errors, report_pages = [], [], {}
    if persona == "citizen":
        code = services.case_issue_query_code(case=world.report)
        followed = client.post("/portal/track/", {"number": world.report.number, "code": code})
        assert followed.status_code == 302
        assert world.report.number in _text(client.get(reverse("portal:case")))
    for name in sorted(ROUTES, key=lambda n: n == "logout"):  # log out last
        if user is not None:
            client.force_login(user)
        route = ROUTES[name]
        response = _request(client, world, persona, name, route)
        if response.status_code >= 500:
            errors.append(name)
            continue
        text = _text(response)
        found = [s for s in SECRETS if s in text]
        if persona in ACCUSED:  # nor may they learn that the reports exist
            found += [
                c.number
                for c in (world.report, world.shared_report)
                if c.number in text and c.number not in response.request["PATH_INFO"]
            ]
        if found and not sees:
            leaks.append((name, response.status_code, found))
        if route.report_page:
            report_pages[name] = response.status_code
    assert not errors, f"{persona}: HTTP 500 on {errors}"
    assert not leaks, f"{persona} got the complainant of a report against their unit: {leaks}"
    expected_open = {200} if opens else {302, 403, 404, 401}
    wrong = {n: code for n, code in report_pages.items() if code not in expected_open}
    assert not wrong, (
        f"{persona}: the report's own pages answered {wrong}, expected {expected_open}"
    )


@pytest.mark.parametrize("persona", sorted(p for p in PERSONAS if PERSONAS[p][0]))
def test_those_who_may_see_the_complainant_do(client, world, persona):
    client.force_login(world.users[persona])
    page = client.get(reverse("cases:detail", args=[world.report.pk])).content.decode()
    assert SECRET_NAME in page and SECRET_PHONE not in page  # the phone only after a reveal
    assert access.can_see_petitioner(world.users[persona], world.report)


def test_the_accused_unit_opens_the_ordinary_matter_but_never_reaches_the_report(client, world):
    for persona in sorted(ACCUSED):
        client.force_login(world.users[persona])
        page = client.get(reverse("cases:detail", args=[world.ordinary.pk])).content.decode()
        assert "孙同人" in page  # an ordinary matter: its handling unit sees who raised it
        assert world.shared_report.number not in page and world.shared_report.title not in page


def test_logging_in_works_for_a_persona(client, world):
    assert client.login(username=world.users["officer"].username, password=PASSWORD)
