"""督查督办 through the JSON API and the order list's JSON twin: the same scope as the pages (a
unit sees only the orders addressed to its subtree; the accused unit never gets one), and the
queue's rows say how often a matter was urged and how many orders on it are still open."""

from __future__ import annotations

import pytest

from tests.factories import bj, make_user, register
from xinfang.api.services import api_token_issue
from xinfang.cases import services
from xinfang.cases.models import Kind
from xinfang.orgs.models import Role
from xinfang.supervision import services as sup
from xinfang.supervision.models import SupervisionOrder

NAME = "张三"


@pytest.fixture
def world(county, people):
    """Two matters handled by 人社局 (one with 教育局 co-handling), a report against 住建局, and
    three orders: open and overdue (A), answered (B), on the matter co-handled, to 教育局 (C)."""
    m1 = register(county, people.clerk, bj(2026, 11, 2, 9), title="欠薪一")
    m1 = services.case_route(
        case=m1, by=people.clerk, unit=county.hr, co_units=[county.edu], at=bj(2026, 11, 2, 10)
    )
    m1 = services.case_accept(case=m1, by=people.officer, at=bj(2026, 11, 3, 9))
    m2 = register(county, people.clerk, bj(2026, 11, 2, 9), title="欠薪二")
    m2 = services.case_route(case=m2, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    report = register(
        county,
        people.clerk,
        bj(2026, 11, 2, 9),
        kind=Kind.ACCUSATION,
        accused_unit=county.housing,
        title="举报住建局",
    )
    report = services.case_route(
        case=report, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10)
    )
    a = sup.order_issue(
        case=m1,
        by=people.supervisor,
        requirements="查明欠薪数额",
        deadline_date=bj(2026, 11, 9).date(),
        at=bj(2026, 11, 4, 9),
    )
    b = sup.order_issue(
        case=m2,
        by=people.supervisor,
        requirements="书面反馈进展",
        deadline_date=bj(2030, 1, 7).date(),
        at=bj(2026, 11, 4, 9),
    )
    sup.order_feedback(order=b, by=people.officer, text="已督促企业支付", at=bj(2026, 11, 5, 9))
    c = sup.order_issue(
        case=m1,
        by=people.supervisor,
        requirements="协办单位核实学籍",
        unit=county.edu,
        deadline_date=bj(2030, 1, 7).date(),
        at=bj(2026, 11, 4, 10),
    )
    services.case_urge(case=m1, by=people.supervisor, note="请抓紧")
    services.case_urge(case=m1, by=people.supervisor, note="再次催办")
    return {"m1": m1, "m2": m2, "report": report, "a": a, "b": b, "c": c}


def api(client, user):
    token = api_token_issue(user=user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(path, data=None):
        return client.get(f"/api{path}", data or {}, **headers)

    def post(path, body):
        return client.post(f"/api{path}", body, content_type="application/json", **headers)

    return get, post


def ids(response):
    return [item["id"] for item in response.json()["items"]]


def test_the_queue_rows_carry_the_urges_and_the_open_orders(client, world, people):
    get, _ = api(client, people.officer)
    rows = {row["number"]: row for row in get("/cases").json()["items"]}
    m1, m2 = rows[world["m1"].number], rows[world["m2"].number]
    assert (m1["urge_count"], m2["urge_count"]) == (2, 0)
    # 人社局 counts its own order on m1 (not 教育局's) and the answered one on m2
    assert (m1["open_orders"], m2["open_orders"]) == (1, 1)
    get, _ = api(client, people.supervisor)
    rows = {row["number"]: row for row in get("/cases", {"scope": "lead"}).json()["items"]}
    assert rows[world["m1"].number]["open_orders"] == 2  # the supervisor sees both orders


def test_the_queue_rows_cost_one_query_for_the_orders(
    client, world, people, django_assert_max_num_queries
):
    get, _ = api(client, people.officer)
    get("/cases")  # warm the caches (unit tree, token)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        get("/cases")
    orders = [q for q in ctx.captured_queries if "supervision_supervisionorder" in q["sql"]]
    assert len(orders) == 1


def test_each_unit_lists_only_the_orders_addressed_to_it(client, world, people, county):
    a, b, c = world["a"].pk, world["b"].pk, world["c"].pk
    get, _ = api(client, people.supervisor)
    assert ids(get("/supervision/orders")) == [c, b, a]
    get, _ = api(client, people.officer)
    assert ids(get("/supervision/orders")) == [b, a]
    get, _ = api(client, people.outsider)  # 教育局 co-handles m1, but reads only its own order
    assert ids(get("/supervision/orders")) == [c]
    assert get(f"/supervision/orders/{a}").status_code == 404
    for user in (people.accused_officer, make_user("townsup", county.town, Role.SUPERVISOR)):
        get, _ = api(client, user)
        assert ids(get("/supervision/orders")) == []
        assert get(f"/supervision/orders/{b}").status_code == 404


def test_filters_state_unit_overdue_and_the_cursor(client, world, people, county):
    a, b, c = world["a"].pk, world["b"].pk, world["c"].pk
    get, _ = api(client, people.supervisor)
    assert ids(get("/supervision/orders", {"state": "answered"})) == [b]
    assert ids(get("/supervision/orders", {"state": "open"})) == [c, a]
    assert ids(get("/supervision/orders", {"unit": county.edu.pk})) == [c]
    assert ids(get("/supervision/orders", {"unit": county.county.pk})) == [c, b, a]  # the subtree
    assert ids(get("/supervision/orders", {"overdue": "true"})) == [a]  # 9 Nov 2026 has passed
    assert ids(get("/supervision/orders", {"overdue": "false"})) == [c, b]
    first = get("/supervision/orders", {"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [c, b] and first["next"] == b
    rest = get("/supervision/orders", {"limit": 2, "after": first["next"]}).json()
    assert [i["id"] for i in rest["items"]] == [a] and rest["next"] is None


def test_an_order_as_data_names_the_matter_never_the_petitioner(client, world, people):
    get, _ = api(client, people.officer)
    response = get(f"/supervision/orders/{world['a'].pk}")
    assert response.status_code == 200
    order = response.json()
    assert (
        order["case"]["number"] == world["m1"].number
        and order["unit"]["name"] == "A1区人力资源和社会保障局"
    )
    assert (
        order["state"] == "open" and order["state_label"] == "待反馈" and order["overdue"] is True
    )
    assert order["deadline_last_day"] == "2026-11-09" and order["deadline"].startswith(
        "2026-11-10T00:00:00+08:00"
    )
    assert order["can_feedback"] is True and order["can_close"] is False
    assert NAME not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"state": "nope"},
        {"unit": "abc"},
        {"unit": "9" * 40},
        {"overdue": "maybe"},
        {"limit": 0},
        {"limit": 10_000},
        {"after": -1},
    ],
)
def test_bad_filters_are_a_chinese_422(client, world, people, query):
    get, _ = api(client, people.supervisor)
    response = get("/supervision/orders", query)
    assert response.status_code == 422 and response.json()["detail"] == "请求参数不正确"


def test_feedback_and_close_through_the_api(client, world, people):
    a = world["a"]
    _, post = api(client, people.officer)
    assert post(f"/supervision/orders/{a.pk}/feedback", {"feedback": ""}).status_code == 422
    done = post(f"/supervision/orders/{a.pk}/feedback", {"feedback": "已核实欠薪两万元"})
    assert done.status_code == 200 and done.json()["state"] == "answered"
    again = post(f"/supervision/orders/{a.pk}/feedback", {"feedback": "再反馈"})
    assert again.status_code == 400 and "已反馈" in again.json()["detail"]
    assert (
        post(f"/supervision/orders/{a.pk}/close", {"accept": True, "note": "好"}).status_code == 403
    )

    _, post = api(client, people.supervisor)
    redo = post(f"/supervision/orders/{a.pk}/close", {"accept": False, "note": "过于简略"})
    assert (
        redo.status_code == 422
        and "退回重办须重新确定反馈期限" in redo.json()["errors"]["deadline"]
    )
    bad = post(
        f"/supervision/orders/{a.pk}/close",
        {"accept": False, "note": "过于简略", "deadline": "2030-02-30"},
    )
    assert bad.status_code == 422
    far = post(
        f"/supervision/orders/{a.pk}/close",
        {"accept": False, "note": "过于简略", "deadline": "9999-01-01"},
    )
    assert far.status_code == 422
    redo = post(
        f"/supervision/orders/{a.pk}/close",
        {"accept": False, "note": "过于简略", "deadline": "2030-01-05"},
    )
    assert redo.status_code == 200
    assert redo.json()["state"] == "open" and redo.json()["redo_count"] == 1
    assert redo.json()["deadline_last_day"] == "2030-01-07"  # Saturday the 5th moves to Monday

    _, post = api(client, people.officer)
    post(f"/supervision/orders/{a.pk}/feedback", {"feedback": "补充：已支付一万元"})
    _, post = api(client, people.supervisor)
    closed = post(f"/supervision/orders/{a.pk}/close", {"accept": True, "note": "办结"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert SupervisionOrder.objects.get(pk=a.pk).close_note == "办结"


def test_huge_or_foreign_ids_are_404_not_500(client, world, people):
    get, post = api(client, people.officer)
    assert get("/supervision/orders/" + "9" * 30).status_code in {404, 422}
    assert get(f"/supervision/orders/{world['c'].pk}").status_code == 404
    assert (
        post(f"/supervision/orders/{world['c'].pk}/feedback", {"feedback": "x"}).status_code == 404
    )


def test_the_paths_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/supervision/orders",
        "/api/supervision/orders/{order_id}",
        "/api/supervision/orders/{order_id}/feedback",
        "/api/supervision/orders/{order_id}/close",
    ):
        assert path in paths, path
    row = client.get("/api/openapi.json").json()["components"]["schemas"]["CaseRow"]["properties"]
    assert "urge_count" in row and "open_orders" in row


def test_the_order_list_page_has_a_json_twin(client, world, people):
    client.force_login(people.officer)
    data = client.get("/supervision/", {"format": "json"}).json()
    assert data["tab"] == "open" and [o["id"] for o in data["items"]] == [world["a"].pk]
    data = client.get("/supervision/", {"tab": "answered", "format": "json"}).json()
    assert data["tab_label"] == "待审核" and [o["id"] for o in data["items"]] == [world["b"].pk]
    assert NAME not in client.get("/supervision/", {"format": "json"}).content.decode()
    client.force_login(people.accused_officer)
    for tab in ("open", "overdue", "answered", "closed"):
        assert client.get("/supervision/", {"tab": tab, "format": "json"}).json()["items"] == []
