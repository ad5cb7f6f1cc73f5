"""The citizen portal: submit, follow with a query code, rate, ask for review; nothing personal shown."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tests.factories import VALID_ID, VALID_PHONE, bj, register
from xinfang.cases import services
from xinfang.cases.models import Case, CaseEvent, Channel, Kind, Outcome, Rating, State
from xinfang.notify.models import CitizenContact, Outbox

NOW = bj(2026, 9, 16, 10)


@pytest.fixture(autouse=True)
def _portal(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.XINFANG_SMS_BACKEND = "memory"
    settings.XINFANG_PORTAL_OFFICE = ""
    cache.clear()
    yield
    cache.clear()


def travel(moment):
    return time_machine.travel(moment, tick=False)


def form_data(county, **kw):
    data = {
        "kind": Kind.APPEAL,
        "title": "小区门口道路破损",
        "content": "东湖街道某小区门口道路破损半年，雨天积水，请求修复。",
        "place": county.town_place.pk,
        "name": "李四",
        "phone": VALID_PHONE,
        "email": "lisi@example.com",
        "address": "东湖街道2号",
        "id_number": VALID_ID,
        "consent": "on",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def submit(client, county, **kw):
    return client.post("/portal/submit/", form_data(county, **kw))


def receipt(client):
    html = client.get("/portal/submit/done/").content.decode()
    number = re.search(r'id="case-number">([^<]+)<', html).group(1)
    code = re.search(r'id="query-code">([^<]+)<', html).group(1)
    return number, code


def follow(client, number, code, ip="10.0.0.1"):
    return client.post("/portal/track/", {"number": number, "code": code}, REMOTE_ADDR=ip)


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())


def issued(county, people, at=NOW, **kw):
    """A matter registered by the clerk, with a query code for the citizen."""
    case = register(county, people.clerk, at, **kw)
    return case, services.case_issue_query_code(case=case)


def login_citizen(client, case, code):
    response = follow(client, case.number, code)
    assert response.status_code == 302 and response["Location"] == "/portal/case/"


# ---------------------------------------------------------------- submitting


def test_home_and_form_are_in_chinese(client, county):
    assert "我要信访" in client.get("/portal/").content.decode()
    html = client.get("/portal/submit/").content.decode()
    assert (
        'name="viewport"' in html and "个人信息使用说明" in html and "csrfmiddlewaretoken" in html
    )


def test_a_valid_submission_is_registered_online_and_shows_number_and_code_once(client, county):
    with travel(NOW):
        response = submit(client, county)
        assert response.status_code == 302 and response["Location"] == "/portal/submit/done/"
        number, code = receipt(client)
    case = Case.objects.get()
    assert case.number == number and case.channel == Channel.ONLINE and case.office == county.office
    assert case.created_by is None and case.petitioner_name == "李四"
    assert services.case_check_query_code(case=case, code=code)
    # The receipt page showed it once; a second look shows no code.
    again = client.get("/portal/submit/done/").content.decode()
    assert code not in again and "只显示一次" in again
    # One receipt per contact, carrying number and code; no separate "registered" message.
    rows = list(Outbox.objects.order_by("channel"))
    assert [(r.channel, r.recipient, r.kind) for r in rows] == [
        ("email", "lisi@example.com", "submission"),
        ("sms", VALID_PHONE, "submission"),
    ]
    assert all(number in r.body and code in r.body and r.sensitive for r in rows)
    assert CitizenContact.objects.get().email == "lisi@example.com"


def test_the_configured_office_registers_portal_matters(client, county, settings):
    settings.XINFANG_PORTAL_OFFICE = county.hr.code
    with travel(NOW):
        submit(client, county)
    assert Case.objects.get().office == county.hr


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"consent": None}, "请阅读并勾选同意个人信息使用说明后再提交"),
        ({"title": ""}, "请填写标题"),
        ({"kind": ""}, "请选择事项类型"),
        ({"phone": "", "email": ""}, "请填写手机号码或电子邮箱"),
        ({"phone": "12345"}, "联系电话不是有效"),
        ({"id_number": "110105194912310021"}, "身份证号码校验位错误"),
        ({"email": "not-an-address"}, "电子邮箱格式不正确"),
        (
            {"anonymous": "on", "name": "", "kind": Kind.APPEAL},
            "只有建议意见、检举控告类事项可以匿名",
        ),
    ],
)
def test_invalid_submissions_say_why_in_chinese_and_save_nothing(
    client, county, change, field_error
):
    with travel(NOW):
        response = submit(client, county, **change)
    html = response.content.decode()
    assert response.status_code == 200 and field_error in html and "提交未成功" in html
    assert (
        not Case.objects.exists() and not Outbox.objects.exists() and not CaseEvent.objects.exists()
    )


def test_attachments_are_checked_against_the_upload_limits(client, county, settings):
    settings.XINFANG_MAX_ATTACHMENT_BYTES = 10
    with travel(NOW):
        bad_type = client.post(
            "/portal/submit/",
            {**form_data(county), "attachments": [SimpleUploadedFile("x.exe", b"MZ")]},
        )
        too_big = client.post(
            "/portal/submit/",
            {**form_data(county), "attachments": [SimpleUploadedFile("photo.jpg", b"x" * 11)]},
        )
        fine = client.post(
            "/portal/submit/",
            {
                **form_data(county),
                "attachments": [
                    SimpleUploadedFile("a.pdf", b"%PDF"),
                    SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n"),
                ],
            },
        )
    assert "类型不允许" in bad_type.content.decode()
    assert "单个附件不能超过" in too_big.content.decode()
    assert fine.status_code == 302
    assert sorted(Case.objects.get().attachments.values_list("name", flat=True)) == [
        "a.pdf",
        "b.png",
    ]


def test_an_anonymous_report_without_contact_is_accepted_and_sends_nothing(client, county):
    with travel(NOW):
        response = submit(
            client,
            county,
            kind=Kind.ACCUSATION,
            anonymous="on",
            name="",
            phone="",
            email="",
            address="",
            id_number="",
        )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.anonymous and case.petitioner_name == ""
    assert not Outbox.objects.exists()


def test_a_failure_after_registration_leaves_nothing_half_saved(client, county, monkeypatch):
    from xinfang.notify import services as notify

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(notify, "queue_submission_receipt", broken)
    client.raise_request_exception = False
    with travel(NOW):
        response = submit(client, county)
    assert response.status_code == 500
    assert (
        not Case.objects.exists() and not CaseEvent.objects.exists() and not Outbox.objects.exists()
    )


# ---------------------------------------------------------------- following with the code


def test_a_wrong_code_and_a_wrong_number_give_the_same_answer(client, county, people):
    case, code = issued(county, people)
    wrong_code = follow(client, case.number, "ABCDEFGHJK")
    wrong_number = follow(client, "XF430102-2026-999999", code)
    assert wrong_code.status_code == wrong_number.status_code == 200
    assert "事项编号或查询码不正确" in wrong_code.content.decode()
    assert without_csrf(wrong_code.content) == without_csrf(wrong_number.content)
    assert "portal_case" not in client.session


def test_a_wrong_number_still_computes_a_digest(client, county, people, monkeypatch):
    """The same work whether the number exists or not: its timing tells nothing."""
    from xinfang.cases import querycode

    calls = []
    real = querycode.salted_hmac
    monkeypatch.setattr(querycode, "salted_hmac", lambda *a, **k: calls.append(1) or real(*a, **k))
    follow(client, "NO-SUCH-NUMBER", "ABCDEFGHJK")
    assert calls == [1]


def test_lookups_are_rate_limited_per_address_and_braked_per_number(
    client, county, people, settings
):
    settings.XINFANG_PORTAL_RATE_LIMIT = 3
    settings.XINFANG_PORTAL_LOOKUP_BRAKE = 3
    case, code = issued(county, people)
    for i in range(3):
        assert follow(client, f"XF-{i}", "WRONG", ip="10.0.0.9").status_code == 200
    blocked = follow(client, case.number, code, ip="10.0.0.9")
    assert blocked.status_code == 429 and "尝试次数过多，请稍后再试" in blocked.content.decode()
    assert "portal_case" not in client.session
    # One number tried from many addresses is braked: an address that tried it waits...
    for i in range(3):
        follow(client, "XF430102-2026-000777", "WRONG", ip=f"10.1.0.{i}")
    assert follow(client, "XF430102-2026-000777", "WRONG", ip="10.1.0.1").status_code == 429
    # ...but is never locked (issue 12): a new address gets its try.
    assert follow(client, "XF430102-2026-000777", "WRONG", ip="10.2.0.1").status_code == 200
    # Another address and another number are still served.
    assert follow(client, case.number, code, ip="10.3.0.1").status_code == 302


def test_the_right_code_opens_the_case_page_without_the_code_in_the_url(client, county, people):
    case, code = issued(county, people)
    response = follow(client, case.number, code.lower())
    assert response.status_code == 302 and response["Location"] == "/portal/case/"
    html = client.get("/portal/case/").content.decode()
    assert case.number in html and "事项已登记" in html and code not in html


def test_the_case_page_needs_a_lookup_first(client, county, people):
    issued(county, people)
    response = client.get("/portal/case/")
    assert response.status_code == 302 and response["Location"] == "/portal/track/"
    assert client.get("/portal/case/notices/accept.docx").status_code == 302
    assert client.post("/portal/case/rate/", {"rating": "satisfied"}).status_code == 302
    assert not Case.objects.exclude(rating="").exists()


def test_lookup_only_accepts_post(client, county, people):
    case, code = issued(county, people)
    response = client.get("/portal/track/", {"number": case.number, "code": code})
    assert response.status_code == 200 and "portal_case" not in client.session


# ---------------------------------------------------------------- the public page


def replied_case(county, people, reply_text="经调查，已责成公司支付。"):
    case, code = issued(county, people)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 30, 9))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 10, 9, 9))
    case = services.case_extend(
        case=case, by=people.head, days=10, reason="需要补充调查", at=bj(2026, 10, 20, 9)
    )
    case = services.case_reply(
        case=case,
        by=people.officer,
        outcome=Outcome.SUPPORTED,
        text=reply_text,
        at=bj(2026, 11, 1, 9),
    )
    return case, code


def test_the_public_page_shows_the_timeline_deadlines_and_notices(client, county, people):
    case, code = replied_case(county, people)
    with travel(bj(2026, 11, 5, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
    for text in [
        "事项已登记",
        "已转送A1区人力资源和社会保障局办理",
        "A1区人力资源和社会保障局已受理",
        "办理期限延长10日",
        "延期理由：需要补充调查",
        "处理结果：支持",
        "经调查，已责成公司支付。",
        "受理告知书",
        "延期告知书",
        "处理意见书",
    ]:
        assert text in html, text
    # Deadlines owed and whether they were met: routed on the last day, accepted on time...
    rows = re.findall(
        r"<tr><td>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td><span class=\"badge st-(\w+)\">",
        html,
        re.S,
    )
    assert [(label.split("（")[0], day, status) for label, day, status in rows] == [
        ("登记后15日内转送、交办", "2026年10月8日", "met"),
        ("收到后15日内决定是否受理", "2026年10月15日", "met"),
        ("受理后60日内办结并答复", "2026年12月18日", "met"),
    ]
    assert "已延期10日" in html
    assert "申请复查的最后一日：2026年12月1日" in html


def test_a_missed_deadline_is_shown_as_missed(client, county, people):
    case, code = issued(county, people)
    # Registered 16 Sept, due 8 Oct; routed on 10 Oct: late.
    services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 10, 10, 9))
    with travel(bj(2026, 10, 11, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
    assert "超期完成" in html and "办理中" in html


def test_no_personal_data_on_public_pages(client, county, people):
    text = (
        f"张三同志：经调查，已责成公司支付。如有疑问请拨打{VALID_PHONE}，身份证{VALID_ID}已核实。"
    )
    case, code = replied_case(county, people, reply_text=text)
    with travel(bj(2026, 11, 5, 9)):
        login_citizen(client, case, code)
        pages = [
            client.get(url).content.decode()
            for url in ("/portal/", "/portal/track/", "/portal/case/", "/portal/submit/done/")
        ]
    for html in pages:
        for secret in (
            "张三",
            VALID_PHONE,
            VALID_ID,
            "A1区东湖街道1号",
            "经办人小李",
            "人社局张局长",
            "登记员小王",
        ):
            assert secret not in html, secret
    assert "已责成公司支付" in pages[2]


def snapshot():
    tables = ["cases_case", "cases_caseevent", "notify_outbox", "cases_casecounter"]
    with connection.cursor() as cursor:
        return {t: cursor.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}  # noqa: S608 - fixed table names


def test_get_never_changes_anything(client, county, people):
    case, code = replied_case(county, people)
    with travel(bj(2026, 11, 5, 9)):
        login_citizen(client, case, code)
        before = snapshot()
        for url in (
            "/portal/",
            "/portal/submit/",
            "/portal/track/",
            "/portal/case/",
            "/portal/case/notices/reply.docx",
            "/portal/case/notices/accept.docx",
            "/portal/case/rate/?rating=satisfied",
            "/portal/case/review/?reason=x",
            "/portal/case/leave/",
        ):
            assert client.get(url).status_code in {200, 405}, url
        assert snapshot() == before
        assert client.session["portal_case"] == case.pk


def test_notices_download_as_word_documents(client, county, people):
    case, code = replied_case(county, people)
    with travel(bj(2026, 11, 5, 9)):
        login_citizen(client, case, code)
        response = client.get("/portal/case/notices/reply.docx")
        missing = client.get("/portal/case/notices/review.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "attachment;" in response["Content-Disposition"]
    assert missing.status_code == 404


def test_rate_once_then_ask_for_review_within_the_window(client, county, people):
    case, code = replied_case(county, people)
    with travel(bj(2026, 11, 5, 9)):
        login_citizen(client, case, code)
        response = client.post(
            "/portal/case/rate/", {"rating": Rating.UNSATISFIED, "comment": "金额不对"}
        )
        assert response.status_code == 302
        again = client.post("/portal/case/rate/", {"rating": Rating.SATISFIED}, follow=True)
        assert "已评价" in again.content.decode()
        html = client.get("/portal/case/").content.decode()
        assert 'id="rate-form"' not in html and "您的评价" in html
        response = client.post("/portal/case/review/", {"reason": "赔偿金额计算有误"}, follow=True)
    case.refresh_from_db()
    assert case.rating == Rating.UNSATISFIED and case.state == State.REVIEWING
    assert case.review_unit == county.county
    assert (
        "复查申请已提交" in response.content.decode() and "已申请复查" in response.content.decode()
    )
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["case.rated", "case.review_requested"]
    assert case.events.get(kind="case.review_requested").actor is None


def test_rereview_after_the_review_decision(client, county, people):
    case, code = replied_case(county, people)
    case = services.case_request_review(case=case, by=None, reason="不服", at=bj(2026, 11, 3, 9))
    services.case_decide_review(
        case=case,
        by=people.reviewer,
        outcome=Outcome.SUPPORTED,
        text="维持原处理意见",
        at=bj(2026, 11, 10, 9),
    )
    with travel(bj(2026, 11, 12, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
        assert "申请复核的最后一日：2026年12月10日" in html and "已作出复查意见" in html
        client.post("/portal/case/rereview/", {"reason": "仍然不服"})
        wrong = client.post("/portal/case/review/", {"reason": "再查一次"}, follow=True)
    case.refresh_from_db()
    assert case.state == State.REREVIEWING and case.rereview_unit == county.city
    assert "当前不能申请复查" in wrong.content.decode()


def test_a_closed_window_hides_the_form_and_refuses_the_request(client, county, people):
    case, code = replied_case(county, people)  # replied 1 Nov: last day to ask is 1 Dec
    with travel(bj(2026, 12, 2, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
        assert 'id="review-form"' not in html
        assert "申请复查的期限已于2026年12月1日届满" in html
        response = client.post("/portal/case/review/", {"reason": "晚了也想申请"}, follow=True)
    assert "申请复查的期限已于2026年12月1日届满，不能再申请" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REPLIED


def test_a_window_closed_and_finalized_still_shows_its_last_day(client, county, people):
    case, code = replied_case(county, people)
    services.finalize_expired(now=bj(2026, 12, 3, 1))
    case.refresh_from_db()
    assert case.state == State.FINAL
    with travel(bj(2026, 12, 3, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
        response = client.post("/portal/case/review/", {"reason": "x"}, follow=True)
    assert "申请复查的期限已于2026年12月1日届满" in html and 'id="review-form"' not in html
    assert "事项办结" in html
    assert "2026年12月1日届满，不能再申请" in response.content.decode()


def test_a_declined_matter_shows_why_and_the_proper_channel(client, county, people):
    case, code = issued(county, people)
    services.case_decline(
        case=case,
        by=people.clerk,
        reason="属于劳动争议仲裁范围",
        proper_channel="向A1区劳动人事争议仲裁委员会申请仲裁",
        at=bj(2026, 9, 20, 9),
    )
    with travel(bj(2026, 9, 21, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
    assert "不予受理" in html and "理由：属于劳动争议仲裁范围" in html
    assert "向A1区劳动人事争议仲裁委员会申请仲裁" in html and 'id="rate-form"' not in html


def test_private_events_stay_private(client, county, people):
    case, code = issued(county, people)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 18, 9))
    services.case_urge(case=case, by=people.supervisor, note="内部催办意见", at=bj(2026, 9, 19, 9))
    with travel(bj(2026, 9, 20, 9)):
        login_citizen(client, case, code)
        html = client.get("/portal/case/").content.decode()
    assert "内部催办意见" not in html and "催办" not in html


def test_the_public_timeline_scrubs_numbers_in_any_form(client, county, people):
    """The portal uses the same scrubber as Open311 (full-width, dotted and spaced numbers)."""
    case, code = issued(county, people)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr)
    case = services.case_accept(case=case, by=people.officer)
    services.case_reply(
        case=case,
        by=people.officer,
        outcome="supported",
        text="已联系 138.0013.8000 及 １３９００００１１１１，身份证 1101 0519 4912 3100 2X 已核实。",
    )
    login_citizen(client, case, code)
    page = client.get("/portal/case/").content.decode()
    assert "已隐去" in page
    for leaked in ("138.0013.8000", "１３９００００１１１１", "1101 0519 4912 3100 2X"):
        assert leaked not in page
