"""The staff pages render and drive the workflow through real requests."""

from django.urls import reverse

from tests.factories import PASSWORD, bj, register
from xinfang.cases.models import Case, State
from xinfang.orgs.models import PersonalDataView


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_clerk_registers_through_the_form_and_sees_it_in_the_queue(client, county, people):
    login(client, people.clerk)
    response = client.post(
        reverse("cases:register"),
        {
            "channel": "visit",
            "kind": "appeal",
            "title": "小区物业乱收费",
            "content": "物业公司多收停车费。",
            "place": county.place.pk,
            "category": county.wages.pk,
            "petitioner_name": "李四",
            "petitioner_id_number": "11010519491231002X",
            "petitioner_phone": "13812345678",
            "group_size": 1,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])
    # The query code is shown once, to hand to the petitioner, and only its hash is kept.
    shown = client.get(response.url).content.decode()
    code = shown.split("查询码 ", 1)[1][:10]
    from xinfang.cases import services

    assert services.case_check_query_code(case=case, code=code)
    assert code not in client.get(response.url).content.decode()
    page = client.get(reverse("cases:queue")).content.decode()
    assert case.number in page and "138****5678" in page and "13812345678" not in page


def test_a_wrong_check_digit_is_refused_with_a_chinese_message(client, county, people):
    login(client, people.clerk)
    response = client.post(
        reverse("cases:register"),
        {
            "channel": "visit",
            "kind": "appeal",
            "title": "t",
            "content": "c",
            "place": county.place.pk,
            "petitioner_name": "李四",
            "petitioner_id_number": "110105194912310021",
            "petitioner_phone": "13812345678",
            "group_size": 1,
        },
    )
    assert response.status_code == 200
    assert "身份证号码校验位错误" in response.content.decode()
    assert not Case.objects.exists()


def test_officer_accepts_from_the_case_page(client, county, people):
    from xinfang.cases import services

    case = register(county, people.clerk, bj(2026, 11, 1, 9))
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    login(client, people.officer)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-action="accept"' in page and 'data-action="route"' not in page
    assert (
        not PersonalDataView.objects.exists()
    )  # a GET shows masked numbers and writes no audit row
    client.post(reverse("cases:act", args=[case.pk, "accept"]), {"version": case.version})
    case.refresh_from_db()
    assert case.state == State.ACCEPTED
    # A second accept with the old version is refused: the matter changed.
    response = client.post(
        reverse("cases:act", args=[case.pk, "accept"]), {"version": 1}, follow=True
    )
    assert "已被他人修改" in response.content.decode() or "不能进行" in response.content.decode()


def test_outsider_gets_404(client, county, people):
    case = register(county, people.clerk, bj(2026, 11, 1, 9))
    login(client, people.outsider)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_clerk_imports_a_ledger_and_sees_row_errors(client, county, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinfang.ledger.columns import ledger_template

    login(client, people.clerk)
    template = client.get(reverse("cases:import"), {"template": 1})
    assert template.status_code == 200 and template.content[:2] == b"PK"
    upload = SimpleUploadedFile("台帐.xlsx", ledger_template())
    page = client.post(reverse("cases:import"), {"file": upload}).content.decode()
    assert "已导入" in page and Case.objects.count() == 1
    broken = SimpleUploadedFile("坏文件.xlsx", b"not a workbook")
    page = client.post(reverse("cases:import"), {"file": broken}).content.decode()
    assert "未导入" in page and Case.objects.count() == 1


def test_queue_exports_what_the_user_sees_as_xlsx(client, county, people):
    import io

    import openpyxl

    register(county, people.clerk, bj(2026, 11, 1, 9))
    login(client, people.clerk)
    response = client.get(reverse("cases:export"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "事项编号" and len(rows) == 2
    assert "138****5678" in rows[1]


def test_an_impossible_date_filter_is_reported_and_the_other_filters_still_apply(
    client, county, people
):
    register(county, people.clerk, bj(2026, 11, 1, 9))
    login(client, people.clerk)
    response = client.get(reverse("cases:queue"), {"date_to": "9999-12-31", "q": "欠薪"})
    page = response.content.decode()
    assert response.status_code == 200 and "日期超出范围" in page
    assert "XF430102-2026-000001" in page


def test_a_hidden_matter_answers_with_a_chinese_not_found_page(client, county, people):
    case = register(county, people.clerk, bj(2026, 11, 1, 9))
    login(client, people.outsider)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 404
    assert "没有找到该事项，或您无权查看" in response.content.decode()
