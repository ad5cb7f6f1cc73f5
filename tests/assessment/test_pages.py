"""The pages, their JSON/.xlsx/.docx twins and the API: who sees what, and documents that open."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from tests.assessment.conftest import NOW, Q1
from xinfang.api.services import api_token_issue
from xinfang.assessment import services


@pytest.fixture
def published(county, people, scheme, quarter):
    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    services.assessment_review(people.supervisor, a)
    return services.assessment_publish(people.supervisor, a)


def test_supervisor_computes_reviews_and_publishes_through_the_pages(
    client, county, people, scheme, quarter
):
    client.force_login(people.supervisor)
    response = client.post(
        reverse("assessment:compute"),
        {"from": "2026-01-01", "to": "2026-03-31", "scheme": scheme.pk},
    )
    assert response.status_code == 302
    pk = int(response["Location"].rstrip("/").split("/")[-1])
    page = client.get(reverse("assessment:detail", args=[pk])).content.decode()
    assert "草稿" in page and county.hr.name in page and "无数据" in page
    for action in ("review", "publish"):
        assert client.post(reverse("assessment:act", args=[pk, action])).status_code == 302
    data = client.get(reverse("assessment:detail", args=[pk]), {"format": "json"}).json()
    assert data["status"] == "published" and data["published_by"] == str(people.supervisor)
    assert (
        data["ranking"][0]["unit"]["name"] == county.hr.name and data["ranking"][0]["total"] == 71.5
    )


def test_a_unit_clerk_cannot_publish_nor_see_drafts(client, county, people, scheme, quarter):
    a = services.assessment_compute(people.supervisor, scheme, Q1, now=NOW)
    client.force_login(people.officer)
    assert client.get(reverse("assessment:detail", args=[a.pk])).status_code == 404
    assert client.post(reverse("assessment:act", args=[a.pk, "review"])).status_code == 404
    assert client.get(reverse("assessment:list"), {"format": "json"}).json() == {"assessments": []}
    client.force_login(people.clerk)
    response = client.post(
        reverse("assessment:compute"), {"from": "2026-01-01", "to": "2026-03-31"}
    )
    assert response.status_code == 302 and not a.__class__.objects.exclude(pk=a.pk).exists()


def test_a_unit_sees_the_published_ranking_and_only_its_own_breakdown(
    client, county, people, published
):
    client.force_login(people.officer)
    data = client.get(reverse("assessment:detail", args=[published.pk]), {"format": "json"}).json()
    rows = {r["unit"]["name"]: r for r in data["ranking"]}
    assert "items" in rows[county.hr.name] and "items" not in rows[county.edu.name]
    assert rows[county.edu.name]["rank"] == 2  # the ranking of units is public to them
    page = client.get(reverse("assessment:detail", args=[published.pk])).content.decode()
    assert "仅本单位可查看明细" in page
    assert (
        client.post(reverse("assessment:act", args=[published.pk, "recompute"])).status_code == 302
    )
    assert published.__class__.objects.count() == 1  # refused: no new draft


def test_xlsx_numbers_are_numbers_and_docx_opens(client, county, people, published):
    client.force_login(people.supervisor)
    response = client.get(reverse("assessment:detail", args=[published.pk]), {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:3] == ("名次", "单位", "总分")
    assert rows[2][:3] == (1, county.hr.name, 71.5) and isinstance(rows[2][3], int | float)
    assert ws.freeze_panes == "B3"
    response = client.get(reverse("assessment:detail", args=[published.pk]), {"format": "docx"})
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "考核结果" in text and doc.tables[0].rows[1].cells[1].text == county.hr.name
    assert doc.sections[0].top_margin.mm == pytest.approx(37, abs=0.5)


def test_the_record_page_lists_the_matters_behind_each_deduction(
    client, county, people, published, quarter
):
    client.force_login(people.supervisor)
    query = {
        "from": "2026-01-01",
        "to": "2026-03-31",
        "assessment": published.pk,
        "unit": county.hr.pk,
    }
    data = client.get(reverse("assessment:record"), {**query, "format": "json"}).json()
    counts = {i["item"]: i["count"] for i in data["items"]}
    line = published.lines.get(unit=county.hr)
    assert counts == {i["item"]: i["count"] for i in line.breakdown["items"]}
    overdue = next(i for i in data["items"] if i["item"] == "overdue_open")
    assert [m["number"] for m in overdue["matters"]] == [quarter["a3"].number]
    page = client.get(reverse("assessment:record"), query).content.decode()
    assert reverse("cases:detail", args=[quarter["a3"].pk]) in page
    ws = load_workbook(
        io.BytesIO(client.get(reverse("assessment:record"), {**query, "format": "xlsx"}).content)
    ).active
    assert sum(1 for _ in ws.iter_rows(min_row=3)) == sum(counts.values())
    Document(
        io.BytesIO(client.get(reverse("assessment:record"), {**query, "format": "docx"}).content)
    )


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-45"},
        {"to": "1999-01-01"},
        {"unit": "9" * 30},
        {"unit": "²"},
        {"assessment": "abc"},
        {"from": "2026-03-01", "to": "2026-01-01"},
    ],
)
def test_bad_queries_get_a_chinese_message_not_a_500(client, people, query):
    client.force_login(people.supervisor)
    response = client.get(reverse("assessment:record"), {**query, "format": "json"})
    assert response.status_code == 400 and response.json()["detail"] == "查询条件不正确"


def test_outside_units_and_huge_ids_are_404_or_refused(client, county, people, published):
    client.force_login(people.officer)
    response = client.get(reverse("assessment:record"), {"unit": county.edu.pk, "format": "json"})
    assert response.status_code == 400  # not a unit in the officer's scope
    assert client.get("/assessment/99999999999999999999/").status_code == 404
    assert client.get(reverse("assessment:scheme"), {"id": "9" * 40}).status_code == 404


def test_the_scheme_page_shows_weights_and_points(client, people, scheme):
    client.force_login(people.officer)
    page = client.get(reverse("assessment:scheme")).content.decode()
    assert "按期办结率" in page and "逾期未办结" in page and "越级" in page  # the promise not to
    data = client.get(reverse("assessment:scheme"), {"id": scheme.pk, "format": "json"}).json()
    assert [i["weight"] for i in data["indicators"]] == ["60.00", "40.00"]


def test_api_lists_and_shows_assessments_as_in_openapi(client, county, people, published):
    token = api_token_issue(user=people.officer, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/assessments", **auth).json()
    assert [a["id"] for a in listed["assessments"]] == [published.pk]
    one = client.get(f"/api/assessments/{published.pk}", **auth).json()
    assert one["status"] == "published" and one["ranking"][0]["total"] == 71.5
    assert client.get("/api/assessments/999999", **auth).status_code == 404
    assert client.get("/api/assessments/99999999999999999999999", **auth).status_code in {404, 422}
    assert client.get("/api/assessments").status_code == 401
    paths = json.loads(client.get("/api/openapi.json").content)["paths"]
    assert "/api/assessments" in paths and "/api/assessments/{assessment_id}" in paths


@pytest.mark.parametrize("scheme_id", ["9" * 30, "abc", "-1", "²"])
def test_a_bad_scheme_is_refused_in_chinese(client, people, scheme_id):
    client.force_login(people.supervisor)
    response = client.post(reverse("assessment:compute"), {"scheme": scheme_id}, follow=True)
    assert response.status_code == 200 and "没有这个考核方案" in response.content.decode()


def test_the_ranking_page_costs_the_same_queries_for_any_number_of_units(
    client, county, people, published, django_assert_max_num_queries
):
    client.force_login(people.supervisor)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("assessment:detail", args=[published.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("assessment:list")).status_code == 200
